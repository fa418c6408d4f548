/**
 * The runtime part of the "Wonder" editor plugin: the admin HTTP API the
 * sidebar (and fleet tools) read, on Node-RED's admin server, behind its
 * authentication: reading needs `wonder-ecr.read`, acting `wonder-ecr.write`.
 *
 *   GET  /wonder-ecr/terminals                 every deployed terminal
 *   GET  /wonder-ecr/journal?terminal&from&to&state&result&limit&format
 *   GET  /wonder-ecr/totals?terminal&from&to&format
 *   POST /wonder-ecr/terminals/:id/check       TransactionStatus now (JSON body {referenceID?})
 *   GET  /wonder-ecr/terminals/:id/trace       the redacted trace (?bundle=1: the support bundle)
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { jsonOnly } from './common/pair-guard';
import { registeredTerminal, registeredTerminals } from './common/terminal-registry';
import { terminalView } from './common/admin-terminals';
import { AdminParamError, flagParam, journalParams } from './common/admin-params';
import { CheckGuard, CheckRefused, checkAll, checkOne } from './common/admin-check';
import { csvFileName, journalTotalsFor, sendJournalCsv, sendJournalRows } from './common/admin-queries';
import { runtimeLedgerReader } from './common/ledger-answers';
import { askerOf, HeavyReads, tooManyReads } from './common/admin-heavy';
import { supportBundle } from './common/support-bundle';
import { forbiddenWithout } from './common/admin-permission';

type Handler = (req: Request, res: Response) => void | Promise<void>;

/** Answers a handler's AdminParamError with 400 naming the parameter, any other error with 500. */
function guarded(RED: NodeAPI, handler: Handler): Handler {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (err instanceof AdminParamError) {
        res.status(400).json({ ok: false, code: 'E_PARAMETER', parameter: err.parameter, message: err.message });
      } else if (err instanceof CheckRefused) {
        res.status(err.status).json({ ok: false, code: err.code, message: err.message });
      } else {
        RED.log.warn(`wonder-ecr admin: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.status(500).json({ ok: false, code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) });
        // A streamed answer cut short: the connection is dropped, so the client sees it unfinished, never a short list taken for whole.
        else res.destroy();
      }
    }
  };
}

/** A terminal by its config node id, or 404. */
function terminalOr404(req: Request, res: Response) {
  const id = String(req.params.id ?? '');
  const found = registeredTerminal(id);
  if (found === undefined) res.status(404).json({ ok: false, code: 'E_NOT_FOUND', parameter: 'id', message: `id: no deployed terminal ${id.slice(0, 80)}` });
  return found;
}

/** How often the sidebar refreshes while shown: settings.js `wonderEcr.sidebarRefreshSeconds` (1 to 300), else 5; a bad value is logged. */
function sidebarRefreshSeconds(RED: NodeAPI): number {
  const value = (RED.settings as { wonderEcr?: { sidebarRefreshSeconds?: unknown } }).wonderEcr?.sidebarRefreshSeconds;
  if (value === undefined) return 5;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= 300) return value;
  RED.log.warn(`wonder-ecr: settings wonderEcr.sidebarRefreshSeconds must be a number of seconds from 1 to 300; the sidebar refreshes every 5 s`);
  return 5;
}

export = function register(RED: NodeAPI): void {
  // The runtime's ledger reader (its worker thread), shared with the wonder-journal nodes.
  const reader = runtimeLedgerReader(RED);
  // One list, totals or CSV per user at a time.
  const heavy = new HeavyReads();
  /** Runs a heavy read as the asker's one, or answers 429. */
  const asHeavy = (handler: Handler): Handler => async (req, res) => {
    const asker = askerOf(req);
    const running = heavy.tryRun(asker, async () => {
      await handler(req, res);
    });
    if (running === false) tooManyReads(res, heavy.retryAfter(asker));
    else await running;
  };
  const checks = new CheckGuard();
  const refreshSeconds = sidebarRefreshSeconds(RED);
  const read = RED.auth.needsPermission('wonder-ecr.read');
  // Acting: logged in (read), told 403 without the write permission, then Node-RED's own guard.
  const hasAdminAuth = () => (RED.settings as { adminAuth?: unknown }).adminAuth !== undefined;
  const write = [read, forbiddenWithout('wonder-ecr.write', hasAdminAuth), RED.auth.needsPermission('wonder-ecr.write')];
  const admin = RED.httpAdmin;

  admin.get(
    '/wonder-ecr/terminals',
    read,
    guarded(RED, (_req, res) => {
      res.json({ at: new Date().toISOString(), refreshSeconds, terminals: registeredTerminals().map(terminalView) });
    }),
  );

  admin.get(
    '/wonder-ecr/journal',
    read,
    guarded(
      RED,
      asHeavy(async (req, res) => {
        const params = journalParams(req.query as Record<string, unknown>);
        if (params.format === 'csv') await sendJournalCsv(reader, params, res, csvFileName(params));
        else await sendJournalRows(reader, params, res);
      }),
    ),
  );

  admin.get(
    '/wonder-ecr/totals',
    read,
    guarded(
      RED,
      asHeavy(async (req, res) => {
        const params = journalParams(req.query as Record<string, unknown>);
        // The period's payments, one a row: what a spreadsheet reconciles against the acquirer's report.
        if (params.format === 'csv') await sendJournalCsv(reader, { ...params, state: undefined, result: undefined }, res, csvFileName(params));
        else res.json({ at: new Date().toISOString(), from: params.from ?? null, to: params.to ?? null, totals: await journalTotalsFor(reader, params) });
      }),
    ),
  );

  admin.post(
    '/wonder-ecr/terminals/:id/check',
    ...write,
    jsonOnly,
    guarded(RED, async (req, res) => {
      const terminal = terminalOr404(req, res);
      if (terminal === undefined) return;
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { referenceID?: unknown };
      if (body.referenceID !== undefined && (typeof body.referenceID !== 'string' || body.referenceID === '' || body.referenceID.length > 64)) {
        throw new AdminParamError('referenceID', 'must be a payment reference of 1 to 64 characters');
      }
      const handle = terminal.handle;
      if (handle.session === undefined) throw new CheckRefused(409, 'E_CONFIG', 'the terminal is not configured; nothing can be asked');
      if (handle.payments === undefined) throw new CheckRefused(409, 'E_JOURNAL', 'the terminal has no journal');
      const referenceID = body.referenceID as string | undefined;
      const audit = (outcome: string) =>
        RED.log.audit({ event: 'wonder-ecr.check', terminal: terminal.id, ...(referenceID !== undefined ? { referenceID } : {}), outcome } as never, req as never);
      const checked = await checks.run(terminal.id, async () => (referenceID !== undefined ? [await checkOne(handle, referenceID)] : checkAll(handle)));
      audit(`checked ${checked.length}, settled ${checked.filter((c) => c.settled).length}`);
      res.json({ ok: true, terminal: terminal.id, checked, openPayments: handle.openPayments().length });
    }),
  );

  admin.get(
    '/wonder-ecr/terminals/:id/trace',
    read,
    guarded(RED, (req, res) => {
      const bundle = flagParam(req.query as Record<string, unknown>, 'bundle');
      const terminal = terminalOr404(req, res);
      if (terminal === undefined) return;
      if (bundle) {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        res.set('Content-Disposition', `attachment; filename="wonder-ecr-support-${terminal.id.replace(/[^\w.-]/g, '_')}-${stamp}.json"`);
        // RED.version() is a string at runtime (typed as a promise in some releases' typings).
        void Promise.resolve(RED.version()).then((nodeRed) => res.json(supportBundle(terminal.handle, { terminal, nodeRed: String(nodeRed) })));
        return;
      }
      res.json({ terminal: terminal.id, name: terminal.name, records: terminal.handle.trace.list() });
    }),
  );
};
