import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  /** The request path and query: tests give each endpoint its own (`${receiver.url}?to=name`). */
  path: string;
  id: string;
  type: string;
  headers: Record<string, string>;
  /** The raw body, exactly as it came over the socket. */
  body: string;
  /** The status the receiver answered. */
  answered: number;
  at: number;
}

/** Decides each answer from the request and how many arrived before it (0-based); 0 never answers. */
export type Answer = (request: { id: string; type: string; index: number }) => number;

/** A real HTTP receiver on a loopback port that records every request it gets and answers as told. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Requests answered 2xx, by webhook-id. */
  acknowledged(): Map<string, ReceivedWebhook[]>;
  answer: Answer;
  close(): Promise<void>;
}

export async function startWebhookReceiver(answer: Answer = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received,
    answer,
    acknowledged() {
      const map = new Map<string, ReceivedWebhook[]>();
      for (const each of received) {
        if (each.answered < 200 || each.answered > 299) continue;
        map.set(each.id, [...(map.get(each.id) ?? []), each]);
      }
      return map;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(request.headers['webhook-id'] ?? '');
      let type = '';
      try {
        type = (JSON.parse(body) as { type: string }).type;
      } catch {}
      const status = receiver.answer({ id, type, index: received.length });
      received.push({
        path: request.url ?? '',
        id,
        type,
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body,
        answered: status,
        at: Date.now(),
      });
      // 0: no answer at all, the request is held open (a receiver that hangs).
      if (status === 0) return;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
