'use strict';
// The demo's guard against other web pages: Node-RED without adminAuth takes
// any request that reaches it, and its admin app answers every origin
// (`Access-Control-Allow-Origin: *`). A page the user opens while `npm start`
// runs could otherwise deploy a flow (run code on the machine) or post a
// checkout. Installed as httpAdminMiddleware (the editor and the admin API)
// and httpNodeMiddleware (the flows' HTTP endpoints).
//
// Refused (403, E_CROSS_ORIGIN):
//  - a request a browser marks as coming from another origin
//    (Sec-Fetch-Site cross-site or same-site: another port of 127.0.0.1 is
//    same-site), or whose Origin header names another origin (or "null");
//  - a Host header that is a DNS name other than localhost or this machine's
//    name (a DNS-rebinding page), unless listed in WONDER_DEMO_ALLOWED_HOSTS
//    (comma-separated).
// Let through: the editor's own pages, tools that are not browsers (curl,
// scripts: no Origin, no Sec-Fetch-Site), and, for the admin middleware only
// (`sameOriginOnly({ allowNavigation: true })`), a plain link to the editor
// (a top-level GET navigation from elsewhere only opens it). A flow's `http in`
// GET endpoint may act (start a payment): a link from another site to it is refused.
const net = require('node:net');
const os = require('node:os');

const HEADER_ACAO = 'Access-Control-Allow-Origin';

/** The host names (not IP literals) the demo answers to. */
function allowedHostNames(env = process.env) {
  const names = new Set(['localhost', os.hostname().toLowerCase(), `${os.hostname().toLowerCase()}.local`]);
  for (const h of String(env.WONDER_DEMO_ALLOWED_HOSTS || '').split(',')) if (h.trim() !== '') names.add(h.trim().toLowerCase());
  return names;
}

/** The host name of a Host header: no port, no brackets, lower case. */
function hostNameOf(host) {
  const text = String(host || '').trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (v6) return v6[1];
  return text.replace(/:\d+$/, '').replace(/\.$/, '');
}

/**
 * Why a request is refused, or undefined when it may go on. A top-level GET
 * or HEAD navigation from another site goes on only with allowNavigation.
 */
function refusal(req, names, allowNavigation = false) {
  const hostName = hostNameOf(req.headers.host);
  if (hostName === '' || (net.isIP(hostName) === 0 && !names.has(hostName))) return `the Host ${JSON.stringify(hostName)} is not one this demo answers to`;
  const navigation = (req.method === 'GET' || req.method === 'HEAD') && req.headers['sec-fetch-mode'] === 'navigate';
  if (navigation && allowNavigation) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a request from another site (${site})`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = `${req.protocol || (req.socket && req.socket.encrypted ? 'https' : 'http')}://${String(req.headers.host || '').toLowerCase()}`;
    if (String(origin).toLowerCase() !== own) return `a request from another origin (${origin})`;
  }
  return undefined;
}

/**
 * The Express middleware: `sameOriginOnly({ allowNavigation: true })` for
 * httpAdminMiddleware (a link may open the editor), `sameOriginOnly()` for
 * httpNodeMiddleware (no navigation from another site reaches a flow).
 */
function sameOriginOnly(options = {}) {
  const names = allowedHostNames(options.env);
  const allowNavigation = options.allowNavigation === true;
  return function sameOrigin(req, res, next) {
    // Node-RED's admin app set `*` before any setting applies: no other origin may read an answer.
    res.removeHeader(HEADER_ACAO);
    const why = refusal(req, names, allowNavigation);
    if (why === undefined) return next();
    res.status(403).set('content-type', 'application/json').send(JSON.stringify({ ok: false, code: 'E_CROSS_ORIGIN', message: `refused: ${why}; the demo takes requests from its own pages only` }));
  };
}

/**
 * The same check for WebSocket handshakes (the editor's /comms, which carries
 * the debug sidebar's messages, and the dashboard's sockets): they are no
 * Express request, so the middleware never sees them. Node-RED makes its HTTP
 * server itself, after reading the settings: the check is put in front of
 * every 'upgrade' event of this process's HTTP servers.
 */
function refuseCrossOriginUpgrades(options = {}) {
  const names = allowedHostNames(options.env);
  for (const Server of [require('node:http').Server, require('node:https').Server]) {
    const emit = Server.prototype.emit;
    if (emit.wonderSameOrigin) continue;
    const guarded = function (event, req, socket) {
      if (event === 'upgrade' && refusal(req, names) !== undefined) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      return emit.apply(this, arguments);
    };
    guarded.wonderSameOrigin = true;
    Server.prototype.emit = guarded;
  }
}

module.exports = { sameOriginOnly, refuseCrossOriginUpgrades, refusal, hostNameOf };
