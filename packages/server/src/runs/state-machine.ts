import type { ComfyHistoryEntry, ComfyMessage } from '../backends/comfy-types';
import { isTerminal, type RunError, type RunOutput, type RunPatch, type RunStatus } from '../storage/records';
import { nodeIdOfOutputName } from './patch-graph';

/**
 * A run's lifecycle as a pure function: (state, message) → (next state, events to append, effects to
 * perform). Messages are what a ComfyUI backend says about the run's prompt, plus a few the run service
 * makes itself (the `fs.*` ones) when an effect finishes, a client cancels or dispatch gives up. Nothing
 * here does I/O or reads the clock, so recorded message sequences replay exactly in unit tests.
 */

export interface RunState {
  readonly status: RunStatus;
  readonly progress: number;
  /** Node id → class_type, for node.executing events and progress shares. */
  readonly nodeTypes: Readonly<Record<string, string | undefined>>;
  readonly outputNames: readonly string[];
  readonly outputs: readonly RunOutput[];
  /** Nodes that ran or were cached. */
  readonly executed: ReadonlySet<string>;
  /** Output names whose files are being or have been stored. */
  readonly collected: ReadonlySet<string>;
  readonly runningNode?: string;
  /** From an `execution_error` message; used if the history entry has none. */
  readonly error?: RunError;
  readonly interrupted: boolean;
}

/** An event to append to the run's log, with the record patch applied in the same write. */
export interface EventDraft {
  type: string;
  data: Record<string, unknown>;
  patch: RunPatch;
}

export type Effect =
  /** Store the files one output node produced (answer with fs.output_stored / fs.collect_failed). */
  | { kind: 'collect'; nodeId: string; names: string[]; output: Record<string, unknown> }
  /** The prompt ended: read its history entry (answer with fs.history). */
  | { kind: 'read_history' }
  /** Every collect effect before this one is done: answer with fs.complete. */
  | { kind: 'complete_after_collects' };

export type RunMessage =
  | ComfyMessage
  | { type: 'fs.output_stored'; data: { output: RunOutput } }
  | { type: 'fs.collect_failed'; data: { message: string } }
  | { type: 'fs.history'; data: { entry: ComfyHistoryEntry } }
  | { type: 'fs.complete'; data: Record<string, never> }
  | { type: 'fs.started'; data: Record<string, never> }
  | { type: 'fs.cancel'; data: Record<string, never> }
  | { type: 'fs.fail'; data: { error: RunError } };

export interface StepContext {
  /** ISO time of this step, stamped on started/completed patches. */
  now: string;
  /** The backend's display name, e.g. "container #1". */
  backend: string;
}

export interface Transition {
  state: RunState;
  events: EventDraft[];
  effects: Effect[];
}

export function initialState(run: {
  status: RunStatus;
  progress: number;
  graph: Record<string, { class_type?: string }>;
  outputNames: readonly string[];
  outputs: readonly RunOutput[];
}): RunState {
  const nodeTypes: Record<string, string | undefined> = {};
  for (const [id, node] of Object.entries(run.graph)) nodeTypes[id] = node.class_type;
  return {
    status: run.status,
    progress: run.progress,
    nodeTypes,
    outputNames: run.outputNames,
    outputs: run.outputs,
    executed: new Set(),
    collected: new Set(run.outputs.map((output) => output.name)),
    interrupted: false,
  };
}

/** Builds a transition by applying drafts in order, so each sees the state the previous one left. */
class Step {
  state: RunState;
  readonly events: EventDraft[] = [];
  readonly effects: Effect[] = [];
  readonly ctx: StepContext;

  constructor(state: RunState, ctx: StepContext) {
    this.state = state;
    this.ctx = ctx;
  }

  set(patch: Partial<RunState>): void {
    this.state = { ...this.state, ...patch };
  }

  emit(type: string, extra: Record<string, unknown>, patch: RunPatch): void {
    if (isTerminal(this.state.status)) return;
    const status = patch.status ?? this.state.status;
    // Monotonic: a run's progress never goes back, whatever order or source the figures came from.
    const progress = Math.max(this.state.progress, patch.progress ?? this.state.progress);
    this.events.push({ type, data: { status, progress, ...extra }, patch: { ...patch, progress } });
    this.set({ status, progress, ...(patch.outputs ? { outputs: patch.outputs } : {}) });
  }

  done(): Transition {
    return { state: this.state, events: this.events, effects: this.effects };
  }
}

export function step(state: RunState, message: RunMessage, ctx: StepContext): Transition {
  const s = new Step(state, ctx);
  if (isTerminal(state.status)) return s.done();
  const handler = HANDLERS[message.type];
  handler?.(s, message.data as never);
  return s.done();
}

type Handler = (s: Step, data: Record<string, unknown>) => void;

const HANDLERS: Record<string, Handler> = {
  execution_start: (s) => markStarted(s),
  'fs.started': (s) => markStarted(s),
  execution_cached: (s, data) => {
    const nodes = Array.isArray(data.nodes) ? data.nodes.map(String) : [];
    s.set({ executed: new Set([...s.state.executed, ...nodes]) });
  },
  executing: (s, data) => {
    if (data.node === null || data.node === undefined) {
      s.set({ runningNode: undefined });
      s.effects.push({ kind: 'read_history' });
      return;
    }
    markStarted(s);
    const nodeId = String(data.node);
    const progress = progressAtNodeStart(s.state);
    s.set({ executed: new Set([...s.state.executed, nodeId]), runningNode: nodeId });
    s.emit('node.executing', { node_id: nodeId, node_type: s.state.nodeTypes[nodeId] ?? null }, { progress });
  },
  progress: (s, data) => {
    const nodeId = String(data.node);
    const value = Number(data.value);
    const max = Number(data.max);
    const progress = progressWithinNode(s.state, nodeId, value, max);
    // Not applied to the state: the coalescer may hold or drop it. The run service applies what it
    // writes with `progressWritten`, so progress stays what the log says.
    s.events.push({
      type: 'node.progress',
      data: { status: s.state.status, progress, node_id: nodeId, value, max },
      patch: { progress },
    });
  },
  executed: (s, data) => collect(s, String(data.node), data.output as Record<string, unknown> | undefined),
  execution_success: (s) => {
    // Every output already arrived with `executed`: no need to wait for the history entry.
    if (s.state.outputNames.every((name) => s.state.collected.has(name)))
      s.effects.push({ kind: 'complete_after_collects' });
  },
  execution_error: (s, data) => s.set({ error: errorFrom(data) }),
  execution_interrupted: (s) => s.set({ interrupted: true }),
  'fs.history': (s, data) => settleFromHistory(s, data.entry as ComfyHistoryEntry),
  'fs.output_stored': (s, data) => {
    const output = data.output as RunOutput;
    const outputs = [...s.state.outputs, output];
    s.emit('output.ready', { output }, { outputs });
  },
  'fs.collect_failed': (s, data) =>
    fail(s, { message: `Could not fetch outputs from ${s.ctx.backend}: ${String(data.message)}` }),
  'fs.complete': (s) => {
    const outputs = [...s.state.outputs];
    s.emit(
      'run.completed',
      { outputs },
      { status: 'completed', progress: 100, outputs, completedAt: s.ctx.now },
    );
  },
  'fs.cancel': (s) => s.emit('run.cancelled', {}, { status: 'cancelled', completedAt: s.ctx.now }),
  'fs.fail': (s, data) => fail(s, data.error as RunError),
};

function markStarted(s: Step): void {
  if (s.state.status !== 'queued') return;
  s.emit('run.started', { backend: s.ctx.backend }, { status: 'running', startedAt: s.ctx.now });
}

function fail(s: Step, error: RunError): void {
  s.emit('run.failed', { error }, { status: 'failed', error, completedAt: s.ctx.now });
}

const errorFrom = (data: Record<string, unknown>): RunError => ({
  message: String(data.exception_message ?? 'Execution failed').trim(),
  ...(data.node_id !== undefined ? { node_id: String(data.node_id) } : {}),
  ...(data.node_type !== undefined ? { node_type: String(data.node_type) } : {}),
});

/** Marks the node's outputs as taken and asks for their files; a node seen twice is collected once. */
function collect(s: Step, nodeId: string, output: Record<string, unknown> | undefined): void {
  if (!output) return;
  const names = s.state.outputNames.filter(
    (name) => nodeIdOfOutputName(name) === nodeId && !s.state.collected.has(name),
  );
  if (names.length === 0) return;
  s.set({ collected: new Set([...s.state.collected, ...names]) });
  s.effects.push({ kind: 'collect', nodeId, names, output });
}

/** The history entry says how the prompt ended; outputs not yet stored are taken from it. */
function settleFromHistory(s: Step, entry: ComfyHistoryEntry): void {
  markStarted(s);
  const statusStr = entry.status?.status_str;
  if (statusStr === 'success' || (statusStr === undefined && entry.status?.completed)) {
    for (const name of s.state.outputNames) {
      const nodeId = nodeIdOfOutputName(name);
      collect(s, nodeId, entry.outputs?.[nodeId]);
    }
    s.effects.push({ kind: 'complete_after_collects' });
    return;
  }
  const messages = entry.status?.messages ?? [];
  const errorMessage = messages.find(([type]) => type === 'execution_error')?.[1];
  const interrupted = messages.some(([type]) => type === 'execution_interrupted') || s.state.interrupted;
  if (errorMessage) fail(s, errorFrom(errorMessage));
  else if (s.state.error) fail(s, s.state.error);
  else
    fail(s, {
      message: interrupted
        ? `Interrupted on ${s.ctx.backend}`
        : `Backend reported status "${statusStr ?? 'unknown'}"`,
    });
}

const nodeCount = (state: RunState): number => Object.keys(state.nodeTypes).length || 1;

/** Run progress when a node starts: the share of the graph's nodes finished (or cached) so far. */
function progressAtNodeStart(state: RunState): number {
  return Math.max(state.progress, Math.min(99, Math.floor((100 * state.executed.size) / nodeCount(state))));
}

/**
 * Run progress while `nodeId` reports `value` of `max`: finished nodes plus that fraction of the running
 * one. It stays below what the node's finishing gives (the next `node.executing`), so a bar never jumps
 * back and every step inside a node is visible between its neighbours.
 */
function progressWithinNode(state: RunState, nodeId: string, value: number, max: number): number {
  // Progress from a node we did not see start (or a nonsense max) cannot be placed; keep what we have.
  if (state.runningNode !== nodeId || !(max > 0) || !Number.isFinite(value)) return state.progress;
  const total = nodeCount(state);
  const finished = state.executed.size - (state.executed.has(nodeId) ? 1 : 0);
  const fraction = Math.min(1, Math.max(0, value / max));
  const within = Math.floor((100 * (finished + fraction)) / total);
  const belowNext = Math.floor((100 * (finished + 1)) / total) - 1;
  return Math.max(state.progress, Math.min(99, within, belowNext));
}

/** A `node.progress` draft the run service wrote (now, or later after holding it). */
export const progressWritten = (state: RunState, progress: number): RunState =>
  progress > state.progress ? { ...state, progress } : state;
