// Node-RED settings for the demo (`npm start`) and the editor tests.
// Loads this package from the repository itself and the checkout example.
const path = require('node:path');

const { credentialSecret } = require('./credential-secret');
const { refuseCrossOriginUpgrades, sameOriginOnly } = require('./same-origin');

refuseCrossOriginUpgrades();

const root = path.resolve(__dirname, '..');
const userDir = process.env.WONDER_DEMO_USERDIR || path.join(root, '.node-red-demo');
// The examples that act on a payment once (kiosk, vending, receipt printer) keep their record
// files here, in the demo's user directory (docs/kiosk.md).
process.env.WONDER_ONCE_DIR = process.env.WONDER_ONCE_DIR || path.join(userDir, 'wonder-once');

module.exports = {
    uiHost: process.env.WONDER_DEMO_HOST || '127.0.0.1',
    uiPort: process.env.WONDER_DEMO_PORT !== undefined ? Number(process.env.WONDER_DEMO_PORT) : 1880,
    userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    // This repository is a Node-RED package: load it from here.
    nodesDir: [root],
    // Encrypts flows_cred.json: random, made on first start in the user directory (mode 0600).
    credentialSecret: credentialSecret(userDir),
    // No adminAuth here: so no other web page may drive the editor, the admin API or the
    // flows' endpoints (deploy a flow, post a checkout), requests and WebSocket handshakes
    // from another origin are refused (same-origin.js), and no answer carries
    // Access-Control-Allow-Origin. A link from elsewhere may open the editor, never a flow's endpoint.
    httpAdminMiddleware: sameOriginOnly({ allowNavigation: true }),
    httpNodeMiddleware: sameOriginOnly(),
    httpAdminCors: { origin: false },
    httpNodeCors: { origin: false },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    editorTheme: {
        tours: false,
        projects: { enabled: false },
        palette: { catalogues: [] },
    },
    externalModules: { palette: { allowInstall: false } },
    logging: { console: { level: process.env.WONDER_DEMO_LOG || 'info', metrics: false, audit: false } },
    functionExternalModules: false,
    // Where the terminal dialog's serial port search reads stable port names (default /dev/serial/by-id).
    wonderEcr: process.env.WONDER_SERIAL_BY_ID_DIR ? { serialByIdDir: process.env.WONDER_SERIAL_BY_ID_DIR } : {},
};
