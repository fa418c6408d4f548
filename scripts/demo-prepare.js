#!/usr/bin/env node
'use strict';
// Prepares the demo's Node-RED user directory: the checkout example as the
// flow, unless the user has a flow there already, and its credential secret
// (random, made once, mode 0600).
const fs = require('node:fs');
const path = require('node:path');
const { credentialSecret, CREDENTIAL_SECRET_FILE } = require('../demo/credential-secret');

const root = path.resolve(__dirname, '..');
const userDir = process.env.WONDER_DEMO_USERDIR || path.join(root, '.node-red-demo');
credentialSecret(userDir);
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows) || process.env.WONDER_DEMO_RESET === '1') {
  fs.copyFileSync(path.join(root, 'examples', 'http-checkout.json'), flows);
}
console.log(`Node-RED user directory: ${userDir} (credential secret in ${CREDENTIAL_SECRET_FILE}, mode 0600)`);
console.log('Editor: http://127.0.0.1:1880/  Checkout: POST http://127.0.0.1:1880/wonder/checkout');
