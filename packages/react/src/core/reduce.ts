import type { RunEvent, RunEventOutput } from 'flowscale';
import { isRunStatus } from 'flowscale/events';
import type { RunOutput, RunPhase, RunSnapshot } from './types';

/** Applies one run event to the snapshot. Pure, so replayed and live events fold the same way. */
export function reduceRunEvent(state: RunSnapshot, event: RunEvent): RunSnapshot {
  if (event.seq <= state.lastSeq) return state; // already applied (replay overlap after a reconnect)
  const next: RunSnapshot = {
    ...state,
    lastSeq: event.seq,
    status: phaseOf(event.status, state.status),
    progress: clampProgress(event.progress, state.progress),
  };
  switch (event.type) {
    case 'run.queued':
      next.queuePosition = typeof event.queue_position === 'number' ? event.queue_position : null;
      break;
    case 'run.started':
      next.queuePosition = null;
      break;
    case 'node.executing':
      next.currentNode = { id: String(event.node_id), type: optionalString(event.node_type) };
      break;
    case 'node.progress':
      if (!next.currentNode || next.currentNode.id !== String(event.node_id)) {
        next.currentNode = { id: String(event.node_id) };
      }
      break;
    case 'output.ready':
      if (event.output) next.outputs = mergeOutputs(state.outputs, [toOutput(event.output)]);
      break;
    case 'run.completed':
      next.status = 'completed';
      next.progress = 100;
      next.currentNode = null;
      if (event.outputs) next.outputs = mergeOutputs(next.outputs, event.outputs.map(toOutput));
      break;
    case 'run.failed':
      next.status = 'failed';
      next.currentNode = null;
      next.error = new Error(event.error?.message ?? 'The run failed');
      break;
    case 'run.cancelled':
      next.status = 'cancelled';
      next.currentNode = null;
      break;
  }
  return next;
}

function toOutput(o: RunEventOutput): RunOutput {
  return {
    name: o.name,
    filename: o.filename,
    ...(o.content_type ? { contentType: o.content_type } : {}),
    ...(typeof o.size === 'number' ? { size: o.size } : {}),
    ...(o.node_id ? { nodeId: String(o.node_id) } : {}),
  };
}

/** Keeps resolved URLs/text of outputs already known. */
export function mergeOutputs(current: RunOutput[], incoming: RunOutput[]): RunOutput[] {
  const merged = [...current];
  for (const o of incoming) {
    const at = merged.findIndex((m) => m.name === o.name);
    if (at === -1) merged.push(o);
    else merged[at] = { ...o, ...merged[at] };
  }
  return merged;
}

function phaseOf(status: string | undefined, fallback: RunPhase): RunPhase {
  // FlowScale's hosted API calls a failed run `error`.
  if (status === 'error') return 'failed';
  return status !== undefined && isRunStatus(status) ? status : fallback;
}

function clampProgress(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : fallback;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
