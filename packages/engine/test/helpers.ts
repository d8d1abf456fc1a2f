import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { type EngineOptions, type RunningEngine, startEngine } from '../src/index';
import type { HistoryEntry } from '../src/run/history';

export interface TestEngine extends RunningEngine {
  stop(): Promise<void>;
}

/** A real engine on a free port with its own data dir, removed on stop(). */
export async function startTestEngine(opts: EngineOptions = {}): Promise<TestEngine> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'engine-test-'));
  const engine = await startEngine({ dataDir, logLevel: 'silent', ...opts });
  return {
    ...engine,
    async stop() {
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WsMessage {
  type: string;
  data: Record<string, unknown> & { node?: string | null; prompt_id?: string };
}

/** A /ws client that records every JSON message (and binary frame) it receives. */
export class WsClient {
  readonly messages: WsMessage[] = [];
  readonly binary: Buffer[] = [];
  /** The id the server greeted this socket with (the clientId to put in prompts). */
  sid = '';
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.binary.push(data as Buffer);
      else this.messages.push(JSON.parse(String(data)) as WsMessage);
    });
  }

  static async connect(url: string, clientId?: string): Promise<WsClient> {
    const wsUrl = `${url.replace(/^http/, 'ws')}/ws${clientId ? `?clientId=${encodeURIComponent(clientId)}` : ''}`;
    const client = new WsClient(new WebSocket(wsUrl));
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    const greeting = await client.waitFor((m) => m.type === 'status' && 'sid' in m.data);
    client.sid = String(greeting.data.sid);
    return client;
  }

  /** Messages without the greeting and progress_state snapshots (too chatty to compare one by one). */
  get events(): WsMessage[] {
    return this.messages.filter(
      (m) => m.type !== 'progress_state' && !(m.type === 'status' && 'sid' in m.data),
    );
  }

  /** Messages without the greeting, progress_state included. */
  get withProgressState(): WsMessage[] {
    return this.messages.filter((m) => !(m.type === 'status' && 'sid' in m.data));
  }

  async waitFor(predicate: (m: WsMessage) => boolean, timeoutMs = 60_000): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.find(predicate);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for a WS message; got ${this.summary()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves when `executing {node: null}` for the prompt arrives (ComfyUI's completion signal). */
  done(promptId: string, timeoutMs?: number): Promise<WsMessage> {
    return this.waitFor(
      (m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId,
      timeoutMs,
    );
  }

  /** The last few events, for failure messages. */
  summary(): string {
    return this.events.slice(-30).map(describe).join(' ');
  }

  clear(): void {
    this.messages.length = 0;
    this.binary.length = 0;
  }

  close(): void {
    this.socket.close();
  }
}

/** A compact, id-free description of a message, for comparing sequences with the transcripts. */
export function describe(m: WsMessage): string {
  const d = m.data;
  switch (m.type) {
    case 'status':
      return `status:${(d.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining}`;
    case 'executing':
      return `executing:${d.node}`;
    case 'executed':
      return `executed:${d.node}`;
    case 'execution_cached':
      return `execution_cached:[${(d.nodes as string[]).join(',')}]`;
    case 'progress_state':
      return `progress_state:${Object.entries(d.nodes as Record<string, { state: string }>)
        .map(([id, n]) => `${id}${n.state[0]}`)
        .join(',')}`;
    case 'execution_error':
    case 'execution_interrupted':
      return `${m.type}:${d.node_id}`;
    default:
      return m.type;
  }
}

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<JsonResponse<T>> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

export interface PromptReply {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
}

/** Queues a prompt for `client` and waits for its completion signal. */
export async function runPrompt(
  engine: RunningEngine,
  client: WsClient,
  prompt: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<PromptReply> {
  const res = await postJson<PromptReply>(`${engine.url}/prompt`, {
    prompt,
    client_id: client.sid,
    ...extra,
  });
  if (res.status !== 200) throw new Error(`POST /prompt answered ${res.status}: ${JSON.stringify(res.body)}`);
  await client.done(res.body.prompt_id);
  return res.body;
}

export async function history(engine: RunningEngine, promptId: string): Promise<HistoryEntry> {
  const res = await getJson<Record<string, HistoryEntry>>(`${engine.url}/history/${promptId}`);
  return res.body[promptId] as HistoryEntry;
}

export function fixturePath(name: string): string {
  return path.join(import.meta.dirname, 'fixtures', name);
}

/** A solid-colour PNG (optionally with alpha) made with sharp. */
export async function solidPng(
  width: number,
  height: number,
  rgba: [number, number, number, number?],
): Promise<Buffer> {
  const [r, g, b, a] = rgba;
  const channels = a === undefined ? 3 : 4;
  const { default: sharp } = await import('sharp');
  return sharp({ create: { width, height, channels, background: { r, g, b, alpha: (a ?? 255) / 255 } } })
    .png()
    .toBuffer();
}

export interface UploadResult {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** POSTs multipart/form-data like a browser: the file part plus text fields. */
export async function upload(
  url: string,
  file: { name: string; data: Buffer; field?: string } | null,
  fields: Record<string, string> = {},
  route = '/upload/image',
): Promise<UploadResult> {
  const form = new FormData();
  if (file)
    form.append(
      file.field ?? 'image',
      new Blob([new Uint8Array(file.data)], { type: 'image/png' }),
      file.name,
    );
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${url}${route}`, { method: 'POST', body: form });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

/** The JSON text with whitespace outside strings removed, so number spelling and key order are kept. */
export function minify(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/** Each top-level entry of a captured /object_info file, as its minified JSON text. */
export function capturedTexts(file: string): Map<string, string> {
  const text = minify(readFileSync(file, 'utf8'));
  const names = Object.keys(JSON.parse(text) as Record<string, unknown>);
  const out = new Map<string, string>();
  // Top-level values are objects: split by tracking depth.
  let depth = 0;
  let start = -1;
  let inString = false;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      depth++;
      if (depth === 2) start = i;
    } else if (c === '}') {
      if (depth === 2) out.set(names[index++] as string, text.slice(start, i + 1));
      depth--;
    }
  }
  return out;
}
