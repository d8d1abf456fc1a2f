import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Backend, BackendPool, PoolListener } from '../backends/backend-pool';
import { BackendRejectedError, PromptRejectedError } from '../backends/comfy-client';
import type { ComfyHistoryEntry, ComfyMessage } from '../backends/comfy-types';
import type { EventBus } from '../events/event-bus';
import { IdempotencyConflict, RunAlreadyFinished, RunNotFound } from '../http/errors';
import type { InputFileStore } from '../inputs/file-store';
import type { OutputStorage } from '../outputs/output-storage';
import {
  type IdempotencyClaim,
  isTerminal,
  type Run,
  type RunError,
  type RunInput,
  type RunPatch,
  type Storage,
} from '../storage/types';
import type { ComfyGraph, Deployment } from '../workflows/types';
import { type ActiveRun, newActiveRun } from './active-run';
import { extensionOf, splitInputName } from './backend-inputs';
import { fetchOutput } from './output-fetcher';
import { producedItems } from './output-files';
import { nodeIdOfOutputName, patchGraph, runToken } from './patch-graph';
import { Reconciler, type ReconcileTarget } from './reconciler';
import type { BoundInput } from './validate-inputs';

export interface SubmitRequest {
  deployment: Deployment;
  groupId: string | null;
  bound: BoundInput[];
  inputs: RunInput[];
  claim?: IdempotencyClaim;
}

export interface RunServiceDeps {
  storage: Storage;
  pool: () => BackendPool;
  inputFiles: InputFileStore;
  outputs: OutputStorage;
  bus: EventBus;
  log: Logger;
  reconcileIntervalMs: number;
}

const PROGRESS_EVENT_EVERY_MS = 100;
const now = (): string => new Date().toISOString();

/** Owns run lifecycles: submission, dispatch, backend events, outputs, cancel and reconciliation. */
export class RunService implements PoolListener, ReconcileTarget {
  readonly #deps: RunServiceDeps;
  readonly #active = new Map<string, ActiveRun>();
  readonly #byPrompt = new Map<string, ActiveRun>();
  /** Prompts moved off a backend that went away; deleted from its queue if it comes back. */
  readonly #movedAway = new Map<string, Set<string>>();
  readonly #reconciler: Reconciler;
  #stopped = false;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
    this.#reconciler = new Reconciler(this, deps.pool, deps.log, deps.reconcileIntervalMs);
  }

  get #pool(): BackendPool {
    return this.#deps.pool();
  }

  // ---- lifecycle ----

  /** Loads unfinished runs so reconciliation can settle them, then starts the reconcile loop. */
  async start(): Promise<void> {
    for (const run of await this.#deps.storage.listUnfinishedRuns()) {
      const active = this.#track(run, true);
      const backend = this.#pool.get(run.backendId);
      if (backend) {
        active.submitted = true;
        this.#count(active, backend);
      } else {
        active.run.backendId = null;
      }
    }
    this.#reconciler.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reconciler.stop();
    for (const active of this.#active.values()) clearTimeout(active.pendingTimer);
    await Promise.allSettled([...this.#active.values()].map((active) => active.chain));
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
      id: randomUUID(),
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
    };
    // Unfinished runs submitted before this one, on whichever backend: a rough place in line.
    const queuePosition = this.#active.size;
    const result = await this.#deps.storage.insertRun(
      run,
      { type: 'run.queued', data: { queue_position: queuePosition } },
      request.claim,
    );
    if (result.kind === 'conflict') throw new IdempotencyConflict(result.runId);
    if (result.kind === 'replayed') return { run: result.run, replayed: true };
    const active = this.#track(result.run, false);
    this.#deps.bus.publish(result.event);
    void this.#serial(active, () => this.#dispatch(active));
    return { run: result.run, replayed: false };
  }

  async cancel(runId: string): Promise<void> {
    const active = this.#active.get(runId);
    if (!active) {
      const run = await this.#deps.storage.getRun(runId);
      if (!run) throw new RunNotFound(runId);
      throw new RunAlreadyFinished(runId, run.status);
    }
    await this.#serial(active, async () => {
      if (isTerminal(active.run.status)) throw new RunAlreadyFinished(runId, active.run.status);
      const backend = active.submitted ? this.#pool.get(active.run.backendId) : undefined;
      await this.#emit(active, 'run.cancelled', {}, { status: 'cancelled', completedAt: now() });
      if (backend) void this.#cancelOnBackend(backend, active.run.promptId);
    });
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

  async #dispatch(active: ActiveRun): Promise<void> {
    if (isTerminal(active.run.status) || active.submitted) return;
    const backend = this.#pool.pick();
    const clientId = backend?.socket.clientId;
    if (!backend || !clientId) return; // stays queued; the reconcile loop retries when a backend is up
    this.#count(active, backend);
    active.run.backendId = backend.id;
    await this.#deps.storage.updateRun(active.run.id, { backendId: backend.id, submittedAt: null });
    let graph: ComfyGraph;
    try {
      graph = await this.#bindFiles(active.run, backend);
    } catch (error) {
      this.#uncount(active);
      active.run.backendId = null;
      if (error instanceof BackendRejectedError) {
        await this.#fail(active, {
          message: `Backend ${backend.name} refused an input file: ${error.message}`,
        });
        return;
      }
      this.#deps.log.warn({ err: error, run: active.run.id }, 'upload to backend failed; will retry');
      return;
    }
    active.submitted = true;
    active.submittedAtMs = Date.now();
    active.restored = false;
    this.#byPrompt.set(active.run.promptId, active);
    try {
      await backend.client.submitPrompt(graph, active.run.promptId, clientId);
    } catch (error) {
      if (error instanceof PromptRejectedError || error instanceof BackendRejectedError) {
        await this.#fail(active, { message: `Backend rejected the workflow: ${error.message}` });
        return;
      }
      // The prompt may or may not be queued; reconciliation by prompt_id finds out without queueing it twice.
      this.#deps.log.warn({ err: error, run: active.run.id }, 'submit to backend failed; reconciling');
      return;
    }
    await this.#deps.storage.updateRun(active.run.id, { submittedAt: now() });
  }

  /** Uploads the run's input files to the backend and returns the graph with their backend names bound. */
  async #bindFiles(run: Run, backend: Backend): Promise<ComfyGraph> {
    const fileInputs = run.inputs.filter((input) => input.file && input.name);
    if (fileInputs.length === 0) return run.graph;
    const graph = structuredClone(run.graph);
    for (const input of fileInputs) {
      const file = input.file!;
      const [parameter, nodeId] = splitInputName(input.name!);
      const node = graph[nodeId];
      if (!node) continue;
      const extension = extensionOf(file.filename, file.content_type);
      const uploadedName = await backend.client.uploadImage(
        this.#deps.inputFiles.pathFor(file.sha256),
        `fs_${file.sha256.slice(0, 32)}${extension}`,
        file.content_type,
      );
      node.inputs[parameter] = uploadedName;
    }
    return graph;
  }

  // ---- backend events ----

  onMessage(backend: Backend, message: ComfyMessage): void {
    if (this.#stopped) return;
    const promptId = message.data?.prompt_id;
    if (typeof promptId !== 'string') return;
    const active = this.#byPrompt.get(promptId);
    if (!active || active.run.backendId !== backend.id) return;
    void this.#serial(active, () => this.#onPromptMessage(active, backend, message));
  }

  onConnected(backend: Backend): void {
    const moved = this.#movedAway.get(backend.id);
    if (moved && moved.size > 0) {
      this.#movedAway.delete(backend.id);
      void backend.client.deleteFromQueue([...moved]).catch(() => undefined);
    }
    void this.#reconciler.tick();
  }

  onDown(backend: Backend): void {
    this.#deps.log.warn({ backend: backend.name, url: backend.url }, 'backend unreachable');
    for (const active of this.#active.values()) {
      if (active.run.backendId !== backend.id) continue;
      void this.#serial(active, async () => {
        if (isTerminal(active.run.status) || active.run.backendId !== backend.id) return;
        if (active.run.status === 'running' && !active.restored) {
          await this.#fail(active, {
            message: `Backend ${backend.name} (${backend.url}) became unreachable while the run was executing`,
          });
          return;
        }
        this.#rememberMoved(backend, active.run.promptId);
        await this.#reassign(active);
      });
    }
  }

  async #onPromptMessage(active: ActiveRun, backend: Backend, message: ComfyMessage): Promise<void> {
    if (isTerminal(active.run.status)) return;
    const data = message.data;
    // A held-back node.progress goes out before whatever the backend says next, so the last progress of a
    // node is never lost and the log stays in the backend's order.
    if (message.type !== 'progress') await this.#flushProgress(active);
    switch (message.type) {
      case 'execution_start':
        await this.#markStarted(active, backend);
        return;
      case 'execution_cached':
        for (const node of (data.nodes as string[] | undefined) ?? []) active.executed.add(String(node));
        return;
      case 'executing': {
        if (data.node === null || data.node === undefined) {
          active.runningNode = undefined;
          await this.#finish(active, backend);
          return;
        }
        await this.#markStarted(active, backend);
        const nodeId = String(data.node);
        const progress = this.#progressOf(active);
        active.executed.add(nodeId);
        active.runningNode = nodeId;
        await this.#emit(
          active,
          'node.executing',
          { node_id: nodeId, node_type: active.run.graph[nodeId]?.class_type ?? null },
          { progress },
        );
        return;
      }
      case 'progress': {
        const nodeId = String(data.node);
        const value = Number(data.value);
        const max = Number(data.max);
        const update = { nodeId, value, max, progress: this.#progressWithin(active, nodeId, value, max) };
        const last = active.lastProgress;
        // Coalescing: a message that changes neither the node's value nor the whole-percent run progress
        // adds nothing; the rest are stored at most every PROGRESS_EVENT_EVERY_MS per run, except a node's
        // final step, so a chatty node cannot flood the event log.
        if (last?.nodeId === nodeId && last.value === value && last.progress === update.progress) {
          // Back where the log already says it is: an update held back since would now be out of date.
          active.pendingProgress = undefined;
          return;
        }
        if (value >= max || Date.now() - active.lastProgressAt >= PROGRESS_EVENT_EVERY_MS) {
          await this.#emitProgress(active, update);
          return;
        }
        active.pendingProgress = update;
        this.#flushProgressLater(active);
        return;
      }
      case 'executed':
        try {
          await this.#collectNode(active, backend, String(data.node), data.output as Record<string, unknown>);
        } catch (error) {
          await this.#fail(active, {
            message: `Could not fetch outputs from ${backend.name}: ${(error as Error).message}`,
          });
        }
        return;
      case 'execution_success':
        // Every output already arrived with `executed`: no need to wait for the history entry.
        if (this.#allOutputsCollected(active)) await this.#complete(active, backend);
        return;
      case 'execution_error':
        active.error = {
          message: String(data.exception_message ?? 'Execution failed').trim(),
          ...(data.node_id !== undefined ? { node_id: String(data.node_id) } : {}),
          ...(data.node_type !== undefined ? { node_type: String(data.node_type) } : {}),
        };
        return;
      case 'execution_interrupted':
        active.interrupted = true;
        return;
      default:
        return;
    }
  }

  async #markStarted(active: ActiveRun, backend: Backend): Promise<void> {
    if (active.run.status !== 'queued') return;
    await this.#emit(
      active,
      'run.started',
      { backend: backend.name },
      { status: 'running', startedAt: now() },
    );
  }

  /** Run progress when a node starts: the share of the graph's nodes finished (or cached) so far. */
  #progressOf(active: ActiveRun): number {
    const total = Object.keys(active.run.graph).length || 1;
    return Math.max(active.run.progress, Math.min(99, Math.floor((100 * active.executed.size) / total)));
  }

  /**
   * Run progress while `nodeId` reports `value` of `max`: finished nodes plus that fraction of the running
   * one. It stays below what the node's finishing gives (the next `node.executing`), so a bar never jumps
   * back and every step inside a node is visible between its neighbours.
   */
  #progressWithin(active: ActiveRun, nodeId: string, value: number, max: number): number {
    // Progress from a node we did not see start (or a nonsense max) cannot be placed; keep what we have.
    if (active.runningNode !== nodeId || !(max > 0) || !Number.isFinite(value)) return active.run.progress;
    const total = Object.keys(active.run.graph).length || 1;
    const finished = active.executed.size - (active.executed.has(nodeId) ? 1 : 0);
    const fraction = Math.min(1, Math.max(0, value / max));
    const within = Math.floor((100 * (finished + fraction)) / total);
    const belowNext = Math.floor((100 * (finished + 1)) / total) - 1;
    return Math.max(active.run.progress, Math.min(99, within, belowNext));
  }

  async #emitProgress(active: ActiveRun, update: NonNullable<ActiveRun['pendingProgress']>): Promise<void> {
    clearTimeout(active.pendingTimer);
    active.pendingTimer = undefined;
    active.pendingProgress = undefined;
    active.lastProgressAt = Date.now();
    active.lastProgress = { nodeId: update.nodeId, value: update.value, progress: update.progress };
    await this.#emit(
      active,
      'node.progress',
      { node_id: update.nodeId, value: update.value, max: update.max },
      { progress: update.progress },
    );
  }

  async #flushProgress(active: ActiveRun): Promise<void> {
    const pending = active.pendingProgress;
    if (!pending || isTerminal(active.run.status) || this.#stopped) return;
    await this.#emitProgress(active, pending);
  }

  /** A held-back update is stored once the interval is up, even if the node then goes quiet for long. */
  #flushProgressLater(active: ActiveRun): void {
    if (active.pendingTimer) return;
    const wait = Math.max(0, active.lastProgressAt + PROGRESS_EVENT_EVERY_MS - Date.now());
    active.pendingTimer = setTimeout(() => {
      active.pendingTimer = undefined;
      void this.#serial(active, () => this.#flushProgress(active));
    }, wait);
    // Never keeps the process alive on its own; stop() also clears it.
    active.pendingTimer.unref();
  }

  /** Called when the backend says the prompt ended; the history entry tells how. */
  async #finish(active: ActiveRun, backend: Backend): Promise<void> {
    let entry: ComfyHistoryEntry | undefined;
    try {
      entry = await backend.client.getHistory(active.run.promptId);
    } catch {
      return; // reconciliation retries
    }
    if (entry) await this.#finishFromHistory(active, backend, entry);
  }

  async #finishFromHistory(active: ActiveRun, backend: Backend, entry: ComfyHistoryEntry): Promise<void> {
    if (isTerminal(active.run.status)) return;
    await this.#markStarted(active, backend);
    const statusStr = entry.status?.status_str;
    if (statusStr === 'success' || (statusStr === undefined && entry.status?.completed)) {
      await this.#complete(active, backend, entry);
      return;
    }
    const messages = entry.status?.messages ?? [];
    const errorMessage = messages.find(([type]) => type === 'execution_error')?.[1];
    const interrupted = messages.some(([type]) => type === 'execution_interrupted') || active.interrupted;
    if (errorMessage) {
      await this.#fail(active, {
        message: String(errorMessage.exception_message ?? 'Execution failed').trim(),
        ...(errorMessage.node_id !== undefined ? { node_id: String(errorMessage.node_id) } : {}),
        ...(errorMessage.node_type !== undefined ? { node_type: String(errorMessage.node_type) } : {}),
      });
    } else if (active.error) {
      await this.#fail(active, active.error);
    } else {
      await this.#fail(active, {
        message: interrupted
          ? `Interrupted on ${backend.name}`
          : `Backend reported status "${statusStr ?? 'unknown'}"`,
      });
    }
  }

  /**
   * Stores what one output node produced and announces each file. Called from `executed` messages (so
   * outputs are fetched while the rest of the prompt still runs) and from the history entry as a fallback.
   */
  async #collectNode(
    active: ActiveRun,
    backend: Backend,
    nodeId: string,
    nodeOutput: Record<string, unknown> | undefined,
  ): Promise<void> {
    if (!nodeOutput) return;
    for (const name of active.run.outputNames) {
      if (nodeIdOfOutputName(name) !== nodeId || active.collected.has(name)) continue;
      active.collected.add(name);
      const items = producedItems({ outputs: { [nodeId]: nodeOutput } }, nodeId);
      for (const [index, item] of items.entries()) {
        const output = await fetchOutput(
          this.#deps,
          backend,
          { runId: active.run.id, name, nodeId, index },
          item,
        );
        const outputs = [...active.run.outputs, output];
        await this.#emit(active, 'output.ready', { output }, { outputs });
      }
    }
  }

  #allOutputsCollected(active: ActiveRun): boolean {
    return active.run.outputNames.every((name) => active.collected.has(name));
  }

  async #complete(active: ActiveRun, backend: Backend, entry?: ComfyHistoryEntry): Promise<void> {
    try {
      for (const name of active.run.outputNames) {
        const nodeId = nodeIdOfOutputName(name);
        await this.#collectNode(active, backend, nodeId, entry?.outputs?.[nodeId]);
      }
    } catch (error) {
      await this.#fail(active, {
        message: `Could not fetch outputs from ${backend.name}: ${(error as Error).message}`,
      });
      return;
    }
    const outputs = active.run.outputs;
    await this.#emit(
      active,
      'run.completed',
      { outputs },
      { status: 'completed', progress: 100, outputs, completedAt: now() },
    );
  }

  async #fail(active: ActiveRun, error: RunError): Promise<void> {
    if (isTerminal(active.run.status)) return;
    await this.#emit(active, 'run.failed', { error }, { status: 'failed', error, completedAt: now() });
  }

  // ---- reconciliation (driven by Reconciler) ----

  unfinishedRuns(): Iterable<ActiveRun> {
    return this.#active.values();
  }

  dispatchLater(active: ActiveRun): void {
    void this.#serial(active, () => this.#dispatch(active));
  }

  reassignLater(active: ActiveRun): void {
    void this.#serial(active, () => this.#reassign(active));
  }

  startedLater(active: ActiveRun, backend: Backend): void {
    void this.#serial(active, () => this.#markStarted(active, backend));
  }

  settleLater(active: ActiveRun, backend: Backend, entry: ComfyHistoryEntry): void {
    void this.#serial(active, () => this.#finishFromHistory(active, backend, entry));
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
    await this.#fail(active, {
      message: `Prompt ${active.run.promptId} disappeared from ${backend.name} while running (backend restarted or prompt deleted)`,
    });
  }

  async #reassign(active: ActiveRun): Promise<void> {
    this.#uncount(active);
    this.#byPrompt.delete(active.run.promptId);
    active.submitted = false;
    active.vanished = 0;
    active.run.backendId = null;
    await this.#deps.storage.updateRun(active.run.id, { backendId: null, submittedAt: null });
    await this.#dispatch(active);
  }

  #rememberMoved(backend: Backend, promptId: string): void {
    const set = this.#movedAway.get(backend.id) ?? new Set<string>();
    set.add(promptId);
    this.#movedAway.set(backend.id, set);
  }

  // ---- bookkeeping ----

  #track(run: Run, restored: boolean): ActiveRun {
    const active = newActiveRun(run, restored);
    this.#active.set(run.id, active);
    this.#byPrompt.set(run.promptId, active);
    return active;
  }

  #untrack(active: ActiveRun): void {
    clearTimeout(active.pendingTimer);
    active.pendingTimer = undefined;
    active.pendingProgress = undefined;
    this.#uncount(active);
    this.#active.delete(active.run.id);
    this.#byPrompt.delete(active.run.promptId);
  }

  #count(active: ActiveRun, backend: Backend): void {
    this.#uncount(active);
    backend.assigned++;
    active.countedOn = backend;
  }

  #uncount(active: ActiveRun): void {
    if (active.countedOn) active.countedOn.assigned--;
    active.countedOn = undefined;
  }

  /** Runs one step of a run's lifecycle after the previous one, so events stay ordered. */
  #serial<T>(active: ActiveRun, step: () => Promise<T>): Promise<T> {
    const result = active.chain.then(step);
    active.chain = result.catch((error: unknown) => {
      this.#deps.log.error({ err: error, run: active.run.id }, 'run step failed');
    });
    return result;
  }

  async #emit(
    active: ActiveRun,
    type: string,
    extra: Record<string, unknown>,
    patch: RunPatch,
  ): Promise<void> {
    const status = patch.status ?? active.run.status;
    // Monotonic: a run's progress never goes back, whatever order or source the figures came from.
    const progress = Math.max(active.run.progress, patch.progress ?? active.run.progress);
    const event = await this.#deps.storage.appendEvent(
      active.run.id,
      type,
      { status, progress, ...extra },
      { ...patch, progress },
    );
    Object.assign(active.run, patch, { progress, updatedAt: event.ts });
    if (isTerminal(active.run.status)) this.#untrack(active);
    this.#deps.bus.publish(event);
  }
}
