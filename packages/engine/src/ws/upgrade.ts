import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { originAllowed } from '../http/origin';
import type { PromptWorker } from '../run/worker';
import type { SocketHub } from './hub';

const WS_PATHS = new Set(['/ws', '/api/ws']);

/** Handles HTTP upgrades on /ws and /api/ws and registers sockets with the hub. */
export function createUpgradeHandler(hub: SocketHub, worker: PromptWorker) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!WS_PATHS.has(url.pathname) || !originAllowed(req.headers)) {
      socket.end(
        `HTTP/1.1 ${WS_PATHS.has(url.pathname) ? '403 Forbidden' : '404 Not Found'}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = hub.attach(ws, url.searchParams.get('clientId'));
      const running = worker.running;
      if (running && running.extraData.client_id === client.sid && worker.runningNode) {
        hub.sendTo(client, 'executing', { node: worker.runningNode });
      }
    });
  };
  return { wss, onUpgrade };
}
