/**
 * The ledger layer: one SQLite file (node:sqlite) per Node-RED instance or
 * CLI state folder holding every payment, its outcome and lookups, EasyCard
 * runs, terminal identities and the cloud pairing. Writes are committed by a
 * writer thread in groups; point reads run on the caller's thread.
 */
export * from './schema';
export * from './entries';
export * from './owner';
export * from './ledger';
export * from './private-files';
export type { SqlValue } from './writer-protocol';
export * from './read';
export * from './csv';
export * from './reads';
export * from './reader';
export * from './read-query';
