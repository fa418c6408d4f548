/** The command line (`wonder-ecr`): the top layer. */
export { EXIT, main } from './main';
export type { CliIo } from './io';
