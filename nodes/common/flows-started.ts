import type { NodeAPI } from 'node-red';

type Events = NodeAPI['events'];

/** Per runtime (its events), the nodes waiting for each start of the flows. */
const waiting = new WeakMap<Events, Set<() => void>>();

/**
 * Calls `fn` each time the runtime's flows have started, until the returned
 * function is called (at the node's close). One listener per runtime serves
 * every node: a listener per node would make Node.js warn of a leak in the
 * log once a flow holds more than ten of them.
 */
export function onFlowsStarted(events: Events, fn: () => void): () => void {
  let fns = waiting.get(events);
  if (fns === undefined) {
    const set = new Set<() => void>();
    fns = set;
    waiting.set(events, set);
    events.on('flows:started', () => {
      for (const f of [...set]) f();
    });
  }
  fns.add(fn);
  return () => {
    fns.delete(fn);
  };
}
