import type { Node, NodeStatus } from 'node-red';

/**
 * A node's status, sent only when it changes: each node.status goes to the
 * editor's comms and to every status node, so the same fill, shape and text
 * again is not sent.
 */
export function statusSetter(node: Pick<Node, 'status'>): (status: NodeStatus) => void {
  let fill: unknown;
  let shape: unknown;
  let text: unknown;
  let shown = false;
  return (status) => {
    if (shown && status.fill === fill && status.shape === shape && status.text === text) return;
    shown = true;
    fill = status.fill;
    shape = status.shape;
    text = status.text;
    node.status(status);
  };
}
