import type { Logger } from 'pino';
import type { Backend, BackendPool, PoolListener } from '../backends/backend-pool';
import type { ComfyMessage } from '../backends/comfy-types';
import { type BackendInventory, modelInputKey, readInventory } from './inventory';
import type { NodeInfo } from './object-info';

interface Entry {
  inventory?: BackendInventory;
  /** The last read's failure, cleared by the next good read. */
  error?: { message: string; at: string };
  reading?: Promise<void>;
}

export interface KnownBackend {
  backend: Backend;
  inventory: BackendInventory;
}

/**
 * Every backend's inventory: read at start, whenever a backend (re)connects (a restart may have changed its
 * nodes or models), and every `refreshMs`. Read over plain HTTP from every configured backend, including
 * those another replica watches, so each replica judges workflows against the whole fleet.
 * The last good read is kept while a backend is away: it is the best guess of what it will have back.
 */
export class Fleet {
  readonly #pool: () => BackendPool;
  readonly #log: Logger;
  readonly #refreshMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pool: () => BackendPool, log: Logger, refreshMs: number) {
    this.#pool = pool;
    this.#log = log;
    this.#refreshMs = refreshMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.refreshAll(), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Called after any backend's inventory changed (or became known). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  refreshAll(): Promise<void> {
    return Promise.all(
      this.#pool()
        .list()
        .map((backend) => this.refresh(backend)),
    ).then(() => undefined);
  }

  /** Reads one backend's inventory; concurrent calls share one read. */
  refresh(backend: Backend): Promise<void> {
    const entry = this.#entry(backend.id);
    entry.reading ??= this.#read(backend, entry).finally(() => {
      entry.reading = undefined;
    });
    return entry.reading;
  }

  async #read(backend: Backend, entry: Entry): Promise<void> {
    try {
      const inventory = await readInventory(backend.client);
      const changed = inventory.fingerprint !== entry.inventory?.fingerprint;
      entry.inventory = inventory;
      entry.error = undefined;
      if (changed) {
        this.#log.info(
          { backend: backend.name, nodes: Object.keys(inventory.nodes).length },
          'backend inventory read',
        );
        for (const listener of this.#listeners) listener();
      }
    } catch (error) {
      entry.error = { message: (error as Error).message, at: new Date().toISOString() };
    }
  }

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = {};
      this.#entries.set(id, entry);
    }
    return entry;
  }

  /**
   * The backend's inventory as of now: a read under way (it reconnected, maybe restarted with other
   * nodes) is waited for, and a backend never read is read first. Undefined when it cannot be read.
   */
  async current(backend: Backend): Promise<BackendInventory | undefined> {
    const entry = this.#entries.get(backend.id);
    if (!entry?.inventory || entry.reading) await this.refresh(backend);
    return this.inventoryOf(backend.id);
  }

  inventoryOf(backendId: string): BackendInventory | undefined {
    return this.#entries.get(backendId)?.inventory;
  }

  errorOf(backendId: string): { message: string; at: string } | undefined {
    return this.#entries.get(backendId)?.error;
  }

  /** Backends whose inventory has been read at least once, in configuration order. */
  known(): KnownBackend[] {
    const known: KnownBackend[] = [];
    for (const backend of this.#pool().list()) {
      const inventory = this.inventoryOf(backend.id);
      if (inventory) known.push({ backend, inventory });
    }
    return known;
  }

  /** A node class as the first backend that has it describes it. */
  nodeInfo(classType: string): NodeInfo | undefined {
    for (const { inventory } of this.known()) {
      const info = Object.hasOwn(inventory.nodes, classType) ? inventory.nodes[classType] : undefined;
      if (info) return info;
    }
    return undefined;
  }

  /** The models folder an input picks from, as recognised on any backend. */
  modelFolderOf(classType: string, input: string): string | undefined {
    const key = modelInputKey(classType, input);
    for (const { inventory } of this.known()) {
      const folder = inventory.modelInputs.get(key);
      if (folder) return folder;
    }
    return undefined;
  }

  /** Re-reads a backend's inventory whenever it (re)connects, then lets the next listener know. */
  listenerFor(next: PoolListener): PoolListener {
    return {
      onMessage: (backend: Backend, message: ComfyMessage) => next.onMessage(backend, message),
      onConnected: (backend: Backend) => {
        void this.refresh(backend);
        next.onConnected(backend);
      },
      onDown: (backend: Backend) => next.onDown(backend),
    };
  }
}
