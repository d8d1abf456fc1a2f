import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface SelfSignedCert {
  certFile: string;
  keyFile: string;
  cleanup(): void;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command line. */
export function selfSignedCert(): SelfSignedCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-server-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface TlsRelay {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** TLS sessions completed (a plain-HTTP client never completes one). */
  readonly handshakes: number;
  close(): Promise<void>;
}

/** Terminates TLS on 127.0.0.1 and passes the plain bytes to `targetPort`, as a TLS proxy in front of ComfyUI. */
export async function startTlsRelay(targetPort: number, cert: SelfSignedCert): Promise<TlsRelay> {
  let handshakes = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) },
    (client) => {
      handshakes++;
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    get handshakes() {
      return handshakes;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
