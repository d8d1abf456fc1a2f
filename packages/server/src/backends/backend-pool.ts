import { ComfyClient } from './comfy-client';
import { ComfySocket } from './comfy-socket';
import type { ComfyMessage, ComfyQueue } from './comfy-types';

export interface BackendConfig {
  /** Stable identity stored on runs: the URL, or "embedded" for the in-process engine. */
  id: string;
  url: string;
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
  queueRemaining: number;
  /** Unfinished runs this server has placed on the backend. */
  assigned: number;
}

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

  constructor(configs: BackendConfig[], listener: PoolListener, deadAfterMs = 3000) {
    this.#listener = listener;
    this.#deadAfterMs = deadAfterMs;
    this.#backends = configs.map((config, index) => {
      // The socket's callbacks only run after connecting, by which time `backend` is initialised.
      const backend: Backend = {
        id: config.id,
        name: `container #${index + 1}`,
        url: config.url,
        client: new ComfyClient(config.url),
        socket: new ComfySocket(config.url, {
          onOpen: () => this.#connected(backend),
          onMessage: (message) => this.#message(backend, message),
          onClose: () => this.#disconnected(backend),
        }),
        connected: false,
        down: false,
        queueRemaining: 0,
        assigned: 0,
      };
      return backend;
    });
  }

  start(): void {
    for (const backend of this.#backends) {
      backend.socket.start();
      this.#armDeadTimer(backend);
    }
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

  /** The least-loaded connected backend, by runs placed there, then by its own queue length. */
  pick(exclude?: string): Backend | undefined {
    let best: Backend | undefined;
    for (const backend of this.#backends) {
      if (!backend.connected || backend.id === exclude || !backend.socket.clientId) continue;
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
    backend.connected = true;
    backend.down = false;
    clearTimeout(this.#deadTimers.get(backend.id));
    this.#listener.onConnected(backend);
  }

  #disconnected(backend: Backend): void {
    backend.connected = false;
    this.#armDeadTimer(backend);
  }

  #armDeadTimer(backend: Backend): void {
    clearTimeout(this.#deadTimers.get(backend.id));
    const timer = setTimeout(() => {
      if (backend.connected || backend.down) return;
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
