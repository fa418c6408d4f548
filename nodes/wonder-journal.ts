import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ValidationError } from '../lib/protocol';
import { translatedError } from './common/i18n';
import { newestEntries, terminalLabel, totalsOf } from './common/journal-answers';
import { DEFAULT_LIST_LIMIT, findTerminal, parseJournalRequest } from './common/journal-request';
import { runtimeJournalSource } from './common/runtime-journal-source';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './common/terminal-registry';

interface JournalDef extends NodeDef {
  terminal?: string;
  operation?: string;
}

type Msg = NodeMessageInFlow & { journal?: Record<string, unknown> };

/** This node's message catalog (locales/<lang>/wonder-journal.json); the shared one for the rest. */
const JNS = 'node-red-contrib-wonder-ecr/wonder-journal';
const status = (key: string) => `${JNS}:status.${key}`;

/**
 * wonder-journal: the payment journal for automation (an end-of-day e-mail,
 * a dashboard). `msg.payload = {operation: "totals" | "open" | "list", …}`
 * → `msg.payload` the answer: totals rows (exact decimal strings) or entries,
 * newest first. Reads only; a payment in flight is not touched.
 */
export = function register(RED: NodeAPI): void {
  function WonderJournalNode(this: Node, config: JournalDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const configured = typeof config.terminal === 'string' && config.terminal !== '' ? config.terminal : undefined;

    /** The terminals asked about: msg's terminal, else the node's, else every deployed one. */
    const terminalsFor = (asked: string | undefined): RegisteredTerminal[] => {
      if (asked !== undefined) {
        const found = findTerminal(asked);
        if (found === undefined) throw new ValidationError('terminal', `no deployed wonder-terminal has the id or name ${JSON.stringify(asked.slice(0, 64))}`);
        return [found];
      }
      if (configured !== undefined) {
        const found = registeredTerminal(configured);
        if (found === undefined) throw new ValidationError('terminal', 'the terminal chosen in this node is not deployed (disabled, or its config is invalid)');
        return [found];
      }
      return registeredTerminals();
    };

    node.on('input', async (msg: Msg, send, done) => {
      try {
        const req = parseJournalRequest(msg.payload, config.operation);
        const terminals = terminalsFor(req.terminal);
        const period = { ...(req.from === undefined ? {} : { from: req.from }), ...(req.to === undefined ? {} : { to: req.to }) };
        // The admin API's reader (one per runtime): files read asynchronously in slices, periods kept up to date.
        const source = runtimeJournalSource(RED);
        let answer: unknown[];
        let truncated = false;
        if (req.operation === 'totals') {
          const byId = new Map(terminals.map((t) => [t.id, t]));
          // A terminal's rows are its config node's, whatever name its older entries carry.
          answer = await totalsOf(source.readersOf(terminals, period), period, (reader) => reader.terminal!.id, (id) => byId.get(id));
          node.status({ fill: 'green', shape: 'dot', text: status('totals') });
        } else {
          const { operation: _op, terminal: _t, limit: asked, ...q } = req;
          if (req.operation === 'open') q.state = 'open';
          const limit = asked ?? (req.operation === 'list' ? DEFAULT_LIST_LIMIT : undefined);
          const found = await newestEntries(source.readersOf(terminals, q), q, limit ?? Infinity);
          truncated = limit !== undefined && found.count > limit;
          // Labelled as the admin API labels its rows, `terminal` the config node's id (the journal is the terminal's, whatever name an entry carries).
          answer = found.entries.map(({ e, t }) => ({ ...e, terminal: t!.id, ...terminalLabel(t) }));
          const open = req.operation === 'open' && answer.length > 0;
          node.status(open ? { fill: 'yellow', shape: 'ring', text: status('open') } : { fill: 'green', shape: 'dot', text: status(req.operation === 'open' ? 'noneOpen' : 'list') });
        }
        msg.payload = answer;
        msg.journal = {
          operation: req.operation,
          terminals: terminals.map((t) => ({ id: t.id, name: t.name })),
          ...period,
          count: answer.length,
          ...(req.operation === 'totals' ? {} : { truncated }),
        };
        send(msg);
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: status('error') });
        done(translatedError(RED, err, JNS));
      }
    });
  }
  RED.nodes.registerType('wonder-journal', WonderJournalNode);
};
