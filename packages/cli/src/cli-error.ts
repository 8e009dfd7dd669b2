/** A mistake in how the command was called: exit code 2, with the usage hint. */
export class UsageError extends Error {
  readonly exitCode = 2;
  /** The command whose `--help` the hint points to (set by main.ts). */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The operation was refused or failed: exit code 1, one line. */
export class OperationError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}
