import { acceptsRuns, type Backend, type BackendLease, type BackendPool } from '../backends/backend-pool';
import type { Run } from '../storage/records';
import type { PlacementPolicy } from './policy';
import { canRun, type InventoryView, modelsOf } from './run-needs';
import { WarmModels } from './warm-models';

/**
 * Under model-affinity a run joins a busy warm backend's queue only while that backend has fewer
 * unfinished runs than this. Past it the run waits in the server, still free to go wherever its model is
 * warm when a backend frees up: runs committed deep into one backend's queue can no longer be balanced.
 * Four, not two: the next prompts must already be queued when a run ends, or the backend idles for the
 * server's per-run work (events, outputs), which took 0.1–0.3 s a run on a loaded 2-core machine.
 */
export const AFFINE_DEPTH = 4;
/** ComfyUI keeps one or two checkpoints loaded; the engine's test loader keeps two by default. */
const WARM_SETS = 2;
/** Bounds the per-run memory (a run cancelled on another replica is never forgotten otherwise). */
const MAX_REMEMBERED = 10_000;
/**
 * A model set whose waiting runs per warm backend are this many times another's may take a backend warm
 * for the other: below it a model load (seconds) costs more than the imbalance.
 */
const PRESSED = 1.5;
/** Waiting runs are looked at every second or so (each reconcile tick, or the shared queue's retry). */
const STALE_AFTER_MS = 30_000;

export interface PlacementOptions {
  pool: () => BackendPool;
  fleet: InventoryView;
  policy: PlacementPolicy;
  /** Longest a run waits for a busy warm backend while a cold backend that can run it is idle, in ms. */
  affinityWaitMs: number;
  maxRunsPerBackend: number;
}

interface Needs {
  /** The inventories the verdict was reached with; a change of any of them judges the run again. */
  stamp: string;
  /** Backends able to run it; null when none is (the backends then judge, as before inventories). */
  capable: ReadonlySet<string> | null;
  models: string[];
  key: string;
}

interface Held {
  since: number;
  key: string;
  /** Last looked at: a run not looked at for a while was placed or ended elsewhere (another replica). */
  seen: number;
}

interface Wanted {
  models: string[];
  count: number;
  /** When the first of them began to wait. */
  since: number;
  capable: ReadonlySet<string> | null;
}

const isIdle = (backend: Backend): boolean => backend.assigned === 0 && backend.queueRemaining === 0;

/**
 * Chooses the backend for a run. Only backends that can run it (their nodes and models) are candidates.
 * `least-queue` takes the one with the fewest unfinished runs, then the shortest queue, then round-robin.
 * `model-affinity` first prefers a backend where the run's models are warm, waiting for a busy one at most
 * `affinityWaitMs` while a cold one is idle (SwarmUI's rule): a model load costs far more than that wait.
 */
export class Placement {
  readonly #o: PlacementOptions;
  readonly #warm = new WarmModels(WARM_SETS);
  readonly #needs = new Map<string, Needs>();
  /** Runs waiting for a busy warm backend, since when. */
  readonly #held = new Map<string, Held>();
  /** Held runs per model set: a backend warm for one of these is wanted, not to be loaded over. */
  readonly #wanted = new Map<string, Wanted>();
  #next = 0;
  #prunedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #wake: () => void = () => undefined;

  constructor(options: PlacementOptions) {
    this.#o = options;
  }

  /** Called when a held run's wait is over, to look at the waiting runs again. */
  onWake(wake: () => void): void {
    this.#wake = wake;
  }

  /** A lease on the chosen backend, or undefined when the run must wait (in the server's queue). */
  place(run: Run): BackendLease | undefined {
    this.#pruneStale(run.id);
    const needs = this.#needsOf(run);
    const open = this.#o
      .pool()
      .list()
      .filter((backend) => acceptsRuns(backend) && (needs.capable === null || needs.capable.has(backend.id)));
    const room = open.filter((backend) => backend.assigned < this.#o.maxRunsPerBackend);
    if (room.length === 0) return undefined;
    const chosen =
      this.#o.policy === 'least-queue' || needs.models.length === 0
        ? this.#leastQueued(room)
        : this.#affine(run, needs, open, room);
    return chosen ? this.#lease(run.id, chosen, needs) : undefined;
  }

  /** The run ended (or is no one's to place any more). */
  forget(runId: string): void {
    this.#needs.delete(runId);
    this.#unhold(runId);
  }

  /** The backend (re)connected: it may have restarted with nothing loaded. */
  backendReconnected(backendId: string): void {
    this.#warm.forget(backendId);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #affine(run: Run, needs: Needs, open: Backend[], room: Backend[]): Backend | undefined {
    const isWarm = (backend: Backend) => this.#warm.has(backend.id, needs.models);
    const warmNow = room.filter((backend) => isWarm(backend) && backend.assigned < AFFINE_DEPTH);
    const best = warmNow.length > 0 ? this.#leastQueued(warmNow) : undefined;
    if (best && isIdle(best)) return best;
    // Warm nowhere: it must load somewhere; not where other waiting runs' models are warm.
    if (!best && !open.some(isWarm)) {
      const unwanted = room.filter((backend) => !this.#claimed(backend, needs.key, 0));
      return this.#leastQueued(unwanted.length > 0 ? unwanted : room);
    }
    const pressure = this.#pressure(needs.key, needs.models);
    const idleCold = room.filter(
      (backend) => isIdle(backend) && !isWarm(backend) && !this.#claimed(backend, needs.key, pressure),
    );
    if (idleCold.length === 0) {
      if (best) return best;
      this.#holdSince(run.id, needs);
      return undefined;
    }
    const due = this.#holdSince(run.id, needs) + this.#o.affinityWaitMs;
    if (Date.now() < due) {
      this.#arm(due);
      return undefined;
    }
    // Another model's runs, waiting as long, need a backend more: the idle one goes to them first.
    if (this.#outranked(needs.key, pressure, idleCold)) return undefined;
    return this.#leastQueued(idleCold);
  }

  /** Fewest unfinished runs, then the shortest queue, then the next in turn after the last chosen. */
  #leastQueued(backends: Backend[]): Backend | undefined {
    const all = this.#o.pool().list();
    const turn = (backend: Backend) => (all.indexOf(backend) - this.#next + all.length) % all.length;
    const order = (a: Backend, b: Backend) =>
      a.assigned - b.assigned || a.queueRemaining - b.queueRemaining || turn(a) - turn(b);
    let best: Backend | undefined;
    for (const backend of backends) if (!best || order(backend, best) < 0) best = backend;
    return best;
  }

  #lease(runId: string, backend: Backend, needs: Needs): BackendLease {
    this.#unhold(runId);
    this.#warm.note(backend.id, needs.models);
    const all = this.#o.pool().list();
    this.#next = (all.indexOf(backend) + 1) % Math.max(1, all.length);
    return this.#o.pool().lease(backend);
  }

  #needsOf(run: Run): Needs {
    const backends = this.#o.pool().list();
    const stamp = backends.map((backend) => this.#o.fleet.inventoryOf(backend.id)?.fingerprint ?? '-').join();
    const known = this.#needs.get(run.id);
    if (known?.stamp === stamp) return known;
    const able = backends.filter((backend) => canRun(run.graph, backend.id, this.#o.fleet));
    const models = modelsOf(run.graph, this.#o.fleet);
    const needs: Needs = {
      stamp,
      capable: able.length > 0 ? new Set(able.map((backend) => backend.id)) : null,
      models,
      key: models.join('\0'),
    };
    this.#needs.set(run.id, needs);
    if (this.#needs.size > MAX_REMEMBERED) this.#needs.delete(this.#needs.keys().next().value as string);
    return needs;
  }

  /**
   * How badly a model set needs backends: its waiting runs per backend where it is warm. Balancing on
   * it lets a backend take on a second model when one model's backlog outgrows the others'.
   */
  #pressure(key: string, models: readonly string[]): number {
    return (this.#wanted.get(key)?.count ?? 0) / Math.max(1, this.#warmCount(models));
  }

  #warmCount(models: readonly string[]): number {
    return this.#o
      .pool()
      .list()
      .filter((backend) => backend.connected && this.#warm.has(backend.id, models)).length;
  }

  /** Another model set's waiting runs, at least half as pressed, have the backend warm: it is theirs. */
  #claimed(backend: Backend, ownKey: string, pressure: number): boolean {
    for (const [key, wanted] of this.#wanted)
      if (
        key !== ownKey &&
        this.#warm.has(backend.id, wanted.models) &&
        this.#pressure(key, wanted.models) * PRESSED >= pressure
      )
        return true;
    return false;
  }

  /**
   * A more pressed model set, as long in waiting, with no idle warm backend of its own and able to run
   * on every one of `backends`: its runs take one of them in the same pass, so none stays idle.
   */
  #outranked(ownKey: string, pressure: number, backends: Backend[]): boolean {
    const now = Date.now();
    for (const [key, wanted] of this.#wanted)
      if (
        key !== ownKey &&
        wanted.since + this.#o.affinityWaitMs <= now &&
        backends.every((backend) => wanted.capable === null || wanted.capable.has(backend.id)) &&
        this.#pressure(key, wanted.models) > pressure &&
        !this.#idleWarm(wanted.models)
      )
        return true;
    return false;
  }

  #idleWarm(models: readonly string[]): boolean {
    return this.#o
      .pool()
      .list()
      .some((backend) => backend.connected && isIdle(backend) && this.#warm.has(backend.id, models));
  }

  #holdSince(runId: string, needs: Needs): number {
    const held = this.#held.get(runId);
    if (held) return held.since;
    const now = Date.now();
    this.#held.set(runId, { since: now, key: needs.key, seen: now });
    const wanted = this.#wanted.get(needs.key) ?? {
      models: needs.models,
      count: 0,
      since: now,
      capable: needs.capable,
    };
    wanted.count++;
    this.#wanted.set(needs.key, wanted);
    if (this.#held.size > MAX_REMEMBERED) this.#unhold(this.#held.keys().next().value as string);
    return now;
  }

  #unhold(runId: string): void {
    const held = this.#held.get(runId);
    if (!held) return;
    this.#held.delete(runId);
    const wanted = this.#wanted.get(held.key);
    if (wanted && --wanted.count <= 0) this.#wanted.delete(held.key);
  }

  #pruneStale(runId: string): void {
    const now = Date.now();
    const held = this.#held.get(runId);
    if (held) held.seen = now;
    if (now - this.#prunedAt < 1000) return;
    this.#prunedAt = now;
    for (const [id, entry] of this.#held) if (now - entry.seen > STALE_AFTER_MS) this.#unhold(id);
  }

  /** One timer, for the earliest end of a wait. */
  #arm(at: number): void {
    if (at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#wake();
      },
      Math.max(0, at - Date.now()),
    );
    this.#timer.unref();
  }
}
