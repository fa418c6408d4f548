/** What a CLI command writes to and reads from: its own type, so that the commands import no other command. */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Asks for the pairing code without echo; absent when stdin is not a terminal. */
  prompt?: () => Promise<string>;
}
