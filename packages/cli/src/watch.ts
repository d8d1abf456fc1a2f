import { createInterface } from 'node:readline';
import type { CommandContext } from './context';
import { httpStatus } from './errors';
import { processInterrupts } from './io';
import { type RunEventData, TERMINAL_EVENTS } from './progress';

export type WatchOutcome =
  | { kind: 'finished'; event: RunEventData }
  | { kind: 'timeout'; lastStatus: string }
  /** Ctrl-C. `cancelled` says whether the run was cancelled on the server or left running. */
  | { kind: 'interrupted'; cancelled: boolean };

export interface WatchOptions {
  timeoutMs?: number;
  onEvent(event: RunEventData): void;
  /** Called before a Ctrl-C prompt or message, so a live progress line can get out of the way. */
  onPause(): void;
  /** Called when the user chose to keep waiting. */
  onResume(): void;
}

const TERMINAL_STATUS: Record<string, string> = {
  completed: 'run.completed',
  failed: 'run.failed',
  error: 'run.failed',
  cancelled: 'run.cancelled',
};

/** SSE payloads may arrive parsed or as text depending on the SDK version; accept both. */
export function eventData(event: unknown): RunEventData | undefined {
  let data: unknown = (event as { data?: unknown } | null)?.data ?? event;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  return data && typeof data === 'object' && typeof (data as RunEventData).type === 'string'
    ? (data as RunEventData)
    : undefined;
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
        onEvent: (raw: unknown) => {
          const e = eventData(raw);
          if (!e || stop.signal.aborted) return;
          if (typeof e.seq === 'number') lastSeq = Math.max(lastSeq, e.seq);
          if (e.status) lastStatus = e.status;
          quietRetries = 0;
          opts.onEvent(e);
          if (TERMINAL_EVENTS.has(e.type)) {
            terminal = true;
            if (e.type === 'run.cancelled' && cancelRequested)
              settle({ kind: 'interrupted', cancelled: true });
            else settle({ kind: 'finished', event: e });
          }
        },
      });
      await stream.done.catch(() => undefined);
      if (terminal || stop.signal.aborted) return;
      // The stream ended early: trust the run record, then resume the stream from where it stopped.
      const { data: run } = await client.getRun(runId);
      const type = TERMINAL_STATUS[run.status];
      if (type) {
        return settle({
          kind: 'finished',
          event: { type, run_id: runId, status: run.status, error: run.error ?? null },
        });
      }
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
