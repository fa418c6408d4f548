/** The transport layer: one interface (transport.ts) and its serial, LAN and cloud links over one HTTP client. */
export * from './transport';
export * from './http';
export * from './tls-pin';
export * from './serial';
export * from './lan';
export * from './cloud';
export * from './link-cause';
export * from './line-counters';
export * from './ca-file';
