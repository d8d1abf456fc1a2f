// A relay in front of an engine for the bench/cluster-*.ts scripts: it timestamps every POST /prompt (and
// counts them per prompt_id) without any change to the engine or the server. 127.0.0.1 only.
import net from 'node:net';

/** Wall-clock ms with sub-ms precision (same clock as the servers' `new Date()`). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface PromptArrival {
  promptId: string;
  /** When the first byte of the request reached the relay (nowMs). */
  at: number;
}

export interface PromptRelay {
  url: string;
  /** Every POST /prompt seen, per prompt_id (more than one is a duplicate submission). */
  readonly arrivals: Map<string, number[]>;
  onPrompt(listener: (arrival: PromptArrival) => void): () => void;
  close(): Promise<void>;
}

interface RequestParse {
  buffer: Buffer;
  /** First byte of the current request seen at. */
  startedAt: number | undefined;
  body: { length: number; isPrompt: boolean; at: number } | undefined;
  tunnel: boolean;
}

/**
 * A TCP relay to an engine that passes every byte through at once and, beside it, follows the HTTP/1.1
 * requests on each connection (Content-Length framing, as the server's client sends) to note when each
 * `POST /prompt` arrives and with which prompt_id. A WebSocket upgrade turns the connection into a plain pipe.
 */
export async function startPromptRelay(targetUrl: string): Promise<PromptRelay> {
  const target = new URL(targetUrl);
  const arrivals = new Map<string, number[]>();
  const listeners = new Set<(arrival: PromptArrival) => void>();
  const sockets = new Set<net.Socket>();
  const record = (promptId: string, at: number): void => {
    arrivals.set(promptId, [...(arrivals.get(promptId) ?? []), at]);
    for (const listener of listeners) listener({ promptId, at });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    upstream.pipe(client);
    const state: RequestParse = {
      buffer: Buffer.alloc(0),
      startedAt: undefined,
      body: undefined,
      tunnel: false,
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (!state.tunnel) parseRequests(state, chunk, nowMs(), record);
    });
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    onPrompt(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseRequests(
  state: RequestParse,
  chunk: Buffer,
  at: number,
  record: (promptId: string, at: number) => void,
): void {
  state.buffer = state.buffer.length > 0 ? Buffer.concat([state.buffer, chunk]) : chunk;
  for (;;) {
    if (!state.body) {
      if (state.buffer.length > 0) state.startedAt ??= at;
      const end = state.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = state.buffer.toString('latin1', 0, end);
      state.buffer = state.buffer.subarray(end + 4);
      if (/\r\nupgrade:/i.test(head)) {
        state.tunnel = true;
        state.buffer = Buffer.alloc(0);
        return;
      }
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      state.body = { length, isPrompt: head.startsWith('POST /prompt '), at: state.startedAt ?? at };
      state.startedAt = undefined;
    }
    if (state.buffer.length < state.body.length) return;
    const body = state.buffer.subarray(0, state.body.length);
    state.buffer = state.buffer.subarray(state.body.length);
    if (state.body.isPrompt) {
      const promptId = (JSON.parse(body.toString('utf8')) as { prompt_id?: string }).prompt_id;
      record(promptId ?? '(none)', state.body.at);
    }
    state.body = undefined;
  }
}

/** prompt_ids posted more than once, summed over relays (each extra POST counts one). */
export function duplicatePosts(relays: readonly PromptRelay[]): number {
  let extra = 0;
  const all = new Map<string, number>();
  for (const relay of relays)
    for (const [promptId, times] of relay.arrivals)
      all.set(promptId, (all.get(promptId) ?? 0) + times.length);
  for (const posts of all.values()) extra += posts - 1;
  return extra;
}
