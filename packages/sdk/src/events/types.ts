// The run-event contract, declared once: the server emits these events and statuses; the SDK, the CLI
// and the React hooks read them. Types only; the runtime values are in terminal.ts and statuses.ts.

/** The statuses a run never leaves. */
export type TerminalStatus = 'completed' | 'failed' | 'cancelled';

/** Every status a run takes: queued, then running, then one terminal status. */
export type RunStatus = 'queued' | 'running' | TerminalStatus;

/** The event that ends a run's stream; one per terminal status. */
export type TerminalEventType = `run.${TerminalStatus}`;

export type RunEventType =
  | 'run.queued'
  | 'run.started'
  | 'node.executing'
  | 'node.progress'
  | 'output.ready'
  | TerminalEventType;

export interface RunError {
  message: string;
  node_id?: string;
  node_type?: string;
}

/** A file a run produced, as its events describe it. */
export interface RunEventOutput {
  filename: string;
  name: string;
  content_type?: string;
  size?: number;
  node_id?: string;
}

/** What the `data` of every event carries (the SSE `id` is `seq`, the SSE `event` is `type`). */
interface RunEventBase<Type extends RunEventType, Status extends RunStatus> {
  type: Type;
  /** Per run, from 1, without gaps. */
  seq: number;
  run_id: string;
  /** The run's status once this event applied. */
  status: Status;
  /** 0–100; never goes back. */
  progress: number;
  /** ISO 8601. */
  ts: string;
}

type Unfinished = 'queued' | 'running';

export interface RunQueuedEvent extends RunEventBase<'run.queued', 'queued'> {
  /** Unfinished runs ahead of this one: 0 means next in line. */
  queue_position: number;
}

export interface RunStartedEvent extends RunEventBase<'run.started', 'running'> {
  /** The name of the backend running it. */
  backend: string;
}

export interface NodeExecutingEvent extends RunEventBase<'node.executing', Unfinished> {
  node_id: string;
  node_type: string | null;
}

export interface NodeProgressEvent extends RunEventBase<'node.progress', Unfinished> {
  node_id: string;
  value: number;
  max: number;
}

export interface OutputReadyEvent extends RunEventBase<'output.ready', Unfinished> {
  output: RunEventOutput;
}

export interface RunCompletedEvent extends RunEventBase<'run.completed', 'completed'> {
  outputs: RunEventOutput[];
}

export interface RunFailedEvent extends RunEventBase<'run.failed', 'failed'> {
  error: RunError;
}

export type RunCancelledEvent = RunEventBase<'run.cancelled', 'cancelled'>;

/** One event of `GET /api/v1/runs/{id}/events` (the JSON `data` of an SSE message); `type` discriminates. */
export type RunEvent =
  | RunQueuedEvent
  | RunStartedEvent
  | NodeExecutingEvent
  | NodeProgressEvent
  | OutputReadyEvent
  | RunCompletedEvent
  | RunFailedEvent
  | RunCancelledEvent;

export type TerminalRunEvent = Extract<RunEvent, { type: TerminalEventType }>;
