/** One `mqtt-raft <name>` command. */
export interface Command {
  readonly name: string;
  /** Full usage text, printed by `--help` and after a usage error. */
  readonly usage: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}
