import { relative } from 'node:path';
import type { CommandContext } from './context';
import { type SavedOutput, saveOutput } from './download';
import { CliError, ExitCode } from './exit-codes';
import { formatBytes, formatDuration } from './output';
import { createProgressView, failureMessage } from './progress';
import { type WatchOutcome, watchRun } from './watch';

export interface FollowOptions {
  runId: string;
  workflowId: string;
  /** What to call the run in the header line: the workflow name. */
  label: string;
  /** Directory for the outputs. */
  out: string;
  /** Seconds to wait before giving up (exit 6). */
  timeout?: number;
}

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
          `run ${runId} did not finish within ${timeout}s (still ${outcome.lastStatus}); follow it with "flowscale runs watch ${runId}"`,
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
      if (outcome.status === 'failed') {
        return {
          json: { status: 'failed', error: outcome.error },
          error: new CliError(`run ${runId} failed: ${failureMessage(outcome.error)}`, ExitCode.runFailed),
        };
      }
      if (outcome.status === 'cancelled') {
        return {
          json: { status: 'cancelled' },
          error: new CliError(`run ${runId} was cancelled`, ExitCode.runFailed),
        };
      }
      return undefined;
  }
}

/**
 * Shows a run's progress until it ends, then downloads its outputs. Shared by `run` and `runs watch`;
 * the events are replayed from the start, so following a run that already finished works too.
 */
export async function followRun(ctx: CommandContext, opts: FollowOptions): Promise<void> {
  const { out } = ctx;
  const { runId, workflowId } = opts;
  out.info(`${out.errColor.bold(opts.label)} run ${out.errColor.dim(runId)}`);
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
  const took = formatDuration(Date.now() - started);

  const failure = outcomeFailure(outcome, runId, opts.timeout);
  if (failure) {
    out.data({ run_id: runId, workflow_id: workflowId, ...failure.json });
    throw failure.error;
  }

  // The run record is the contract's source of truth for output names.
  const { data: run } = await ctx.client().getRun(runId);
  const saved: SavedOutput[] = [];
  for (const o of run.outputs ?? []) saved.push(await saveOutput(ctx, o.filename, opts.out));
  out.result({ run_id: runId, workflow_id: workflowId, status: 'completed', outputs: saved }, () => {
    out.info(`${out.errColor.green('✓')} completed in ${took}`);
    for (const s of saved) {
      out.line(`${relative(ctx.io.cwd, s.path) || s.path}  ${out.color.dim(formatBytes(s.size))}`);
    }
  });
}
