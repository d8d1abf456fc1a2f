import type { BackendLease } from '../backends/backend-pool';
import type { Run } from '../storage/records';
import type { OutputTarget } from './output-fetcher';
import type { ProducedItem } from './output-files';
import { ProgressCoalescer } from './progress-coalescer';
import { initialState, type RunState } from './state-machine';

/** In-memory state of an unfinished run. The store holds the truth; this holds what the backend told us. */
export interface ActiveRun {
  /** The record as last written; patches are applied as their events are stored. */
  run: Run;
  /** The state machine's view of the run (see state-machine.ts). */
  state: RunState;
  /** Steps of this run's lifecycle, one after another, so its events stay ordered. */
  chain: Promise<unknown>;
  /** A POST /prompt was (or may have been) sent to run.backendId. */
  submitted: boolean;
  submittedAtMs: number;
  /** Loaded at start-up: its backend may have lost it along with us. */
  restored: boolean;
  vanished: number;
  /** Its place on run.backendId, counted there until released. */
  lease?: BackendLease;
  progress: ProgressCoalescer;
  /** No longer this process's to write (finished, or its backend went to another replica). */
  released: boolean;
  /** Preview files (type `temp`) held back: stored only if the run ends with no other output. */
  previews: HeldPreview[];
  /** Fails the run once its execution passes run.timeoutMs. */
  deadline?: NodeJS.Timeout;
}

export interface HeldPreview {
  target: OutputTarget;
  item: ProducedItem;
}

export function newActiveRun(
  run: Run,
  restored: boolean,
  progressDue: (active: ActiveRun) => void,
): ActiveRun {
  const active: ActiveRun = {
    run,
    state: initialState(run),
    chain: Promise.resolve(),
    submitted: false,
    submittedAtMs: 0,
    restored,
    vanished: 0,
    progress: new ProgressCoalescer(() => progressDue(active)),
    released: false,
    previews: [],
  };
  return active;
}
