// Node-RED settings for the demo (`npm start`) and the editor tests.
// Loads this package from the repository itself and the checkout example.
const path = require('node:path');

const root = path.resolve(__dirname, '..');

module.exports = {
    uiHost: process.env.WONDER_DEMO_HOST || '127.0.0.1',
    uiPort: process.env.WONDER_DEMO_PORT !== undefined ? Number(process.env.WONDER_DEMO_PORT) : 1880,
    userDir: process.env.WONDER_DEMO_USERDIR || path.join(root, '.node-red-demo'),
    flowFile: 'flows.json',
    flowFilePretty: true,
    // This repository is a Node-RED package: load it from here.
    nodesDir: [root],
    // The demo holds no secrets of its own (the simulator needs no pairing code).
    credentialSecret: 'wonder-ecr-demo-only',
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
