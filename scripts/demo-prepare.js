#!/usr/bin/env node
'use strict';
// Prepares the demo's Node-RED user directory: the checkout example as the
// flow, unless the user has a flow there already, and its credential secret
// (random, made once, mode 0600). Says where the credentials are kept and
// warns when credentials saved before cannot be read with the key there.
const fs = require('node:fs');
const path = require('node:path');
const { credentialSecret, CREDENTIAL_SECRET_FILE } = require('../demo/credential-secret');

const root = path.resolve(__dirname, '..');
const userDir = process.env.WONDER_DEMO_USERDIR || path.join(root, '.node-red-demo');
const secretFile = path.join(userDir, CREDENTIAL_SECRET_FILE);
const credFile = path.join(userDir, 'flows_cred.json');
const hadSecret = fs.existsSync(secretFile);
const hadCredentials = fs.existsSync(credFile);
credentialSecret(userDir);

const rule = '-'.repeat(69);
if (!hadSecret && hadCredentials) {
  // Saved under another key (the secret file was deleted or the directory copied without it): Node-RED cannot decrypt them.
  console.warn(
    [
      '',
      rule,
      'WARNING: credentials saved before cannot be read.',
      `${credFile} was encrypted with a key that is no longer in`,
      `${secretFile}; a new key was made. Node-RED will log`,
      '"Error loading credentials" and the pairing codes and EasyCard',
      'passwords and keys must be entered again (or stop now and put the old',
      `${CREDENTIAL_SECRET_FILE} back).`,
      rule,
      '',
    ].join('\n'),
  );
} else if (!hadSecret) {
  console.warn(
    [
      '',
      rule,
      'Credentials: the pairing codes and EasyCard passwords and keys you',
      `enter are kept encrypted in ${credFile}`,
      `with the key made now in ${secretFile} (mode 0600).`,
      'Keep the two files together: without the key the credentials cannot',
      'be read and must be entered again. Never commit or share the key.',
      "This is the demo's set-up: your own Node-RED should set its own",
      "credentialSecret in its settings.js.",
      rule,
      '',
    ].join('\n'),
  );
}
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows) || process.env.WONDER_DEMO_RESET === '1') {
  fs.copyFileSync(path.join(root, 'examples', 'http-checkout.json'), flows);
}
console.log(`Node-RED user directory: ${userDir} (credentials encrypted with the key in ${CREDENTIAL_SECRET_FILE}, mode 0600)`);
console.log('Editor: http://127.0.0.1:1880/  Checkout: POST http://127.0.0.1:1880/wonder/checkout');
console.log('Test amounts on the simulated terminal: below 900.00 approves, 900.01 declines, 900.03 loses its answer and holds the terminal for the 120 s card wait before it is settled (see the flow\'s info).');
