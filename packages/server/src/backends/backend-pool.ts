import type { Logger } from 'pino';
import type { BackendTls } from './backend-tls';
import { ComfyClient } from './comfy-client';
import { ComfySocket } from './comfy-socket';
import type { ComfyMessage, ComfyQueue } from './comfy-types';
import { describeSocketError } from './socket-errors';

export interface BackendConfig {
  /** Stable identity stored on runs: the URL, or "embedded" for the in-process engine. */
  id: string;
  url: string;
  /** Certificate checks for an `https://` URL (ignored for http). */
  tls?: BackendTls;
}

export interface Backend {
  id: string;
  /** FlowScale-style container name, e.g. "container #1". */
  name: string;
  url: string;
  client: ComfyClient;
  socket: ComfySocket;
  connected: boolean;
  /** Declared dead: disconnected for longer than the grace period. */
  down: boolean;
  /**
   * The last connection attempt was refused: nothing listens there, so the backend process (and the
   * queue ComfyUI keeps in memory) is gone. Any other failure may be a network partition, behind which
   * the backend can still be executing what it was given.
   */
  refused: boolean;
  queueRemaining: number;
  /** Unfinished runs this server has placed on the backend; changed only through leases. */
  readonly assigned: number;
  /**
   * Being handed to another replica: it finishes what it has and takes no new run, so the handover
   * happens with nothing in flight.
   */
  draining: boolean;
}

/** Whether a backend can be given a new run now: connected, identified, and not being handed over. */
export function acceptsRuns(backend: Backend): boolean {
  return backend.connected && backend.socket.clientId !== undefined && !backend.draining;
}

/** A run's place on a backend, counted against it until released (idempotent). */
export interface BackendLease {
  readonly backend: Backend;
  release(): void;
}

type MutableBackend = { -readonly [K in keyof Backend]: Backend[K] };

export interface PoolListener {
  onMessage(backend: Backend, message: ComfyMessage): void;
  onConnected(backend: Backend): void;
  onDown(backend: Backend): void;
}

export type ContainerStatus = 'idle' | 'running' | 'unreachable';

/** The ComfyUI-protocol backends, each watched over WebSocket. */
export class BackendPool {
  readonly #backends: Backend[];
  readonly #listener: PoolListener;
  readonly #deadAfterMs: number;
  readonly #deadTimers = new Map<string, NodeJS.Timeout>();
  readonly #watched = new Set<string>();
  /** The reason last logged per backend, so a backend down for hours logs once, not per retry. */
  readonly #reported = new Map<string, string>();
  readonly #log: Pick<Logger, 'warn' | 'info'> | undefined;

  constructor(
    configs: BackendConfig[],
    listener: PoolListener,
    deadAfterMs = 3000,
    log?: Pick<Logger, 'warn' | 'info'>,
    heartbeatMs?: number,
  ) {
    this.#listener = listener;
    this.#log = log;
    this.#deadAfterMs = deadAfterMs;
    this.#backends = configs.map((config, index) => {
      // The socket's callbacks only run after connecting, by which time `backend` is initialised.
      const backend: Backend = {
        id: config.id,
        name: `container #${index + 1}`,
        url: config.url,
        client: new ComfyClient(config.url, config.tls),
        socket: new ComfySocket(
          config.url,
          {
            onOpen: () => this.#connected(backend),
            onMessage: (message) => this.#message(backend, message),
            onClose: (error) => this.#disconnected(backend, error),
          },
          config.tls,
          heartbeatMs,
        ),
        connected: false,
        down: false,
        refused: false,
        queueRemaining: 0,
        assigned: 0,
        draining: false,
      };
      return backend;
    });
  }

  /** Watches every backend (one replica alone). With several replicas, `watch` only the ones it owns. */
  start(): void {
    this.watch(this.#backends.map((backend) => backend.id));
  }

  watch(ids: readonly string[]): void {
    for (const backend of this.#backends) {
      if (!ids.includes(backend.id) || this.#watched.has(backend.id)) continue;
      this.#watched.add(backend.id);
      backend.socket.start();
      this.#armDeadTimer(backend);
    }
  }

  /** Stops watching backends another replica now owns; no `onDown`, they are not down. */
  unwatch(ids: readonly string[]): void {
    for (const backend of this.#backends) {
      if (!ids.includes(backend.id) || !this.#watched.delete(backend.id)) continue;
      clearTimeout(this.#deadTimers.get(backend.id));
      backend.socket.stop();
      backend.connected = false;
    }
  }

  /** Marks backends as being handed over (no new runs) or no longer so. */
  setDraining(ids: readonly string[], draining: boolean): void {
    for (const backend of this.#backends) if (ids.includes(backend.id)) backend.draining = draining;
  }

  /** How many more runs could be placed now, with at most `perBackend` unfinished runs on each backend. */
  capacity(perBackend: number): number {
    let room = 0;
    for (const backend of this.#backends)
      if (acceptsRuns(backend)) room += Math.max(0, perBackend - backend.assigned);
    return room;
  }

  /** True when some backend is connected and could take a run now. */
  reachable(): boolean {
    return this.#backends.some((backend) => backend.connected && backend.socket.clientId !== undefined);
  }

  stop(): void {
    for (const timer of this.#deadTimers.values()) clearTimeout(timer);
    for (const backend of this.#backends) {
      backend.socket.stop();
      backend.client.close();
    }
  }

  list(): Backend[] {
    return this.#backends;
  }

  get(id: string | null): Backend | undefined {
    return id === null ? undefined : this.#backends.find((backend) => backend.id === id);
  }

  /**
   * Places a run on the least-loaded connected backend with fewer than `perBackend` unfinished runs;
   * undefined when none can take it now (the run waits in the server's own queue).
   */
  place(perBackend = Number.POSITIVE_INFINITY): BackendLease | undefined {
    const backend = this.#pick(perBackend);
    return backend ? this.lease(backend) : undefined;
  }

  /** Counts a run against a backend it is already on (e.g. found there after a restart). */
  lease(backend: Backend): BackendLease {
    const counted = backend as MutableBackend;
    counted.assigned++;
    let released = false;
    return {
      backend,
      release: () => {
        if (released) return;
        released = true;
        counted.assigned--;
      },
    };
  }

  /** The least-loaded connected backend, by runs placed there, then by its own queue length. */
  #pick(perBackend: number): Backend | undefined {
    let best: Backend | undefined;
    for (const backend of this.#backends) {
      if (!acceptsRuns(backend) || backend.assigned >= perBackend) continue;
      if (
        !best ||
        backend.assigned < best.assigned ||
        (backend.assigned === best.assigned && backend.queueRemaining < best.queueRemaining)
      ) {
        best = backend;
      }
    }
    return best;
  }

  status(backend: Backend): ContainerStatus {
    if (!backend.connected) return 'unreachable';
    return backend.queueRemaining > 0 || backend.assigned > 0 ? 'running' : 'idle';
  }

  async queues(): Promise<Array<{ container: string; queue: ComfyQueue | null; status: ContainerStatus }>> {
    return Promise.all(
      this.#backends.map(async (backend) => {
        try {
          return {
            container: backend.name,
            queue: await backend.client.getQueue(),
            status: this.status(backend),
          };
        } catch {
          return { container: backend.name, queue: null, status: 'unreachable' as const };
        }
      }),
    );
  }

  #connected(backend: Backend): void {
    if (this.#reported.delete(backend.id))
      this.#log?.info({ backend: backend.name, url: backend.url }, 'backend reachable again');
    backend.connected = true;
    backend.down = false;
    backend.refused = false;
    clearTimeout(this.#deadTimers.get(backend.id));
    this.#listener.onConnected(backend);
  }

  #disconnected(backend: Backend, error: Error | undefined): void {
    const reason = describeSocketError(error);
    if (this.#watched.has(backend.id) && this.#reported.get(backend.id) !== reason) {
      this.#reported.set(backend.id, reason);
      this.#log?.warn({ backend: backend.name, url: backend.url, reason }, `backend unreachable: ${reason}`);
    }
    backend.connected = false;
    backend.refused = (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
    this.#armDeadTimer(backend);
  }

  #armDeadTimer(backend: Backend): void {
    clearTimeout(this.#deadTimers.get(backend.id));
    const timer = setTimeout(() => {
      if (backend.connected || backend.down || !this.#watched.has(backend.id)) return;
      backend.down = true;
      this.#listener.onDown(backend);
    }, this.#deadAfterMs);
    timer.unref();
    this.#deadTimers.set(backend.id, timer);
  }

  #message(backend: Backend, message: ComfyMessage): void {
    if (message.type === 'status') {
      const status = message.data.status as { exec_info?: { queue_remaining?: number } } | undefined;
      backend.queueRemaining = status?.exec_info?.queue_remaining ?? backend.queueRemaining;
    }
    this.#listener.onMessage(backend, message);
  }
}
