#!/usr/bin/env node
'use strict';
// Prepares the demo's Node-RED user directory: the checkout example as the
// flow, unless the user has a flow there already.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = process.env.WONDER_DEMO_USERDIR || path.join(root, '.node-red-demo');
fs.mkdirSync(userDir, { recursive: true });
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows) || process.env.WONDER_DEMO_RESET === '1') {
  fs.copyFileSync(path.join(root, 'examples', 'http-checkout.json'), flows);
}
console.log(`Node-RED user directory: ${userDir}`);
console.log('Editor: http://127.0.0.1:1880/  Checkout: POST http://127.0.0.1:1880/wonder/checkout');
