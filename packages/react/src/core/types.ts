import type { FlowscaleAPI, RunStatus } from 'flowscale';
import { isTerminalStatus } from 'flowscale/events';

/** The SDK client the hooks drive; normally a `FlowscaleAPI` in `proxyMode`. */
export type FlowScaleClient = FlowscaleAPI;

/** The run's status, or where the hook is before it has a run. */
export type RunPhase = 'idle' | 'submitting' | RunStatus;

export interface RunOutput {
  /** The output name (`filename_prefix_3_AB12CD34EF`), as `getOutput` accepts it. */
  name: string;
  filename: string;
  contentType?: string;
  size?: number;
  nodeId?: string;
  /** Signed download URL of a file output, once resolved. */
  url?: string;
  /** Content of a text output, once resolved. */
  text?: string;
}

export interface RunSnapshot {
  runId: string | null;
  status: RunPhase;
  /** 0–100. */
  progress: number;
  /** The node running now, while the run is running. */
  currentNode: { id: string; type?: string } | null;
  queuePosition: number | null;
  outputs: RunOutput[];
  error: Error | null;
  /** Sequence number of the last event applied; the stream resumes after it. */
  lastSeq: number;
  /** True while the event stream is open. */
  connected: boolean;
  /** The inputs' upload while submitting (`loaded === total` once sent); null before and for a followed run. */
  upload: { loaded: number; total: number | undefined } | null;
}

export const IDLE_RUN: RunSnapshot = Object.freeze({
  runId: null,
  status: 'idle',
  progress: 0,
  currentNode: null,
  queuePosition: null,
  outputs: [],
  error: null,
  lastSeq: 0,
  connected: false,
  upload: null,
}) as RunSnapshot;

export const isTerminal = (status: RunPhase): boolean => isTerminalStatus(status);
