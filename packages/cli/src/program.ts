import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth';
import { registerCancel } from './commands/cancel';
import { registerConfig } from './commands/config';
import { registerDeploy } from './commands/deploy';
import { registerHealth } from './commands/health';
import { registerKeys } from './commands/keys';
import { registerOutput } from './commands/output';
import { registerQueue } from './commands/queue';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { registerServe } from './commands/serve';
import { registerTypes } from './commands/types';
import { registerUsage } from './commands/usage';
import { registerWebhooks } from './commands/webhooks';
import { registerWorkflows } from './commands/workflows';
import { type CommandContext, createContext, type GlobalOptions, loadSdk } from './context';
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
    .option('--profile <name>', 'saved profile to use (env FLOWSCALE_PROFILE, default "default")')
    .option('--json', 'print machine-readable JSON')
    .showSuggestionAfterError(true)
    .configureHelp({
      showGlobalOptions: true,
      // Only the program's own options are global: a parent command's options (runs --page) do not apply
      // to its subcommands, and --version only to the program itself.
      visibleGlobalOptions: (cmd) =>
        cmd.parent ? rootOf(cmd).options.filter((o) => !o.hidden && o.long !== '--version') : [],
    })
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
  registerWebhooks(program, context);
  registerUsage(program, context);
  registerTypes(program, context);
  registerServe(program, context);
  registerAuth(program, context);
  registerConfig(program, context);
  addExamples(program);
  return program;
}

const rootOf = (cmd: Command): Command => (cmd.parent ? rootOf(cmd.parent) : cmd);

/** Examples of the commands that do not print their own, by command path. */
const EXAMPLES: Record<string, string[]> = {
  queue: ['flowscale queue', 'flowscale queue --json'],
  workflows: ['flowscale workflows', 'flowscale workflows --json'],
  'workflows show': ['flowscale workflows show text-echo'],
  runs: ['flowscale runs', 'flowscale runs --group nightly --page 2'],
  'runs show': ['flowscale runs show 3f9c…', 'flowscale runs show 3f9c… --json'],
  'runs watch': ['flowscale runs watch 3f9c…', 'flowscale runs watch 3f9c… --out ./results --timeout 600'],
  cancel: ['flowscale cancel 3f9c…'],
  output: ['flowscale output filename_prefix_3_5WWF7GQUYF --out ./results'],
  deploy: [
    'flowscale deploy my_workflow_api.json',
    'flowscale deploy flow_api.json --name upscale --manifest upscale.manifest.json',
  ],
  keys: ['flowscale keys list', 'flowscale keys create ci-bot --role user'],
  'keys create': ['flowscale keys create ci-bot', 'flowscale keys create ops --role admin'],
  'keys list': ['flowscale keys list', 'flowscale keys list --json'],
  webhooks: ['flowscale webhooks list', 'flowscale webhooks create https://example.com/hooks'],
  'webhooks list': ['flowscale webhooks list', 'flowscale webhooks list --json'],
  'webhooks create': [
    'flowscale webhooks create https://example.com/hooks',
    'flowscale webhooks create https://example.com/hooks --events run.completed,run.failed',
  ],
  'webhooks delete': ['flowscale webhooks delete wh_123'],
  'webhooks deliveries': [
    'flowscale webhooks deliveries wh_123',
    'flowscale webhooks deliveries wh_123 --json',
  ],
  'webhooks redeliver': ['flowscale webhooks redeliver wh_123 msg_2b3c…'],
  'webhooks test': ['flowscale webhooks test wh_123'],
  'webhooks rotate-secret': ['flowscale webhooks rotate-secret wh_123'],
  types: ['flowscale types', 'flowscale types --out src/flowscale.d.ts'],
  serve: ['flowscale serve', 'flowscale serve --port 8787 --data-dir ./data'],
  config: ['flowscale config list', 'flowscale config set api-url http://127.0.0.1:8787'],
};

function addExamples(program: Command): void {
  const walk = (cmd: Command, path: string) => {
    const lines = EXAMPLES[path];
    if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
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
    await loadSdk();
    const ctx = context(cmd);
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      // Loaded only on failure: the error mapping needs the SDK's error classes.
      const { toCliError } = await import('./errors');
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
    const { toCliError } = await import('./errors');
    const cliError = toCliError(err);
    new Output(io.stdout, io.stderr, json, io.env).error(cliError.message, cliError.exitCode);
    return cliError.exitCode;
  }
}
