import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ValidationError } from '../lib/protocol';
import { journalTotals, queryJournal, type JournalEntry } from '../lib/session';
import { translatedError } from './common/i18n';
import { findTerminal, terminalJournalEntries } from './common/journal-sources';
import { DEFAULT_LIST_LIMIT, parseJournalRequest } from './common/journal-request';
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

    node.on('input', (msg: Msg, send, done) => {
      try {
        const req = parseJournalRequest(msg.payload, config.operation);
        const terminals = terminalsFor(req.terminal);
        const period = { ...(req.from === undefined ? {} : { from: req.from }), ...(req.to === undefined ? {} : { to: req.to }) };
        const entries: JournalEntry[] = [];
        for (const t of terminals) for (const e of terminalJournalEntries(t, period)) entries.push(e);
        let answer: unknown[];
        let truncated = false;
        if (req.operation === 'totals') {
          answer = journalTotals(entries, period);
          node.status({ fill: 'green', shape: 'dot', text: status('totals') });
        } else {
          const { operation: _op, terminal: _t, ...q } = req;
          if (req.operation === 'open') q.state = 'open';
          const limit = q.limit ?? (req.operation === 'list' ? DEFAULT_LIST_LIMIT : undefined);
          const found = queryJournal(entries, { ...q, ...(limit === undefined ? {} : { limit: limit + 1 }) });
          truncated = limit !== undefined && found.length > limit;
          answer = truncated ? found.slice(0, limit) : found;
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
