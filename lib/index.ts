/** Library entry: usable without Node-RED. */
export * from './errors';
export * from './crc';
export * from './frame';
export * from './crypto';
export * from './envelope';
export * from './messages';
export * from './validate';
export * from './transport';
