import { relative } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type SavedOutput, saveOutput } from '../download';
import { CliError, ExitCode } from '../exit-codes';
import { buildInputs, parseInputFlags } from '../inputs';
import { formatBytes } from '../output';
import { action, type ContextFactory } from '../program';
import { createProgressView, failureMessage } from '../progress';
import { type WatchOutcome, watchRun } from '../watch';
import { lookupWorkflow } from '../workflow-lookup';

interface RunOptions {
  input: string[];
  group?: string;
  out: string;
  wait: boolean;
  timeout?: number;
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (stream)
    for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const parseSeconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
};

/** Every way a watched run can end other than "completed": what --json reports, and the one-line error. */
function outcomeFailure(
  outcome: WatchOutcome,
  runId: string,
  timeout: number | undefined,
): { json: Record<string, unknown>; error: CliError } | undefined {
  switch (outcome.kind) {
    case 'timeout':
      return {
        json: { status: outcome.lastStatus },
        error: new CliError(
          `run ${runId} did not finish within ${timeout}s (still ${outcome.lastStatus}); follow it with "flowscale runs show ${runId}"`,
          ExitCode.timeout,
        ),
      };
    case 'interrupted':
      return {
        json: { status: outcome.cancelled ? 'cancelled' : 'detached' },
        error: new CliError(
          outcome.cancelled
            ? `cancelled run ${runId}`
            : `stopped watching; run ${runId} keeps going (cancel it with "flowscale cancel ${runId}")`,
          ExitCode.interrupted,
        ),
      };
    case 'finished':
      if (outcome.event.type === 'run.failed') {
        return {
          json: { status: 'failed', error: outcome.event.error ?? null },
          error: new CliError(
            `run ${runId} failed: ${failureMessage(outcome.event.error)}`,
            ExitCode.runFailed,
          ),
        };
      }
      if (outcome.event.type === 'run.cancelled') {
        return {
          json: { status: 'cancelled' },
          error: new CliError(`run ${runId} was cancelled`, ExitCode.runFailed),
        };
      }
      return undefined;
  }
}

export function registerRun(program: Command, context: ContextFactory): void {
  program
    .command('run')
    .description('run a workflow, show its progress and download its outputs')
    .argument('<workflow>', 'workflow id or name')
    .option(
      '-i, --input <name=value>',
      'an input; repeatable. name=@path reads a file, name=@- stdin',
      collect,
      [],
    )
    .option('-g, --group <group>', 'group id to file the run under')
    .option('-o, --out <dir>', 'directory to download outputs into', '.')
    .option('--no-wait', 'print the run id and return without waiting')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 6; the run keeps going)', parseSeconds)
    .addHelpText(
      'after',
      '\nExamples:\n  flowscale run text-echo -i default_value_1="hi there"\n  flowscale run invert-image -i image_1=@photo.png --out ./results\n',
    )
    .action(
      action(context, async (ctx, workflow: string, opts: RunOptions) => {
        const { out } = ctx;
        const client = ctx.client();
        const wf = await lookupWorkflow(ctx, workflow);
        const inputs = await buildInputs(parseInputFlags(opts.input), wf.input_schema, wf.name, {
          cwd: ctx.io.cwd,
          readStdin: () => readAll(ctx.io.stdin),
        });
        const { data: submitted } = await client.executeWorkflow(wf.id, inputs, opts.group);
        const runId = submitted.run_id;

        if (!opts.wait) {
          out.result({ run_id: runId, workflow_id: wf.id }, () => out.line(runId));
          return;
        }

        out.info(`${out.errColor.bold(wf.name)} run ${out.errColor.dim(runId)}`);
        const progress = createProgressView(ctx.io.stderr, { json: out.json, paint: out.errColor });
        const started = Date.now();
        let outcome: WatchOutcome;
        try {
          outcome = await watchRun(ctx, runId, {
            timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
            onEvent: (e) => progress.update(e),
            onPause: () => progress.pause(),
            onResume: () => progress.resume(),
          });
        } finally {
          progress.stop();
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);

        const failure = outcomeFailure(outcome, runId, opts.timeout);
        if (failure) {
          out.data({ run_id: runId, workflow_id: wf.id, ...failure.json });
          throw failure.error;
        }

        // The run record is the contract's source of truth for output names.
        const { data: run } = await client.getRun(runId);
        const saved: SavedOutput[] = [];
        for (const o of run.outputs ?? []) saved.push(await saveOutput(ctx, o.filename, opts.out));
        out.result({ run_id: runId, workflow_id: wf.id, status: 'completed', outputs: saved }, () => {
          out.info(`${out.errColor.green('✓')} completed in ${seconds}s`);
          for (const s of saved) {
            out.line(`${relative(ctx.io.cwd, s.path) || s.path}  ${out.color.dim(formatBytes(s.size))}`);
          }
        });
      }),
    );
}
