/**
 * A start-up failure the operator fixes in the configuration (a database that cannot be reached, a bad
 * URL). Its message says everything needed, so the command line prints it without a stack trace.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
