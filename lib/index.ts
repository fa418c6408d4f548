/** Library entry: usable without Node-RED. */
export * from './errors';
export * from './crc';
export * from './frame';
export * from './crypto';
export * from './envelope';
export * from './messages';
export * from './validate';
export * from './transport';
export * from './transport-serial';
export * from './transport-lan';
export * from './transport-cloud';
export * from './transport-simulator';
export * from './session';
export * from './journal';
export * from './simulator';
export * from './simulator-server';
export * from './config';
export * as easycard from './easycard';
