import { RunFailedError } from '../core/errors';
import type { ExecuteWorkflowOptions, RequestOptions } from '../core/options';
import { isTransient } from '../core/retry';
import { timing } from '../core/timing';
import type { Transport } from '../core/transport';
import type { RunEvent } from '../events/types';
import type {
  ApiResponse,
  ExecuteWorkflowResponseData,
  GetAllOutputsResponse,
  OutputData,
  OutputEntry,
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

export interface ExecuteWorkflowAsyncOptions extends ExecuteWorkflowOptions {
  /**
   * Progress updates. An exception thrown here is logged (level `error`) and does not stop the wait: a bug
   * in a progress handler must not lose the run's result.
   */
  onIntermediateResponse?: (update: AsyncUpdate) => void;
  /**
   * How to wait: `auto` follows the run's event stream and falls back to polling when the server has
   * none; `poll` always polls (the original behaviour); `sse` never falls back. @default 'auto'
   */
  mode?: 'auto' | 'sse' | 'poll';
}

/** The client's own reads (its retries, headers and timeouts apply to every poll). */
export interface RunApi {
  getRun(runId: string, options: RequestOptions): Promise<ApiResponse<RunRecord>>;
  getOutput(filename: string, options: RequestOptions): Promise<ApiResponse<OutputData> | null>;
}

const FAILED = ['failed', 'error', 'cancelled'];

/**
 * Submits a run with `submit` and resolves with every output once it completes: the event stream first,
 * polling as the fallback. `signal` is the whole call's deadline.
 */
export async function runToCompletion(
  api: RunApi,
  transport: Transport,
  submit: () => Promise<ApiResponse<ExecuteWorkflowResponseData>>,
  pollIntervalMs: number,
  signal: AbortSignal,
  options: ExecuteWorkflowAsyncOptions,
): Promise<GetAllOutputsResponse> {
  // The idempotency key belongs to the POST that created the run, not to the reads that follow it.
  const {
    onIntermediateResponse,
    mode = 'auto',
    idempotencyKey: _k,
    onUploadProgress: _p,
    ...request
  } = options;
  const { logger } = transport.config;
  const emit = (update: AsyncUpdate) => {
    try {
      onIntermediateResponse?.(update);
    } catch (error) {
      logger.log('error', `onIntermediateResponse threw on ${update.type}: ${(error as Error)?.message}`);
    }
  };
  const { data: submitted } = await submit();
  const runId = submitted.run_id;
  emit({ type: 'workflow_submitted', runId, data: submitted });
  const reads = { ...request, signal };
  if (mode !== 'poll') {
    // Follow the event stream until the run ends, reporting progress. The outputs are then collected by
    // one pass of the polling loop, which also turns a failed run into a RunFailedError.
    try {
      await followRunEvents(transport, runId, {
        ...reads,
        onEvent: ({ data }) => {
          emit(
            'output' in data
              ? { type: 'output_status', runId, filename: data.output.filename, ready: true, data: null }
              : { type: 'run_status', runId, status: data.status, progress: data.progress, data },
          );
        },
      });
    } catch (error) {
      if (mode === 'sse' || signal.aborted) throw error;
      logger.log('debug', `Run ${runId}: no event stream (${(error as Error).message}); polling`);
    }
  }
  const result: GetAllOutputsResponse = {
    status: 'success',
    data: await poll(api, runId, pollIntervalMs, reads, emit),
  };
  emit({ type: 'completed', runId, data: result });
  return result;
}

/**
 * The documented polling: getRun, then getOutput for every output not collected yet. A name whose node
 * saved a batch (the record lists several files for it) becomes one entry per file.
 */
async function poll(
  api: RunApi,
  runId: string,
  pollIntervalMs: number,
  request: RequestOptions & { signal: AbortSignal },
  emit: (update: AsyncUpdate) => void,
): Promise<OutputEntry[]> {
  const ready = new Map<string, OutputData>();
  for (let attempt = 1; ; attempt++) {
    try {
      const run = (await api.getRun(runId, request)).data;
      const { status } = run;
      emit({ type: 'run_status', runId, status, progress: run.progress, data: run });
      throwIfFailed(runId, run);
      const names = run.output_names ?? [];
      // [what to ask getOutput for, the entry's filename]. getOutput by name cannot say which file of a
      // batch it means, so each file of a batch is asked for by its own name.
      const wanted = names.flatMap((name): [string, string][] => {
        const files = filesOf(run, name);
        return files.length < 2 ? [[name, files[0] ?? name]] : files.map((file) => [file, file]);
      });
      for (const [query, filename] of wanted) {
        if (ready.has(query)) continue;
        const output = await api.getOutput(query, request).catch(async (error) => {
          // The run may have ended since getRun (a server then answers 404): its final status says why.
          throwIfFailed(runId, (await api.getRun(runId, request)).data);
          throw error;
        });
        emit({ type: 'output_status', runId, filename, ready: !!output, data: output?.data ?? null });
        if (output) ready.set(query, output.data);
      }
      // A batch may still be growing until the run completes, so a record that lists files waits for that.
      const settled = status === 'completed' || (names.length > 0 && !run.outputs?.length);
      if (settled && wanted.every(([query]) => ready.has(query))) {
        // The file names come from this (settled) record: an output read early may have had no file yet.
        return wanted.map(([query, filename]) => ({ filename, ...ready.get(query)! }));
      }
    } catch (error) {
      if (!isTransient(error) || request.signal.aborted) throw error;
      emit({ type: 'poll_retry', runId, attempt, delayMs: pollIntervalMs, error });
    }
    await timing.delay(pollIntervalMs, request.signal);
  }
}

/** The stored files (with extension) of an output name, in batch order: `<name>.png`, `<name>_2.png`, ... */
function filesOf(run: RunRecord, name: string): string[] {
  const index = (file: string) => Number(/^_(\d+)\./.exec(file.slice(name.length))?.[1] ?? 1);
  return (run.outputs ?? [])
    .map((output) => output.filename)
    .filter((file) => file.startsWith(name))
    .sort((a, b) => index(a) - index(b) || (a < b ? -1 : 1));
}

/** Throws a RunFailedError for a run that failed, errored or was cancelled. */
function throwIfFailed(runId: string, { status, error }: RunRecord): void {
  if (!FAILED.includes(status)) return;
  const where = error?.node_id
    ? ` at node ${error.node_id}${error.node_type ? ` (${error.node_type})` : ''}`
    : '';
  const message =
    status === 'cancelled'
      ? `Run ${runId} was cancelled`
      : `Run ${runId} failed${where}: ${error?.message ?? status}`;
  throw new RunFailedError(message, runId, { code: `run_${status}`, details: error ?? undefined });
}
