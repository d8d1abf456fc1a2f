import { type FlowScaleError, NetworkError, RunFailedError, TimeoutError } from '../core/errors';
import type { RequestOptions } from '../core/options';
import { RETRY_STATUSES } from '../core/retry';
import { timing } from '../core/timing';
import type { Transport } from '../core/transport';
import type {
  ApiResponse,
  ExecuteWorkflowResponseData,
  GetAllOutputsResponse,
  OutputData,
  OutputEntry,
  RunEvent,
  RunRecord,
} from '../types/api';
import { followRunEvents } from './events';

/** What `onIntermediateResponse` receives, in both event-stream and polling mode. */
export type AsyncUpdate =
  | { type: 'workflow_submitted'; runId: string; data: ExecuteWorkflowResponseData }
  | { type: 'run_status'; runId: string; status: string; progress?: number; data: RunRecord | RunEvent }
  | { type: 'output_status'; runId: string; filename: string; ready: boolean; data: OutputData | null }
  | { type: 'poll_retry'; runId: string; attempt: number; delayMs: number; error: unknown }
  | { type: 'completed'; runId: string; data: GetAllOutputsResponse };

export interface ExecuteWorkflowAsyncOptions extends RequestOptions {
  onIntermediateResponse?: (update: AsyncUpdate) => void;
  /**
   * How to wait: `auto` follows the run's event stream and falls back to polling when the server has
   * none; `poll` always polls (the original behaviour); `sse` never falls back. @default 'auto'
   */
  mode?: 'auto' | 'sse' | 'poll';
}

export interface RunApi {
  transport: Transport;
  getRun(runId: string, options: RequestOptions): Promise<ApiResponse<RunRecord>>;
  getOutput(filename: string, options: RequestOptions): Promise<ApiResponse<OutputData> | null>;
}

const FAILED = ['failed', 'error', 'cancelled'];

interface WaitContext {
  api: RunApi;
  runId: string;
  pollIntervalMs: number;
  signal: AbortSignal;
  request: RequestOptions;
  emit: (update: AsyncUpdate) => void;
}

/** Waits for a submitted run and collects every output: event stream first, polling as the fallback. */
export async function waitForOutputs(
  api: RunApi,
  runId: string,
  pollIntervalMs: number,
  signal: AbortSignal,
  options: ExecuteWorkflowAsyncOptions,
): Promise<OutputEntry[]> {
  // The idempotency key belongs to the POST that created the run, not to the reads that follow it.
  const { onIntermediateResponse, mode = 'auto', signal: _s, idempotencyKey: _k, ...request } = options;
  const emit = (update: AsyncUpdate) => onIntermediateResponse?.(update);
  const ctx: WaitContext = { api, runId, pollIntervalMs, signal, request, emit };
  if (mode !== 'poll') {
    try {
      await followToEnd(ctx);
    } catch (error) {
      if (mode === 'sse' || signal.aborted) throw error;
      api.transport.config.logger.log(
        'debug',
        `Run ${runId}: no event stream (${(error as Error).message}); polling`,
      );
    }
  }
  return poll(ctx);
}

/**
 * Follows the event stream until the run ends, reporting progress. The outputs are then collected by
 * one pass of the polling loop, which also turns a failed run into a RunFailedError.
 */
async function followToEnd(ctx: WaitContext): Promise<void> {
  const { runId, emit } = ctx;
  await followRunEvents(ctx.api.transport, runId, {
    ...ctx.request,
    signal: ctx.signal,
    onEvent: ({ data }) => {
      const { output } = data;
      emit(
        output
          ? { type: 'output_status', runId, filename: output.filename, ready: true, data: null }
          : { type: 'run_status', runId, status: data.status, progress: data.progress, data },
      );
    },
  });
}

/**
 * The documented polling: getRun, then getOutput for every output name not collected yet. A name whose
 * node saved a batch (the record lists several files for it) becomes one entry per file.
 */
async function poll(ctx: WaitContext): Promise<OutputEntry[]> {
  const { api, runId, emit, signal } = ctx;
  const collected = new Map<string, OutputEntry>();
  const read: ReadOutput = async (name, filename) => {
    const output = await api.getOutput(name, { ...ctx.request, signal });
    emit({ type: 'output_status', runId, filename, ready: !!output, data: output?.data ?? null });
    return output && { filename, ...output.data };
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const run = (await api.getRun(runId, { ...ctx.request, signal })).data;
      emit({ type: 'run_status', runId, status: run.status, progress: run.progress, data: run });
      if (FAILED.includes(run.status)) throw runFailed(runId, run.status, run.error);
      const names = run.output_names ?? [];
      for (const name of names) {
        if (collected.has(name)) continue;
        const entry = await read(name, filesOf(run, name)[0] ?? name);
        if (entry) collected.set(name, entry);
      }
      // A batch may still be growing until the run completes, so a record that lists files waits for that.
      const settled = run.status === 'completed' || !run.outputs?.length;
      if (collected.size === names.length && (names.length > 0 ? settled : run.status === 'completed')) {
        const entries = await everyFile(run, names, collected, read);
        if (entries) return entries;
      }
    } catch (error) {
      if (!isTransient(error) || signal.aborted) throw error;
      emit({ type: 'poll_retry', runId, attempt, delayMs: ctx.pollIntervalMs, error });
    }
    await timing.delay(ctx.pollIntervalMs, signal);
  }
}

type ReadOutput = (name: string, filename: string) => Promise<OutputEntry | null>;

/** One entry per stored file, in output-name order; undefined while a file of a batch is not ready. */
async function everyFile(
  run: RunRecord,
  names: string[],
  collected: Map<string, OutputEntry>,
  read: ReadOutput,
): Promise<OutputEntry[] | undefined> {
  const entries: OutputEntry[] = [];
  for (const name of names) {
    const files = filesOf(run, name);
    if (files.length < 2) {
      entries.push(collected.get(name)!);
      continue;
    }
    // getOutput by name cannot say which file of a batch it means: ask for each file by its own name.
    for (const file of files) {
      const entry = await read(file, file);
      if (!entry) return undefined;
      entries.push(entry);
    }
  }
  return entries;
}

/** The stored files (with extension) of an output name, in batch order: `<name>.png`, `<name>_2.png`, ... */
function filesOf(run: RunRecord, name: string): string[] {
  const index = (file: string) => Number(/^_(\d+)\./.exec(file.slice(name.length))?.[1] ?? 1);
  return (run.outputs ?? [])
    .map((output) => output.filename)
    .filter((file) => file.startsWith(name))
    .sort((a, b) => index(a) - index(b) || (a < b ? -1 : 1));
}

/** Worth another poll: no answer, or an answer that a retry may fix (a failed run has no status). */
const isTransient = (error: unknown) =>
  error instanceof NetworkError ||
  error instanceof TimeoutError ||
  RETRY_STATUSES.includes((error as FlowScaleError)?.status ?? 0);

function runFailed(
  runId: string,
  status: string,
  error: RunEvent['error'] | null | undefined,
): RunFailedError {
  const where = error?.node_id
    ? ` at node ${error.node_id}${error.node_type ? ` (${error.node_type})` : ''}`
    : '';
  const message =
    status === 'cancelled'
      ? `Run ${runId} was cancelled`
      : `Run ${runId} failed${where}: ${error?.message ?? status}`;
  return new RunFailedError(message, runId, { code: `run_${status}`, details: error ?? undefined });
}
