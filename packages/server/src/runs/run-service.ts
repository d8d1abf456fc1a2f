import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Backend, BackendPool, PoolListener } from '../backends/backend-pool';
import type { ComfyHistoryEntry, ComfyMessage } from '../backends/comfy-types';
import type { BlobStore } from '../blobs/blob-store';
import { IdempotencyConflict, RunAlreadyFinished, RunNotFound, RunTimedOut } from '../errors';
import type { EventBus } from '../events/event-bus';
import type { InputBlobs } from '../inputs/input-blobs';
import type { Placement } from '../placement/placement';
import type { RunAccess } from '../projects/run-access';
import { type Scope, sees } from '../projects/scope';
import { quotaCheck } from '../quotas/quotas';
import {
  type IdempotencyClaim,
  isTerminal,
  type Run,
  type RunError,
  type RunInput,
  type RunPriority,
} from '../storage/records';
import type { SqlExecutor, Stores } from '../storage/stores';
import type { RunTracing } from '../telemetry/run-tracing';
import { RunEndCounter } from '../usage/run-ends';
import { admissionOf, inputBytes } from '../usage/usage';
import type { Deployment } from '../workflows/types';
import { type ActiveRun, type HeldPreview, newActiveRun } from './active-run';
import { BackendUploads } from './backend-uploads';
import { type DispatchDeps, Dispatcher, type DispatchOutcome } from './dispatcher';
import { fetchOutput } from './output-fetcher';
import { producedItems } from './output-files';
import { PartitionHold } from './partition-hold';
import { patchGraph, runToken } from './patch-graph';
import { Reconciler, type ReconcileTarget } from './reconciler';
import type { RunOptions } from './run-options';
import { waitingInOrder } from './run-order';
import { WAITING_NONE_REACHABLE } from './run-view';
import {
  type Effect,
  type EventDraft,
  initialState,
  progressWritten,
  type RunMessage,
  step,
} from './state-machine';
import { untilStored } from './until-stored';
import type { BoundInput } from './validate-inputs';
import { queueTimeoutMessage, WaitingRuns } from './waiting-runs';

export interface SubmitRequest {
  /** The new run's id, when the caller stored something under it first (its webhook endpoint). */
  runId?: string;
  /** The project of the key that submits it: the run's owner. */
  projectId: string;
  metadata: Record<string, unknown> | null;
  deployment: Deployment;
  groupId: string | null;
  options?: RunOptions;
  bound: BoundInput[];
  inputs: RunInput[];
  claim?: IdempotencyClaim;
  /** The project's quotas, checked atomically with the insert (see RunAdmission). */
  limits?: Record<string, number>;
}

export interface RunServiceDeps {
  stores: Stores;
  pool: () => BackendPool;
  inputFiles: InputBlobs;
  outputs: BlobStore;
  bus: EventBus;
  log: Logger;
  access: RunAccess;
  reconcileIntervalMs: number;
  /** A run no backend could take fails after waiting this long, in ms; 0 (or unset) waits forever. */
  queueTimeoutMs?: number;
  /**
   * With several replicas: accepted runs wait here until a replica owning a free backend takes them
   * (`take`). Without it, this process places every run itself.
   */
  queue?: RunQueue;
  /** Unfinished runs placed on one backend at most; the rest wait, taken in priority order. */
  maxRunsPerBackend?: number;
  /**
   * How long the runs of a backend that went out of reach without refusing (a partition) are held for
   * it, in ms; then its queued runs move and its running runs fail. Default 60 s.
   */
  partitionDeadlineMs?: number;
  /** A backend's inventory, so the FS nodes it lacks are lowered to core nodes before submitting. */
  inventoryOf?: DispatchDeps['inventoryOf'];
  /** Spans of each run's steps, when traces are on. */
  tracing?: RunTracing;
  /** Chooses each run's backend among those able to run it (see placement/placement.ts). */
  placement?: Placement;
}

/** Where accepted runs wait for placement when several replicas share the work. */
export interface RunQueue {
  /** Queues a run for placement; with `db`, inside the transaction that stores the run. */
  enqueue(runId: string, db?: SqlExecutor, priority?: RunPriority): Promise<void>;
  /** Wakes the replicas that can place runs (after the run's transaction committed). */
  ring(): void;
  /** Whether this replica owns a backend that can take a run now. */
  hasRoom(): boolean;
  /** Asks whichever replica owns the run to cancel it. */
  requestCancel(runId: string): Promise<void>;
}

/** Marks a queued run being cancelled before any replica placed it; never a real backend id. */
const CANCELLED_UNPLACED = '(cancelled before placement)';
/** Marks a queued run being failed by FLOWSCALE_QUEUE_TIMEOUT before any replica placed it. */
const TIMED_OUT_UNPLACED = '(timed out before placement)';
const REMOTE_CANCEL_WAIT_MS = 10_000;

const now = (): string => new Date().toISOString();

/**
 * Owns unfinished runs: it feeds what backends say to each run's state machine (state-machine.ts), writes
 * the resulting events, and performs the machine's effects (storing outputs, reading history). Placement
 * and submission are the dispatcher's; finding out what backends lost is the reconciler's.
 */
export class RunService implements PoolListener, ReconcileTarget {
  readonly #deps: RunServiceDeps;
  readonly #dispatcher: Dispatcher;
  readonly #active = new Map<string, ActiveRun>();
  readonly #byPrompt = new Map<string, ActiveRun>();
  /** Prompts moved off a backend that went away; deleted from its queue if it comes back. */
  readonly #movedAway = new Map<string, Set<string>>();
  readonly #reconciler: Reconciler;
  readonly #partitions: PartitionHold;
  readonly #uploads = new BackendUploads();
  /** Runs whose events already say that no backend is reachable (said once per run). */
  readonly #toldWaiting = new WeakSet<ActiveRun>();
  readonly #usage: RunEndCounter;
  readonly #waitingRuns: WaitingRuns;
  #stopped = false;
  #pumping = false;
  #pumpAgain = false;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
    this.#dispatcher = new Dispatcher({ ...deps, uploads: this.#uploads });
    this.#reconciler = new Reconciler(this, deps.pool, deps.log, deps.reconcileIntervalMs);
    this.#partitions = new PartitionHold(deps.partitionDeadlineMs ?? 60_000, (backend) =>
      this.#partitionExpired(backend),
    );
    this.#usage = new RunEndCounter(deps.stores, deps.log);
    this.#waitingRuns = new WaitingRuns({
      stores: deps.stores,
      bus: deps.bus,
      queueTimeoutMs: deps.queueTimeoutMs ?? 0,
      endUnplaced: (run, error) =>
        this.#endUnplaced(run, { type: 'fs.fail', data: { error } }, TIMED_OUT_UNPLACED),
    });
    // A run held for a warm backend is looked at again when its wait ends (with replicas: at the next poll).
    if (!deps.queue) deps.placement?.onWake(() => this.#pump());
  }

  get #pool(): BackendPool {
    return this.#deps.pool();
  }

  // ---- lifecycle ----

  /**
   * Starts the reconcile loop; alone (no queue), first takes charge of every unfinished run. With a queue,
   * runs are adopted per backend as this replica gains its lease (`adopt`).
   */
  async start(): Promise<void> {
    if (!this.#deps.queue) await this.adopt(null);
    this.#reconciler.start();
    void this.#usage.countMissedEnds(() => this.#stopped);
  }

  /** Takes charge of the unfinished runs placed on these backends (every unfinished run when null). */
  async adopt(backendIds: readonly string[] | null): Promise<void> {
    for (const run of await this.#deps.stores.runs.listUnfinished(backendIds ?? undefined)) {
      if (this.#active.has(run.id)) continue;
      if (backendIds && (run.backendId === null || !backendIds.includes(run.backendId))) continue;
      const active = this.#track(run, true);
      const backend = this.#pool.get(run.backendId);
      if (backend) {
        active.submitted = true;
        active.lease = this.#pool.lease(backend);
      } else if (run.backendId !== null) {
        // Placed on a backend no longer configured: place it again.
        await this.#unplace(active);
        if (this.#deps.queue) await this.#requeue(active);
      }
    }
    void this.#reconciler.tick();
  }

  /** Lets go of runs on backends another replica now owns; it adopts them from the store. */
  release(backendIds: readonly string[]): void {
    for (const active of [...this.#active.values()])
      if (active.run.backendId !== null && backendIds.includes(active.run.backendId)) this.#untrack(active);
  }

  /**
   * Places one queued run taken from the queue. True when the queue is done with it (placed, or no
   * longer queued); false to give it back (no backend could take it now).
   */
  async take(runId: string, known?: Run): Promise<boolean> {
    if (this.#stopped) return false;
    if (this.#active.has(runId)) return true;
    const run = known ?? (await this.#deps.stores.runs.get(runId));
    // Taken here meanwhile (the replica that accepted it places it at once): a second tracking would
    // replace the first, and its failed claim would untrack the run the first one is following.
    if (this.#active.has(runId)) return true;
    if (!run || isTerminal(run.status) || run.backendId !== null) return true;
    const active = this.#track(run, false);
    // Done with the job as soon as the run is claimed: the upload and the POST that follow can take
    // long, and a replica dying meanwhile leaves a placed run for its backend's next owner, not a job.
    let placed: () => void = () => undefined;
    const whenPlaced = new Promise<'placed'>((resolve) => {
      placed = () => resolve('placed');
    });
    const dispatched = this.#serial(active, () => this.#dispatch(active, placed));
    const outcome = await Promise.race([whenPlaced, dispatched]);
    return outcome !== 'waiting' && outcome !== 'retry';
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reconciler.stop();
    this.#partitions.stop();
    for (const active of this.#active.values()) active.progress.dispose();
    await Promise.allSettled([...this.#active.values()].map((active) => active.chain));
  }

  /** Whether this process is in charge of the run now. */
  holds(runId: string): boolean {
    return this.#active.has(runId);
  }

  activeCount(): { queued: number; running: number } {
    let queued = 0;
    let running = 0;
    for (const active of this.#active.values()) {
      if (active.run.status === 'running') running++;
      else queued++;
    }
    return { queued, running };
  }

  // ---- submission and cancel ----

  async submit(request: SubmitRequest): Promise<{ run: Run; replayed: boolean }> {
    const { graph, outputNames } = patchGraph(request.deployment, request.bound, runToken());
    const createdAt = now();
    const run: Run = {
      id: request.runId ?? randomUUID(),
      workflowId: request.deployment.id,
      groupId: request.groupId,
      status: 'queued',
      inputs: request.inputs,
      outputNames,
      outputs: [],
      progress: 0,
      error: null,
      graph,
      promptId: randomUUID(),
      backendId: null,
      submittedAt: null,
      createdAt,
      startedAt: null,
      completedAt: null,
      updatedAt: createdAt,
      projectId: request.projectId,
      metadata: request.metadata,
      priority: request.options?.priority ?? 'normal',
      timeoutMs: request.options?.timeoutMs ?? null,
      traceContext: this.#deps.tracing?.capture() ?? null,
    };
    // Unfinished runs submitted before this one, on whichever backend: a rough place in line.
    const queuePosition = this.#active.size;
    const queue = this.#deps.queue;
    const result = await this.#deps.stores.runs.insert(
      run,
      { type: 'run.queued', data: { queue_position: queuePosition } },
      request.claim,
      queue ? (db) => queue.enqueue(run.id, db, run.priority) : undefined,
      admissionOf(run, quotaCheck(request.limits ?? {}, inputBytes(run))),
    );
    if (result.kind === 'conflict') throw new IdempotencyConflict(result.runId);
    if (result.kind === 'replayed') return { run: result.run, replayed: true };
    this.#deps.access.remember(result.run);
    this.#deps.bus.publish(result.event, result.run);
    if (queue) {
      this.#placeHereOrRing(result.run, queue);
    } else {
      this.#track(result.run, false);
      this.#pump();
    }
    return { run: result.run, replayed: false };
  }

  /**
   * A replica that owns a backend with room places the run it accepted at once: no doorbell, no fetch, no
   * read back. Its queue job stays for whoever fetches it next, who finds the run placed and completes it;
   * the fenced claim keeps the two from both placing it. Otherwise every replica's doorbell rings.
   */
  #placeHereOrRing(run: Run, queue: RunQueue): void {
    if (!queue.hasRoom()) {
      queue.ring();
      return;
    }
    // A copy: dispatch changes its run in place, and the caller is still answering with this one.
    this.take(run.id, { ...run }).then(
      (taken) => {
        if (!taken) queue.ring();
      },
      () => queue.ring(),
    );
  }

  /** Cancels a run the scope may see; another project's run is as unknown as a missing one. */
  async cancel(runId: string, scope: Scope): Promise<void> {
    const active = this.#active.get(runId);
    if (active && !sees(scope, active.run.projectId)) throw new RunNotFound(runId);
    if (!active) {
      const run = await this.#deps.access.find(runId, scope);
      if (!run) throw new RunNotFound(runId);
      if (isTerminal(run.status) || !this.#deps.queue) throw new RunAlreadyFinished(runId, run.status);
      await this.#cancelElsewhere(run);
      return;
    }
    await this.#serial(active, async () => {
      if (isTerminal(active.run.status)) throw new RunAlreadyFinished(runId, active.run.status);
      const backend = active.submitted ? this.#pool.get(active.run.backendId) : undefined;
      await this.#apply(active, { type: 'fs.cancel', data: {} });
      if (backend) void this.#cancelOnBackend(backend, active.run.promptId);
    });
  }

  /** A run this replica does not hold: still in the queue, or owned by another replica. */
  async #cancelElsewhere(run: Run): Promise<void> {
    const queue = this.#deps.queue!;
    if (await this.#endUnplaced(run, { type: 'fs.cancel', data: {} }, CANCELLED_UNPLACED)) return;
    await queue.requestCancel(run.id);
    const deadline = Date.now() + REMOTE_CANCEL_WAIT_MS;
    for (;;) {
      const current = await this.#deps.stores.runs.get(run.id);
      if (!current || isTerminal(current.status)) {
        if (current && current.status !== 'cancelled') throw new RunAlreadyFinished(run.id, current.status);
        return;
      }
      if (Date.now() > deadline) return; // asked; its owner (or its adopter) ends it
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Ends a run no replica has placed: fenced out of every dispatcher by `marker` first (a claim, atomic
   * across replicas), so this replica alone writes its end. False when it was placed or ended meanwhile.
   */
  async #endUnplaced(
    run: Run,
    input:
      | { type: 'fs.cancel'; data: Record<string, never> }
      | { type: 'fs.fail'; data: { error: RunError } },
    marker: string,
  ): Promise<boolean> {
    if (run.backendId !== null || !(await this.#deps.stores.runs.claim(run.id, marker))) return false;
    const [draft] = step(initialState(run), input, { now: now(), backend: '' }).events;
    const patch = { ...draft!.patch, backendId: null };
    const event = await this.#deps.stores.events.append(run.id, draft!.type, draft!.data, patch);
    await this.#usage.countEnd({ ...run, ...patch, updatedAt: event.ts });
    this.#deps.bus.publish(event);
    return true;
  }

  /**
   * With several replicas, when no backend is reachable from any of them (the cluster's sweeper knows):
   * tells each queued run so once, and fails those past FLOWSCALE_QUEUE_TIMEOUT (waiting-runs.ts).
   */
  sweepWaiting(): Promise<void> {
    return this.#waitingRuns.sweep();
  }

  async #cancelOnBackend(backend: Backend, promptId: string): Promise<void> {
    try {
      await backend.client.deleteFromQueue([promptId]);
      await backend.client.interrupt(promptId);
    } catch (error) {
      this.#deps.log.warn({ err: error, backend: backend.name }, 'could not cancel prompt on backend');
    }
  }

  // ---- dispatch ----

  /**
   * A high-priority run goes to the front of its backend's queue when lower-priority runs of ours wait
   * there, unless an earlier high one still waits there too: ComfyUI puts each later `front` prompt ahead
   * of the earlier ones, so a second high run would overtake the first (it goes to the back instead).
   */
  #jumpsQueue(active: ActiveRun, backend: Backend): boolean {
    if (active.run.priority !== 'high') return false;
    let lower = false;
    for (const other of this.#active.values()) {
      if (other === active || other.run.backendId !== backend.id || other.run.status !== 'queued') continue;
      if (other.run.priority !== 'high') lower ||= other.submitted;
      else if (other.run.createdAt <= active.run.createdAt) return false;
    }
    return lower;
  }

  async #dispatch(active: ActiveRun, onPlaced?: () => void): Promise<DispatchOutcome['kind'] | 'skipped'> {
    if (isTerminal(active.run.status) || active.submitted) return 'skipped';
    const outcome = await this.#dispatcher.dispatch(active.run, {
      placed: (lease) => {
        active.lease = lease;
        active.run.backendId = lease.backend.id;
        this.#deps.tracing?.placed(active.run, lease.backend.name);
        onPlaced?.();
      },
      posting: () => {
        active.submitted = true;
        active.submittedAtMs = Date.now();
        active.restored = false;
        this.#byPrompt.set(active.run.promptId, active);
      },
      front: (backend) => this.#jumpsQueue(active, backend),
    });
    this.#deps.tracing?.dispatched(active.run, outcome.kind);
    switch (outcome.kind) {
      case 'waiting':
        if (this.#deps.queue)
          this.#untrack(active); // back to the queue, for any replica
        else await this.#waiting(active);
        break;
      case 'gone':
        this.#untrack(active);
        break;
      case 'retry':
        await this.#unplace(active);
        if (this.#deps.queue) this.#untrack(active);
        break;
      case 'rejected':
        if (!active.submitted) await this.#unplace(active);
        await this.#apply(active, { type: 'fs.fail', data: { error: outcome.error } });
        break;
    }
    return outcome.kind;
  }

  /** No backend is reachable: the run's events say so once, and FLOWSCALE_QUEUE_TIMEOUT may end it. */
  async #waiting(active: ActiveRun): Promise<void> {
    const timeoutMs = this.#deps.queueTimeoutMs ?? 0;
    if (timeoutMs > 0 && Date.now() - Date.parse(active.run.createdAt) >= timeoutMs) {
      const error = { message: queueTimeoutMessage(timeoutMs) };
      await this.#apply(active, { type: 'fs.fail', data: { error } });
      return;
    }
    if (this.#toldWaiting.has(active) || this.#pool.reachable()) return;
    this.#toldWaiting.add(active);
    const queuePosition = this.activeCount().queued - 1;
    await this.#write(active, {
      type: 'run.queued',
      data: { queue_position: Math.max(0, queuePosition), waiting: WAITING_NONE_REACHABLE },
      patch: {},
    });
  }

  /** Takes a run off the backend it was placed on (nothing was queued there, or it is gone). */
  async #unplace(active: ActiveRun): Promise<void> {
    active.lease?.release();
    active.lease = undefined;
    this.#byPrompt.delete(active.run.promptId);
    active.submitted = false;
    active.vanished = 0;
    active.run.backendId = null;
    await this.#deps.stores.runs.update(active.run.id, { backendId: null, submittedAt: null });
  }

  /** With several replicas, a run that must be placed again goes back to the queue for any of them. */
  async #requeue(active: ActiveRun): Promise<void> {
    this.#untrack(active);
    await this.#deps.queue!.enqueue(active.run.id, undefined, active.run.priority);
    this.#deps.queue!.ring();
  }

  // ---- backend events ----

  onMessage(backend: Backend, message: ComfyMessage): void {
    if (this.#stopped) return;
    const promptId = message.data?.prompt_id;
    if (typeof promptId !== 'string') return;
    const active = this.#byPrompt.get(promptId);
    if (!active || active.run.backendId !== backend.id) return;
    void this.#serial(active, () => this.#apply(active, message, backend));
  }

  onConnected(backend: Backend): void {
    // A reconnect may be a restart that emptied its input folder: upload files again when next needed.
    this.#uploads.forget(backend.id);
    if (this.#partitions.release(backend))
      this.#deps.log.info(
        { backend: backend.name, url: backend.url },
        'backend back before the partition deadline: its runs are reconciled through /queue and /history',
      );
    this.#deps.placement?.backendReconnected(backend.id);
    const moved = this.#movedAway.get(backend.id);
    if (moved && moved.size > 0) {
      this.#movedAway.delete(backend.id);
      void backend.client.deleteFromQueue([...moved]).catch(() => undefined);
    }
    void this.#reconciler.tick();
  }

  onDown(backend: Backend): void {
    if (backend.refused) {
      // Nothing listens there: the process and the queue ComfyUI keeps in memory are gone.
      this.#deps.log.warn({ backend: backend.name, url: backend.url }, 'backend unreachable');
      this.#abandon(backend, 'became unreachable while the run was executing');
      return;
    }
    const held = [...this.#active.values()].filter((active) => active.run.backendId === backend.id);
    if (held.length === 0) return;
    this.#deps.log.warn(
      { backend: backend.name, url: backend.url, runs: held.map((active) => active.run.id) },
      `backend out of reach but not refusing: it may still be executing, so its ${held.length} run(s) wait for it up to ${this.#partitions.deadlineMs} ms`,
    );
    this.#partitions.hold(backend);
  }

  #partitionExpired(backend: Backend): void {
    const seconds = Math.round(this.#partitions.deadlineMs / 1000);
    const runs = [...this.#active.values()].filter((active) => active.run.backendId === backend.id);
    this.#deps.log.warn(
      { backend: backend.name, url: backend.url, runs: runs.map((active) => active.run.id) },
      `partition deadline passed: queued runs move to other backends (each may also execute on ${backend.name} if it comes back before it is removed there) and running runs fail`,
    );
    this.#abandon(backend, `was out of reach for ${seconds} s while the run was executing`);
  }

  /** Gives up on a backend: its running runs fail, its queued runs are placed again. */
  #abandon(backend: Backend, runningReason: string): void {
    for (const active of this.#active.values()) {
      if (active.run.backendId !== backend.id) continue;
      void this.#serial(active, async () => {
        if (isTerminal(active.run.status) || active.run.backendId !== backend.id) return;
        if (active.run.status === 'running' && !active.restored) {
          const message = `Backend ${backend.name} (${backend.url}) ${runningReason}`;
          await this.#apply(active, { type: 'fs.fail', data: { error: { message } } });
          return;
        }
        this.#rememberMoved(backend, active.run.promptId);
        await this.#reassign(active);
      });
    }
  }

  // ---- the state machine and its effects ----

  /** Feeds one message to the run's state machine, writes its events and performs its effects. */
  async #apply(active: ActiveRun, message: RunMessage, backend?: Backend): Promise<void> {
    // A held-back node.progress goes out before whatever comes next, so the last progress of a node is
    // never lost and the log stays in the backend's order.
    if (message.type !== 'progress') await this.#flushProgress(active);
    const transition = step(active.state, message, { now: now(), backend: backend?.name ?? '' });
    active.state = transition.state;
    for (const draft of transition.events) {
      if (draft.type !== 'node.progress') await this.#write(active, draft);
      else if (active.progress.offer(draft, Date.now()) === 'write') await this.#writeProgress(active, draft);
    }
    for (const effect of transition.effects) {
      if (isTerminal(active.run.status)) return;
      await this.#perform(active, effect, backend);
    }
  }

  async #perform(active: ActiveRun, effect: Effect, backend: Backend | undefined): Promise<void> {
    if (!backend) return;
    switch (effect.kind) {
      case 'collect':
        return this.#collect(active, backend, effect);
      case 'read_history': {
        let entry: ComfyHistoryEntry | undefined;
        try {
          entry = await backend.client.getHistory(active.run.promptId);
        } catch {
          return; // reconciliation retries
        }
        if (entry) await this.#apply(active, { type: 'fs.history', data: { entry } }, backend);
        return;
      }
      case 'complete_after_collects':
        if (active.run.outputs.length === 0 && active.previews.length > 0)
          await this.#storeItems(active, backend, active.previews.splice(0));
        return this.#apply(active, { type: 'fs.complete', data: {} }, backend);
    }
  }

  /**
   * Copies each file an output node produced into output storage, announcing each as it is stored.
   * Previews are held back until the run ends (see `complete_after_collects`).
   */
  async #collect(
    active: ActiveRun,
    backend: Backend,
    effect: Extract<Effect, { kind: 'collect' }>,
  ): Promise<void> {
    const { nodeId, names, output: nodeOutput } = effect;
    const items = producedItems({ outputs: { [nodeId]: nodeOutput } }, nodeId);
    const produced = names.flatMap((name) =>
      items.map((item, index) => ({ target: { runId: active.run.id, name, nodeId, index }, item })),
    );
    active.previews.push(...produced.filter(({ item }) => item.preview));
    await this.#storeItems(
      active,
      backend,
      produced.filter(({ item }) => !item.preview),
    );
  }

  async #storeItems(active: ActiveRun, backend: Backend, produced: HeldPreview[]): Promise<void> {
    try {
      for (const { target, item } of produced) {
        const fetch = () => fetchOutput(this.#deps, backend, target, item);
        const output = await (this.#deps.tracing?.storing(active.run, target, fetch) ?? fetch());
        await this.#apply(active, { type: 'fs.output_stored', data: { output } }, backend);
      }
    } catch (error) {
      const message = (error as Error).message;
      await this.#apply(active, { type: 'fs.collect_failed', data: { message } }, backend);
    }
  }

  async #writeProgress(active: ActiveRun, draft: EventDraft): Promise<void> {
    active.progress.written(draft, Date.now());
    active.state = progressWritten(active.state, draft.patch.progress ?? 0);
    await this.#write(active, draft);
  }

  async #flushProgress(active: ActiveRun): Promise<void> {
    if (isTerminal(active.run.status) || this.#stopped) return;
    const pending = active.progress.takePending();
    if (pending) await this.#writeProgress(active, pending);
  }

  async #write(active: ActiveRun, draft: EventDraft): Promise<void> {
    // Let go of (its backend's lease moved to another replica): the new owner writes its events now.
    if (active.released) return;
    const event = await untilStored(
      () => this.#deps.stores.events.append(active.run.id, draft.type, draft.data, draft.patch),
      () => active.released || this.#stopped,
      (error, attempt) => {
        if (attempt === 1)
          this.#deps.log.warn({ err: error, run: active.run.id }, 'database unavailable; retrying');
      },
    );
    Object.assign(active.run, draft.patch, { updatedAt: event.ts });
    this.#deps.tracing?.written(active.run, event);
    if (isTerminal(active.run.status)) {
      this.#untrack(active);
      // Before the end is announced, so whoever hears it finds it counted.
      await this.#usage.countEnd(active.run);
    } else this.#armDeadline(active);
    // The run in memory is the run as stored after the event (bar submittedAt, which the dispatcher stamps
    // in the store only): written listeners need not read it back.
    this.#deps.bus.publish(event, active.run);
  }

  // ---- reconciliation (driven by Reconciler) ----

  unfinishedRuns(): Iterable<ActiveRun> {
    return this.#active.values();
  }

  dispatchLater(active: ActiveRun): void {
    if (this.#deps.queue) void this.#serial(active, () => this.#dispatch(active));
    else this.#pump();
  }

  reassignLater(active: ActiveRun): void {
    void this.#serial(active, () => this.#reassign(active));
  }

  startedLater(active: ActiveRun, backend: Backend): void {
    void this.#serial(active, () => this.#apply(active, { type: 'fs.started', data: {} }, backend));
  }

  settleLater(active: ActiveRun, backend: Backend, entry: ComfyHistoryEntry): void {
    void this.#serial(active, () => this.#apply(active, { type: 'fs.history', data: { entry } }, backend));
  }

  lostLater(active: ActiveRun, backend: Backend): void {
    void this.#serial(active, () => this.#lost(active, backend));
  }

  /** The prompt is neither queued nor in history: the backend restarted or someone deleted it. */
  async #lost(active: ActiveRun, backend: Backend): Promise<void> {
    if (isTerminal(active.run.status) || active.run.backendId !== backend.id) return;
    if (active.restored || active.run.status === 'queued') {
      this.#deps.log.info(
        { run: active.run.id, backend: backend.name },
        'prompt not found on backend; dispatching again',
      );
      await this.#reassign(active);
      return;
    }
    const message = `Prompt ${active.run.promptId} disappeared from ${backend.name} while running (backend restarted or prompt deleted)`;
    await this.#apply(active, { type: 'fs.fail', data: { error: { message } } });
  }

  async #reassign(active: ActiveRun): Promise<void> {
    await this.#unplace(active);
    if (this.#deps.queue) await this.#requeue(active);
    else this.#pump();
  }

  #rememberMoved(backend: Backend, promptId: string): void {
    const set = this.#movedAway.get(backend.id) ?? new Set<string>();
    set.add(promptId);
    this.#movedAway.set(backend.id, set);
  }

  // ---- bookkeeping ----

  #track(run: Run, restored: boolean): ActiveRun {
    const active = newActiveRun(
      run,
      restored,
      (due) => void this.#serial(due, () => this.#flushProgress(due)),
    );
    this.#active.set(run.id, active);
    this.#byPrompt.set(run.promptId, active);
    this.#armDeadline(active);
    return active;
  }

  #untrack(active: ActiveRun): void {
    active.released = true;
    active.progress.dispose();
    clearTimeout(active.deadline);
    const freed = active.lease !== undefined;
    active.lease?.release();
    active.lease = undefined;
    this.#active.delete(active.run.id);
    this.#byPrompt.delete(active.run.promptId);
    if (isTerminal(active.run.status)) this.#deps.placement?.forget(active.run.id);
    if (freed && !this.#deps.queue) this.#pump();
  }

  // ---- the server's own queue (alone; with replicas, pg-boss orders it) ----

  /**
   * Places waiting runs, highest priority and oldest first, while any backend has room. A run that must
   * wait (for a backend able to run it, or for a warm one) does not hold up the runs behind it.
   */
  #pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#placeWaiting().finally(() => {
      this.#pumping = false;
      if (this.#pumpAgain) {
        this.#pumpAgain = false;
        this.#pump();
      }
    });
  }

  async #placeWaiting(): Promise<void> {
    for (const active of waitingInOrder(this.#active.values())) {
      const outcome = await this.#serial(active, () => this.#dispatch(active)).catch(() => 'retry');
      if (this.#stopped) return;
      if (outcome === 'waiting' && this.#pool.capacity(this.#deps.maxRunsPerBackend ?? Infinity) === 0)
        return;
    }
  }

  // ---- per-run timeout ----

  /** Once a run with a timeout is running, fails it when the timeout passes (counted from its start). */
  #armDeadline(active: ActiveRun): void {
    const { timeoutMs, startedAt, status } = active.run;
    if (timeoutMs === null || active.deadline || status !== 'running' || !startedAt) return;
    const left = Math.max(0, Date.parse(startedAt) + timeoutMs - Date.now());
    active.deadline = setTimeout(() => void this.#serial(active, () => this.#timeOut(active)), left);
    active.deadline.unref();
  }

  async #timeOut(active: ActiveRun): Promise<void> {
    if (isTerminal(active.run.status) || active.released) return;
    const backend = active.submitted ? this.#pool.get(active.run.backendId) : undefined;
    const timedOut = new RunTimedOut(active.run.timeoutMs);
    const error = { message: timedOut.message, code: timedOut.code };
    await this.#apply(active, { type: 'fs.fail', data: { error } });
    if (backend) void this.#cancelOnBackend(backend, active.run.promptId);
  }

  /** Runs one step of a run's lifecycle after the previous one, so events stay ordered. */
  #serial<T>(active: ActiveRun, step: () => Promise<T>): Promise<T> {
    const result = active.chain.then(step);
    active.chain = result.catch((error: unknown) => {
      this.#deps.log.error({ err: error, run: active.run.id }, 'run step failed');
    });
    return result;
  }
}
