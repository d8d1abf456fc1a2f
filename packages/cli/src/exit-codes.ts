/**
 * Exit codes are part of the CLI's public contract: scripts branch on them, so they never change meaning.
 * Documented in README.md ("Exit codes").
 */
export const ExitCode = {
  ok: 0,
  generic: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  runFailed: 5,
  timeout: 6,
  unreachable: 7,
  /** Ctrl-C: the conventional 128 + SIGINT. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as one line (never a stack trace) and turned into an exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.generic,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.usage);
