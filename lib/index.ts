/**
 * Library entry: usable without Node-RED. Layers, each importing only from
 * those before it: clock → protocol → transport → simulator → ledger → session → terminal → easycard → cli.
 */
export * from './clock';
export * from './protocol';
export * from './transport';
export * from './simulator';
export * from './ledger';
export * from './session';
export * from './terminal';
export * as easycard from './easycard';
