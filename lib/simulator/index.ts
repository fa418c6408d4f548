/** The simulated terminal: its books and answers, its serial and LAN servers, and the in-process transport to it. */
export * from './terminal';
export * from './servers';
export * from './transport';
