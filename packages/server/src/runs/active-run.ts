import type { Backend } from '../backends/backend-pool';
import type { Run, RunError } from '../storage/types';

/** In-memory state of an unfinished run. The store holds the truth; this holds what the backend told us. */
export interface ActiveRun {
  run: Run;
  chain: Promise<unknown>;
  executed: Set<string>;
  /** Output names whose files are stored (or that produced nothing). */
  collected: Set<string>;
  error?: RunError;
  interrupted: boolean;
  /** A POST /prompt was (or may have been) sent to run.backendId. */
  submitted: boolean;
  submittedAtMs: number;
  /** Loaded at start-up: its backend may have lost it along with us. */
  restored: boolean;
  vanished: number;
  /** The backend it is counted against in `Backend.assigned`. */
  countedOn?: Backend;
  /** The node the backend last said is executing; its `progress` messages count toward the run's. */
  runningNode?: string;
  /** When the last `node.progress` event was stored, and what it said (for coalescing). */
  lastProgressAt: number;
  lastProgress?: { nodeId: string; value: number; progress: number };
  /** A `node.progress` held back by coalescing: stored by a timer or before the next event, never lost. */
  pendingProgress?: { nodeId: string; value: number; max: number; progress: number };
  pendingTimer?: NodeJS.Timeout;
}

export function newActiveRun(run: Run, restored: boolean): ActiveRun {
  return {
    run,
    chain: Promise.resolve(),
    executed: new Set(),
    collected: new Set(run.outputs.map((output) => output.name)),
    interrupted: false,
    submitted: false,
    submittedAtMs: 0,
    restored,
    vanished: 0,
    lastProgressAt: 0,
  };
}
