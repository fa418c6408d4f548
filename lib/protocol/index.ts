/** The protocol layer's decisions (pure): what a terminal's answer means for a payment. */
export * from './outcome';
