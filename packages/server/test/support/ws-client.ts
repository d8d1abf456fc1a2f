import WebSocket from 'ws';

export interface Frame {
  type: string;
  data: Record<string, unknown>;
}

/** A client socket whose incoming messages are queued, so each reply can be awaited in turn. */
export class WsClient {
  readonly socket: WebSocket;
  readonly #inbox: Frame[] = [];
  readonly #waiting: Array<(frame: Frame) => void> = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    // A socket the server dropped reports write errors; the tests look at close codes and replies instead.
    this.socket.on('error', () => undefined);
    this.socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(frame);
      else this.#inbox.push(frame);
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  closed(): Promise<number> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
    return new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
  }

  next(timeoutMs = 10_000): Promise<Frame> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message from the server')), timeoutMs);
      this.#waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** The next frame of the given type; others (e.g. status snapshots) are skipped. */
  async nextOf(type: string, timeoutMs = 10_000): Promise<Frame> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.type === type) return frame;
    }
  }

  send(frame: string | Buffer, binary = false): void {
    this.socket.send(frame, { binary });
  }

  command(action: string, runId: string): void {
    this.send(JSON.stringify({ type: 'client_event', data: { action, runId } }));
  }
}

/** Reads one sample of a Prometheus text exposition: `name` or `name{labels}`, exactly as printed. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
