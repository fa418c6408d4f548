/**
 * The ledger layer: one SQLite file (node:sqlite) per Node-RED instance or
 * CLI state folder holding every payment, its outcome and lookups, EasyCard
 * runs, terminal identities and the cloud pairing.
 */
export * from './schema';
export * from './csv';
export * from './reads';
export * from './reader';
export * from './read-query';
