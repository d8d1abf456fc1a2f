import { createInterface } from 'node:readline';
import type { RunError, RunEvent } from 'flowscale';
import { isTerminalEvent, isTerminalStatus, type TerminalStatus } from 'flowscale/events';
import type { CommandContext } from './context';
import { httpStatus } from './http-status';
import { processInterrupts } from './io';

export type WatchOutcome =
  | { kind: 'finished'; status: TerminalStatus; error: RunError | null }
  | { kind: 'timeout'; lastStatus: string }
  /** Ctrl-C. `cancelled` says whether the run was cancelled on the server or left running. */
  | { kind: 'interrupted'; cancelled: boolean };

export interface WatchOptions {
  timeoutMs?: number;
  onEvent(event: RunEvent): void;
  /** Called before a Ctrl-C prompt or message, so a live progress line can get out of the way. */
  onPause(): void;
  /** Called when the user chose to keep waiting. */
  onResume(): void;
}

/**
 * Follows a run's events until it reaches a terminal state, a timeout, or Ctrl-C. If the stream drops
 * without a terminal event, it asks the run record and resumes from the last seen seq (the server
 * replays), so a flaky connection never loses the outcome.
 */
export async function watchRun(
  ctx: CommandContext,
  runId: string,
  opts: WatchOptions,
): Promise<WatchOutcome> {
  const client = ctx.client();
  const stop = new AbortController();
  let settle!: (o: WatchOutcome) => void;
  const outcome = new Promise<WatchOutcome>((resolve) => {
    settle = (o) => {
      stop.abort();
      resolve(o);
    };
  });
  let lastSeq = 0;
  let lastStatus = 'queued';

  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => settle({ kind: 'timeout', lastStatus }), opts.timeoutMs)
      : undefined;
  const offInterrupt = (ctx.io.onInterrupt ?? processInterrupts)(() => {
    void onInterrupt();
  });

  let prompting = false;
  // The run.cancelled event can arrive before cancelRun() answers; it is still our Ctrl-C.
  let cancelRequested = false;
  async function onInterrupt(): Promise<void> {
    if (stop.signal.aborted || prompting) return;
    opts.onPause();
    const stdin = ctx.io.stdin;
    // Ask only if a person can both see the question (stderr) and answer it (stdin).
    if (stdin?.isTTY && ctx.io.stderr.isTTY) {
      prompting = true;
      const answer = await ask(stdin, ctx.io.stderr, `Cancel run ${runId} on the server? [y/N] `);
      prompting = false;
      if (answer === 'detach') return settle({ kind: 'interrupted', cancelled: false });
      if (answer !== 'yes') return opts.onResume();
    }
    ctx.out.info(`cancelling run ${runId}…`);
    cancelRequested = true;
    try {
      await client.cancelRun(runId);
      settle({ kind: 'interrupted', cancelled: true });
    } catch (err) {
      // 409: it finished in the meantime; the stream will deliver the real outcome.
      if (httpStatus(err) !== 409) settle({ kind: 'interrupted', cancelled: false });
    }
  }

  const follow = async (): Promise<void> => {
    let quietRetries = 0;
    while (!stop.signal.aborted) {
      let terminal = false;
      const stream = client.subscribeRunEvents(runId, {
        fromSeq: lastSeq + 1,
        signal: stop.signal,
        onEvent: ({ data: e }) => {
          if (stop.signal.aborted) return;
          lastSeq = Math.max(lastSeq, e.seq);
          lastStatus = e.status;
          quietRetries = 0;
          opts.onEvent(e);
          if (isTerminalEvent(e)) {
            terminal = true;
            if (e.type === 'run.cancelled' && cancelRequested)
              settle({ kind: 'interrupted', cancelled: true });
            else
              settle({ kind: 'finished', status: e.status, error: e.type === 'run.failed' ? e.error : null });
          }
        },
      });
      await stream.done.catch(() => undefined);
      if (terminal || stop.signal.aborted) return;
      // The stream ended early: trust the run record, then resume the stream from where it stopped.
      const { data: run } = await client.getRun(runId);
      // FlowScale's hosted API calls a failed run `error`.
      const status = run.status === 'error' ? 'failed' : run.status;
      if (isTerminalStatus(status)) return settle({ kind: 'finished', status, error: run.error ?? null });
      if (++quietRetries > 20) throw new Error(`lost the event stream of run ${runId}`);
      await new Promise((r) => setTimeout(r, Math.min(250 * quietRetries, 2000)));
    }
  };

  try {
    await Promise.race([follow(), outcome]);
    return await outcome;
  } finally {
    if (timer) clearTimeout(timer);
    offInterrupt();
    stop.abort();
  }
}

/** y/N on the terminal; a second Ctrl-C at the prompt means "stop watching, leave the run alone". */
function ask(
  input: NodeJS.ReadableStream,
  output: { write(s: string): unknown },
  question: string,
): Promise<'yes' | 'no' | 'detach'> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output: output as NodeJS.WritableStream, terminal: true });
    const done = (answer: 'yes' | 'no' | 'detach') => {
      rl.close();
      input.pause();
      resolve(answer);
    };
    rl.on('SIGINT', () => {
      output.write('\n');
      done('detach');
    });
    rl.question(question, (text) => done(/^y(es)?$/i.test(text.trim()) ? 'yes' : 'no'));
  });
}
