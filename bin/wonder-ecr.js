#!/usr/bin/env node
'use strict';
// A command for people: Node 22's notice that node:sqlite is experimental is
// left out of its stderr (before the ledger loads node:sqlite); every other
// warning is shown as Node shows it.
require('../dist/lib/ledger/quiet-warning');
require('../dist/lib/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
