import { Command, CommanderError } from 'commander';
import { registerCancel } from './commands/cancel';
import { registerDeploy } from './commands/deploy';
import { registerHealth } from './commands/health';
import { registerKeys } from './commands/keys';
import { registerOutput } from './commands/output';
import { registerQueue } from './commands/queue';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { registerServe } from './commands/serve';
import { registerTypes } from './commands/types';
import { registerWorkflows } from './commands/workflows';
import { type CommandContext, createContext, type GlobalOptions } from './context';
import { toCliError } from './errors';
import { ExitCode } from './exit-codes';
import type { CliIO } from './io';
import { Output } from './output';

/** Kept equal to package.json's version by a test (a JSON import would not survive every bundler). */
export const VERSION = '0.1.0';

/** Builds the context for the command being run, from the options of it and all its parents. */
export type ContextFactory = (cmd: Command) => CommandContext;

/**
 * The whole CLI as a commander program that never calls process.exit and writes only to the injected
 * streams, so tests can drive it in-process as well as through bin.ts.
 */
export function createProgram(io: CliIO, opts: { jsonErrors?: boolean } = {}): Command {
  const program = new Command('flowscale')
    .description('Run, watch and deploy ComfyUI workflows on a FlowScale server.')
    .version(VERSION, '-v, --version')
    .option('--api-url <url>', 'server URL (env FLOWSCALE_API_URL, default http://127.0.0.1:8787)')
    .option('--api-key <key>', 'API key (env FLOWSCALE_API_KEY)')
    .option('--json', 'print machine-readable JSON')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'afterAll',
      '\nExit codes: 0 ok, 1 error, 2 usage, 3 auth, 4 not found, 5 run failed, 6 timeout, 7 unreachable, 130 Ctrl-C.\n',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own usage errors: one line, like ours, with the way out (JSON under --json).
      outputError: (s, write) => {
        // Commander puts its "Did you mean" on a second line; keep it, on the same line.
        const message = s
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .join(' ');
        write(
          opts.jsonErrors
            ? `${JSON.stringify({ error: message.replace(/^error:\s*/, ''), exit_code: ExitCode.usage })}\n`
            : `${message} (see --help)\n`,
        );
      },
    });

  const context: ContextFactory = (cmd) => createContext(io, cmd.optsWithGlobals<GlobalOptions>());
  registerHealth(program, context);
  registerQueue(program, context);
  registerWorkflows(program, context);
  registerRun(program, context);
  registerRuns(program, context);
  registerCancel(program, context);
  registerOutput(program, context);
  registerDeploy(program, context);
  registerKeys(program, context);
  registerTypes(program, context);
  registerServe(program, context);
  return program;
}

/**
 * Wraps an action so any failure becomes a CliError carrying the config it ran with, which is what lets
 * error messages name the URL and the env var involved.
 */
export function action<A extends unknown[]>(
  context: ContextFactory,
  fn: (ctx: CommandContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = context(cmd);
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      throw toCliError(err, ctx.config);
    }
  };
}

/** Runs the CLI and returns the exit code; prints failures as a single line. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const json = argv.includes('--json');
  const program = createProgram(io, { jsonErrors: json });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version surface as "errors" under exitOverride; they are successes. Anything else is
      // a usage error whose one-line message commander has already printed through outputError.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      return ExitCode.usage;
    }
    const cliError = toCliError(err);
    new Output(io.stdout, io.stderr, json, io.env).error(cliError.message, cliError.exitCode);
    return cliError.exitCode;
  }
}
