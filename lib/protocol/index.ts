/**
 * The protocol layer: pure, no I/O. Frames and their CRC, the cipher, the
 * envelope, the messages and their validation, the strict reading of what a
 * terminal sends, the error family, and the outcome model (what an answer
 * means for a payment).
 */
export * from './errors';
export * from './crc';
export * from './frame';
export * from './cipher';
export * from './strict-json';
export * from './envelope';
export * from './currency';
export * from './validate';
export * from './messages';
export * from './outcome';
export * from './card';
