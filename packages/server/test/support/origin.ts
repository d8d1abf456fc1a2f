import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Origin {
  url: string;
  port: number;
  /** Requests received, as `METHOD path host`. */
  hits: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server standing in for a remote image host; tests never reach anything else. */
export async function startOrigin(
  handler: (request: http.IncomingMessage, response: http.ServerResponse) => void,
  host = '127.0.0.1',
): Promise<Origin> {
  const hits: string[] = [];
  const server = http.createServer((request, response) => {
    hits.push(`${request.method} ${request.url} ${request.headers.host}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
