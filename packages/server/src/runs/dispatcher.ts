import type { Logger } from 'pino';
import type { Backend, BackendLease, BackendPool } from '../backends/backend-pool';
import { BackendRejectedError, PromptRejectedError } from '../backends/comfy-client';
import type { BackendInventory } from '../fleet/inventory';
import { lowerFsNodes } from '../fleet/lowering';
import type { InputBlobs } from '../inputs/input-blobs';
import type { Placement } from '../placement/placement';
import type { Run, RunError } from '../storage/records';
import type { Stores } from '../storage/stores';
import type { ComfyGraph } from '../workflows/types';
import { extensionOf, splitInputName } from './backend-inputs';
import type { BackendUploads } from './backend-uploads';

export interface DispatchDeps {
  stores: Stores;
  pool: () => BackendPool;
  inputFiles: InputBlobs;
  log: Logger;
  /** Input files each backend already has, so each is uploaded to a backend once. */
  uploads: BackendUploads;
  /** Unfinished runs placed on one backend at most; the rest wait in the server's queue, by priority. */
  maxRunsPerBackend?: number;
  /** What the backend can run, to lower the FS nodes it lacks; without it graphs are sent as they are. */
  inventoryOf?: (backend: Backend) => Promise<BackendInventory | undefined>;
  /** Chooses among the backends able to run it; without it, the least-loaded backend. */
  placement?: Placement;
}

/** What became of one attempt to put a run's prompt on a backend. */
export type DispatchOutcome =
  /** No backend can take it now: it stays queued and the reconcile loop tries again. */
  | { kind: 'waiting' }
  /** It was cancelled or placed by someone else meanwhile: nothing to do here. */
  | { kind: 'gone' }
  /** Uploading an input failed for a passing reason; nothing was queued, try again later. */
  | { kind: 'retry' }
  /**
   * The prompt was posted, or may have been (`confirmed: false` after a network error: reconciliation by
   * prompt_id finds out without posting it twice). The lease counts it against the backend.
   */
  | { kind: 'submitted'; lease: BackendLease; confirmed: boolean }
  /** The backend refused the prompt or one of its files: the run fails with this error. */
  | { kind: 'rejected'; error: RunError };

export interface DispatchHooks {
  placed(lease: BackendLease): void;
  posting(): void;
  /** Whether the prompt should go to the front of the backend's queue (ComfyUI's `front`). */
  front?(backend: Backend): boolean;
}

/**
 * Placement and submission of one run: a lease from the pool, the input files uploaded to that backend,
 * then one `POST /prompt` with the run's pre-minted prompt_id. The run's record says which backend it is
 * on before anything is sent there, so a restart can always reconcile it.
 */
export class Dispatcher {
  readonly #deps: DispatchDeps;

  constructor(deps: DispatchDeps) {
    this.#deps = deps;
  }

  /** `hooks.placed` runs once the run has a backend; `hooks.posting` right before the prompt leaves. */
  async dispatch(run: Run, hooks: DispatchHooks): Promise<DispatchOutcome> {
    const lease = this.#deps.placement
      ? this.#deps.placement.place(run)
      : this.#deps.pool().place(this.#deps.maxRunsPerBackend);
    const clientId = lease?.backend.socket.clientId;
    if (!lease || !clientId) {
      lease?.release();
      return { kind: 'waiting' };
    }
    const backend = lease.backend;
    // Fenced: only one replica (or one attempt) ever places a queued run.
    if (!(await this.#deps.stores.runs.claim(run.id, backend.id))) {
      lease.release();
      return { kind: 'gone' };
    }
    hooks.placed(lease);
    let graph: ComfyGraph;
    try {
      graph = await this.#lowered(await this.#bindFiles(run, backend), backend);
    } catch (error) {
      lease.release();
      if (error instanceof BackendRejectedError)
        return {
          kind: 'rejected',
          error: { message: `Backend ${backend.name} refused an input file: ${error.message}` },
        };
      this.#deps.log.warn({ err: error, run: run.id }, 'upload to backend failed; will retry');
      return { kind: 'retry' };
    }
    const front = hooks.front?.(backend) ?? false;
    hooks.posting();
    try {
      await backend.client.submitPrompt(graph, run.promptId, clientId, front);
    } catch (error) {
      if (error instanceof PromptRejectedError || error instanceof BackendRejectedError) {
        lease.release();
        return { kind: 'rejected', error: { message: `Backend rejected the workflow: ${error.message}` } };
      }
      this.#deps.log.warn({ err: error, run: run.id }, 'submit to backend failed; reconciling');
      return { kind: 'submitted', lease, confirmed: false };
    }
    await this.#deps.stores.runs.update(run.id, { submittedAt: new Date().toISOString() });
    return { kind: 'submitted', lease, confirmed: true };
  }

  /** The graph as this backend can run it: the FS nodes it lacks lowered to core ones (lowering.ts). */
  async #lowered(graph: ComfyGraph, backend: Backend): Promise<ComfyGraph> {
    const inventory = await this.#deps.inventoryOf?.(backend);
    if (!inventory) return graph;
    return lowerFsNodes(graph, (classType) => Object.hasOwn(inventory.nodes, classType)).graph;
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
      node.inputs[parameter] = await this.#deps.uploads.place(backend, `${file.sha256}${extension}`, () =>
        backend.client.uploadImage(
          this.#deps.inputFiles.uploadSource(file),
          `fs_${file.sha256.slice(0, 32)}${extension}`,
          file.content_type,
        ),
      );
    }
    return graph;
  }
}
