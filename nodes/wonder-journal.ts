import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ValidationError } from '../lib/protocol';
import { periodBounds, type ReadQuery } from '../lib/ledger';
import { translatedError } from './common/i18n';
import { newestRows, runtimeLedgerReader, terminalLabel, terminalsOf, totalsOf } from './common/ledger-answers';
import { DEFAULT_LIST_LIMIT, findTerminal, parseJournalRequest } from './common/journal-request';
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
        // The runtime's ledger reader (the admin API's too): each ask one query on its worker thread.
        const reader = runtimeLedgerReader(RED);
        const { from, to } = periodBounds(period);
        const query: ReadQuery = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), terminals: terminalsOf(terminals) };
        let answer: unknown[];
        let truncated = false;
        if (req.operation === 'totals') {
          // A terminal's rows are its config node's, whatever name its older payments carry.
          const asked = new Set(terminals.map((t) => t.id));
          // (A payment of one terminal asked about that names no deployed one, a terminal moved to a new place say: that terminal's.)
          const own = (t: RegisteredTerminal | undefined) => (t !== undefined && asked.has(t.id) ? t : terminals.length === 1 ? terminals[0] : undefined);
          answer = await totalsOf(reader, query, (t, terminal) => {
            const label = own(t);
            return { name: label?.id ?? terminal, label };
          });
          node.status({ fill: 'green', shape: 'dot', text: status('totals') });
        } else {
          if (req.operation === 'open') query.state = 'open';
          if (req.state !== undefined) query.state = req.state;
          if (req.result !== undefined) query.result = req.result;
          const limit = req.limit ?? (req.operation === 'list' ? DEFAULT_LIST_LIMIT : undefined);
          const found = await newestRows(reader, query, limit ?? Infinity);
          truncated = limit !== undefined && found.count > limit;
          // Labelled as the admin API labels its rows, `terminal` the config node's id (the payment is the terminal's, whatever name it carries).
          const byId = new Map(terminals.map((t) => [t.id, t]));
          answer = found.rows.map(({ row, t }) => {
            const own = t !== undefined && byId.has(t.id) ? t : terminals.length === 1 ? terminals[0] : t;
            return { ...row.entry, terminal: own?.id ?? row.entry.terminal, ...terminalLabel(own) };
          });
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
