import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * A transparent TCP-level pass-through in front of the real server that records every request it
 * forwards, so tests can prove what the upstream did (or did not) receive, and counts open event
 * streams so tests can prove they were closed.
 */
export async function startRecorder(target: string) {
  const seen: Seen[] = [];
  let openStreams = 0;
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const isStream = /\/events(\?|$)/.test(req.url ?? '');
    if (isStream) openStreams++;
    let counted = isStream;
    const done = () => {
      if (counted) openStreams--;
      counted = false;
    };
    res.on('close', done);
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get openStreams() {
      return openStreams;
    },
    clear() {
      seen.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Recorder = Awaited<ReturnType<typeof startRecorder>>;
