import net from 'node:net';

export interface CountingRelay {
  url: string;
  /** Connections from the proxy that are open right now. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Request lines seen going upstream (approximate: a line split across chunks is missed). */
  readonly requests: number;
  /** The last request line sent on each connection still open: what a leaked socket was doing. */
  openRequests(): string[];
  close(): Promise<void>;
}

/**
 * A TCP relay between the proxy and the real server that counts the proxy's open upstream sockets. Each
 * chunk the server sends back is held for a random 0–`maxDelayMs`, so a client often gives up while the
 * proxy is still waiting for the response headers (the window in which sockets leaked).
 */
export async function startCountingRelay(targetPort: number, maxDelayMs = 15): Promise<CountingRelay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const lastLine = new Map<net.Socket, string>();
  let accepted = 0;
  let requests = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      lastLine.delete(client);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.on('data', (chunk: Buffer) => {
      const lines = chunk.toString('latin1').match(/(?:GET|POST) \/api\/v1\/\S*/g) ?? [];
      requests += lines.length;
      if (lines.length) lastLine.set(client, lines.at(-1)!);
    });
    client.pipe(upstream);
    let chain = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      chain = chain
        .then(() => new Promise((resolve) => setTimeout(resolve, Math.random() * maxDelayMs)))
        .then(() => {
          if (!client.destroyed) client.write(chunk);
        });
    });
    upstream.on('end', () => {
      chain = chain.then(() => {
        client.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get requests() {
      return requests;
    },
    openRequests: () => [...pairs].map(([client]) => lastLine.get(client) ?? '(no request yet)'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
