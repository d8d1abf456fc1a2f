import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { SizedSource } from '../blobs/blob-store';
import type { ComfyGraph } from '../workflows/types';
import { type BackendTls, backendAgent, DEFAULT_BACKEND_TLS, tlsFields } from './backend-tls';
import type { ComfyFileRef, ComfyHistoryEntry, ComfyPromptRejection, ComfyQueue } from './comfy-types';
import { type BackendResponse, backendRequest, requestFunction } from './http-request';

const REQUEST_TIMEOUT_MS = 30_000;
/** Sockets per backend; more only opens more connections to a server that works one prompt at a time. */
const MAX_SOCKETS = 16;
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** The backend refused the prompt (HTTP 400): the graph, as patched, is not valid there. */
export class PromptRejectedError extends Error {
  readonly rejection: ComfyPromptRejection;
  constructor(rejection: ComfyPromptRejection) {
    super(describeRejection(rejection));
    this.name = 'PromptRejectedError';
    this.rejection = rejection;
  }
}

/** The backend could not be reached or answered with an unexpected status. */
export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/** The backend answered 4xx: retrying the same request cannot help. */
export class BackendRejectedError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'BackendRejectedError';
    this.status = status;
  }
}

function describeRejection(rejection: ComfyPromptRejection): string {
  const parts = [rejection.error?.message ?? 'Prompt rejected by backend'];
  for (const [nodeId, nodeError] of Object.entries(rejection.node_errors ?? {})) {
    for (const error of nodeError.errors ?? []) {
      parts.push(
        `node ${nodeId} (${nodeError.class_type ?? '?'}): ${error.message ?? ''} ${error.details ?? ''}`.trim(),
      );
    }
  }
  return parts.join('; ');
}

/** HTTP side of the ComfyUI protocol (see comfyui-protocol.md). Works against ComfyUI and the embedded engine. */
export class ComfyClient {
  readonly baseUrl: string;
  readonly #tls: BackendTls;
  readonly #agent: http.Agent;

  constructor(baseUrl: string, tls: BackendTls = DEFAULT_BACKEND_TLS) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#tls = tls;
    this.#agent = backendAgent(this.baseUrl, tls, MAX_SOCKETS);
  }

  close(): void {
    this.#agent.destroy();
  }

  /** `front`: ComfyUI puts the prompt ahead of every pending one (each later front goes ahead of it too). */
  async submitPrompt(
    graph: ComfyGraph,
    promptId: string,
    clientId: string,
    front = false,
  ): Promise<{ number: number }> {
    const body = { prompt: graph, prompt_id: promptId, client_id: clientId, ...(front ? { front } : {}) };
    const response = await this.#fetch('/prompt', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status === 400)
      throw new PromptRejectedError((await response.json()) as ComfyPromptRejection);
    await this.#expectOk(response, 'POST /prompt');
    return (await response.json()) as { number: number };
  }

  async getQueue(): Promise<ComfyQueue> {
    const response = await this.#fetch('/queue');
    await this.#expectOk(response, 'GET /queue');
    return (await response.json()) as ComfyQueue;
  }

  async getHistory(promptId: string): Promise<ComfyHistoryEntry | undefined> {
    const response = await this.#fetch(`/history/${encodeURIComponent(promptId)}`);
    await this.#expectOk(response, 'GET /history');
    const body = (await response.json()) as Record<string, ComfyHistoryEntry>;
    return body[promptId];
  }

  async deleteFromQueue(promptIds: string[]): Promise<void> {
    const response = await this.#fetch('/queue', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delete: promptIds }),
    });
    await this.#expectOk(response, 'POST /queue');
    await response.buffer();
  }

  async interrupt(promptId: string): Promise<void> {
    const response = await this.#fetch('/interrupt', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt_id: promptId }),
    });
    await this.#expectOk(response, 'POST /interrupt');
    await response.buffer();
  }

  /**
   * Streams a stored input to `/upload/image`; returns the name the backend chose. Written with node:http
   * and the source's stream (a file or an S3 object) so a multi-gigabyte input costs a few 64 KiB buffers,
   * not a Blob pipeline. The source is opened first: a storage failure is reported as such, before the
   * backend sees a byte.
   */
  async uploadImage(source: SizedSource, name: string, contentType: string): Promise<string> {
    const body = await source.open();
    const boundary = `----flowscale${randomUUID().replaceAll('-', '')}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="overwrite"\r\n\r\ntrue\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${name}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const url = new URL(`${this.baseUrl}/upload/image`);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      let sourceError: Error | undefined;
      const request = requestFunction(url)(
        {
          ...tlsFields(url, this.#tls),
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          timeout: UPLOAD_TIMEOUT_MS,
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': head.length + source.size + tail.length,
          },
        },
        (response) => {
          let answer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (answer += chunk.slice(0, 10_000)));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: answer }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('upload timed out')));
      request.on('error', (error) => {
        body.destroy();
        reject(
          sourceError
            ? new Error(`reading the input ${name} failed: ${sourceError.message}`, { cause: sourceError })
            : new BackendUnavailableError(`${this.baseUrl} unreachable (${error.message})`, { cause: error }),
        );
      });
      request.write(head);
      body.on('error', (error) => {
        sourceError = error;
        request.destroy(error);
      });
      body.on('end', () => request.end(tail));
      body.pipe(request, { end: false });
    });
    const what = 'POST /upload/image';
    if (status >= 400 && status < 500) {
      throw new BackendRejectedError(
        `${what} on ${this.baseUrl} answered ${status} ${text.slice(0, 200)}`.trim(),
        status,
      );
    }
    if (status !== 200) throw new BackendUnavailableError(`${what} on ${this.baseUrl} answered ${status}`);
    const uploaded = JSON.parse(text) as { name: string; subfolder?: string };
    return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
  }

  /**
   * GETs a JSON document (the inventory endpoints). Undefined when the backend answers 404: an older
   * ComfyUI or the engine may not have the endpoint, which is not an error.
   */
  async getJson<T>(path: string): Promise<T | undefined> {
    const response = await this.#fetch(path);
    if (response.status === 404) {
      await response.buffer();
      return undefined;
    }
    await this.#expectOk(response, `GET ${path}`);
    return response.json<T>();
  }

  /** Whether the backend still has an input file (`/view?type=input`); the body is not read. */
  async hasInput(name: string): Promise<boolean> {
    const slash = name.lastIndexOf('/');
    const query = new URLSearchParams({
      filename: name.slice(slash + 1),
      subfolder: slash < 0 ? '' : name.slice(0, slash),
      type: 'input',
    });
    try {
      const response = await this.#fetch(`/view?${query}`);
      response.stream.destroy();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** Opens a produced file; the caller consumes the body. */
  async view(ref: ComfyFileRef): Promise<BackendResponse> {
    const query = new URLSearchParams({
      filename: ref.filename,
      subfolder: ref.subfolder ?? '',
      type: ref.type ?? 'output',
    });
    const response = await this.#fetch(`/view?${query}`, {}, UPLOAD_TIMEOUT_MS);
    await this.#expectOk(response, 'GET /view');
    return response;
  }

  async #fetch(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<BackendResponse> {
    try {
      return await backendRequest(this.#agent, new URL(`${this.baseUrl}${path}`), { ...init, timeoutMs });
    } catch (error) {
      throw new BackendUnavailableError(`${this.baseUrl} unreachable (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  async #expectOk(response: BackendResponse, what: string): Promise<void> {
    if (response.status >= 200 && response.status < 300) return;
    const text = (await response.text().catch(() => '')).slice(0, 200);
    const message = `${what} on ${this.baseUrl} answered ${response.status} ${text}`.trim();
    if (response.status >= 400 && response.status < 500)
      throw new BackendRejectedError(message, response.status);
    throw new BackendUnavailableError(message);
  }
}
