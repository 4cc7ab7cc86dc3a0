/**
 * An expected failure of a command: the CLI prints it as one line and exits with `exitCode`. In core
 * so lower layers (src/stack) can throw it without importing the CLI.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
