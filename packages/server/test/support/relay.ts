import net from 'node:net';

export interface Relay {
  /** `http://127.0.0.1:<port>`: point a client here instead of at the target. */
  url: string;
  /** Connections accepted so far (a reconnecting client opens new ones). */
  readonly accepted: number;
  /** What clients sent towards the target, one latin1 string per accepted connection, in accept order. */
  sent(): string[];
  /** Drops every open connection pair at once, as a broken network would; the relay keeps accepting. */
  cutAll(): number;
  /**
   * A network partition: open connections are cut (or, `silent`, left open but carrying nothing), and
   * new ones are accepted but go nowhere (neither refused nor answered), as when packets are dropped on
   * the path, until `heal`.
   */
  partition(options?: { silent?: boolean }): void;
  /** Ends the partition: connections held meanwhile are dropped, and new ones pass again. */
  heal(): void;
  close(): Promise<void>;
}

export interface RelayOptions {
  /**
   * Awaited before each chunk a client sends is passed on (the client is paused meanwhile), so a test can
   * act at an exact point of a conversation, e.g. just before a given request reaches the server.
   */
  beforeForward?: (chunk: Buffer) => Promise<void> | void;
}

/**
 * A TCP relay on 127.0.0.1 in front of `targetPort` on 127.0.0.1 (or, given a function, whichever port it
 * picks for each new connection: a load balancer in front of several replicas). Each accepted socket is piped byte for
 * byte to a fresh socket to the target, so HTTP, SSE and WebSocket traffic pass unchanged; `cutAll` breaks
 * them mid-stream to exercise the clients' reconnect logic against the real server.
 */
export async function startRelay(
  targetPort: number | (() => number),
  options: RelayOptions = {},
): Promise<Relay> {
  const { beforeForward } = options;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const sent: Buffer[][] = [];
  const held = new Set<net.Socket>();
  let partitioned = false;
  const server = net.createServer((client) => {
    if (partitioned) {
      held.add(client);
      client.on('error', () => client.destroy());
      client.on('close', () => held.delete(client));
      return;
    }
    const upstream = net.connect(typeof targetPort === 'number' ? targetPort : targetPort(), '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    const chunks: Buffer[] = [];
    sent.push(chunks);
    pairs.add(pair);
    // One side ending, failing or being cut takes the other down with it, like a broken link.
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    upstream.pipe(client);
    if (!beforeForward) {
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.pipe(upstream);
      return;
    }
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      client.pause();
      Promise.resolve()
        .then(() => beforeForward(chunk))
        .then(() => {
          upstream.write(chunk);
          client.resume();
        }, drop);
    });
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const cutAll = (): number => {
    const cut = [...pairs];
    pairs.clear();
    // A reset, not a polite FIN: the peers see the connection fail, as when a network path dies.
    for (const [client, upstream] of cut) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    return cut.length;
  };
  const dropHeld = () => {
    for (const socket of held) socket.destroy();
    held.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    partition: ({ silent = false } = {}) => {
      partitioned = true;
      if (!silent) {
        cutAll();
        return;
      }
      // Silent: open connections stay up but carry nothing either way, so only a heartbeat notices.
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.removeAllListeners('data');
        client.pause();
        upstream.pause();
      }
    },
    heal: () => {
      partitioned = false;
      dropHeld();
      cutAll();
    },
    get accepted() {
      return sent.length;
    },
    sent: () => sent.map((chunks) => Buffer.concat(chunks).toString('latin1')),
    cutAll,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        dropHeld();
        server.close(() => resolve());
      }),
  };
}
