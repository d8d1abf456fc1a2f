import type { RunEvent, RunRecord } from 'flowscale';
import { span } from './format';

/** Queue, model-load and run time of one run, in ms; null while a phase has not begun. */
export interface Phases {
  queue: number | null;
  load: number | null;
  run: number | null;
  /** The nodes counted as loading models, with their time. */
  loaders: Array<{ nodeId: string; nodeType: string; ms: number }>;
}

/**
 * ComfyUI's naming convention, for keys that cannot read the fleet inventory: CheckpointLoaderSimple,
 * LoraLoader, VAELoader, UNETLoader, CLIPLoader, ControlNetLoader, UpscaleModelLoader…
 */
export const looksLikeLoader = (classType: string): boolean => /Loader/.test(classType);

const END_EVENTS = new Set(['run.completed', 'run.failed', 'run.cancelled']);

/**
 * Model-load time is the time spent in nodes whose class loads a model: from a node's `node.executing` to
 * the next node's (or the run's end). Run time is the rest of the time from start to end. A warm model
 * (cached by the backend) costs its loader next to nothing, so it adds next to nothing.
 */
export function runPhases(
  run: RunRecord | null,
  events: RunEvent[],
  isLoader: (classType: string) => boolean,
  now = Date.now(),
): Phases {
  const queue = span(run?.created_at, run?.started_at ?? run?.completed_at, now);
  const total = run?.started_at ? span(run.started_at, run.completed_at, now) : null;
  const loaders: Phases['loaders'] = [];
  events.forEach((event, i) => {
    if (event.type !== 'node.executing' || !event.node_type || !isLoader(event.node_type)) return;
    const next = events
      .slice(i + 1)
      .find((later) => later.type === 'node.executing' || END_EVENTS.has(later.type));
    const end = next ? Date.parse(next.ts) : now;
    loaders.push({ nodeId: event.node_id, nodeType: event.node_type, ms: end - Date.parse(event.ts) });
  });
  const load = total === null ? null : loaders.reduce((sum, l) => sum + l.ms, 0);
  return { queue, load, run: total === null ? null : Math.max(0, total - (load ?? 0)), loaders };
}
