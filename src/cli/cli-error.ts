/** An expected failure of a command: printed as one line, with its exit code. */
export class CliError extends Error {
  override name = 'CliError';

  /** `exitCode` 2 for usage errors (bad arguments, configuration, Redis unreachable), else 1. */
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
