import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { StartupError } from '../config/startup-error';

/** How the server checks an `https://` backend's certificate (every request and its WebSocket). */
export interface BackendTls {
  /** Extra CA certificates (PEM) trusted besides the system's, e.g. a private CA or a self-signed cert. */
  ca?: Buffer;
  /** False only when the operator asked to skip verification (self-signed certificates, testing). */
  rejectUnauthorized: boolean;
}

export const DEFAULT_BACKEND_TLS: BackendTls = { rejectUnauthorized: true };

/** Reads the CA file named in the settings; a file that cannot be read stops the start. */
export function loadBackendTls(caFile: string | undefined, insecure: boolean): BackendTls {
  if (!caFile) return { rejectUnauthorized: !insecure };
  try {
    return { ca: fs.readFileSync(caFile), rejectUnauthorized: !insecure };
  } catch (error) {
    throw new StartupError(`FLOWSCALE_COMFYUI_CA_FILE ${caFile} cannot be read: ${(error as Error).message}`);
  }
}

/** The TLS fields for a request or WebSocket to `url`; none for plain http. */
export function tlsFields(url: URL, tls: BackendTls): https.AgentOptions {
  if (url.protocol !== 'https:') return {};
  return { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}) };
}

/** A keep-alive agent of the backend's scheme, with its TLS settings for https. */
export function backendAgent(baseUrl: string, tls: BackendTls, maxSockets: number): http.Agent {
  const url = new URL(baseUrl);
  const options = { keepAlive: true, maxSockets };
  return url.protocol === 'https:'
    ? new https.Agent({ ...options, ...tlsFields(url, tls) })
    : new http.Agent(options);
}
