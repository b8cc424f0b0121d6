// An error the CLI reports as one message and an exit code (2 for usage errors, 1 otherwise), without a stack.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
