// A small server that follows docs/../shared CONTRACT.md closely enough to exercise every SDK method over a
// real socket, with switches to inject failures (statuses with Retry-After, slow answers, dropped streams).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { isTerminalEventType, isTerminalStatus } from '../../src/events';

export interface Fault {
  method?: string;
  /** Matched against the path without query string. */
  path: string | RegExp;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Wait before answering (or before the fault's own answer). */
  delayMs?: number;
  /** Destroy the socket instead of answering (a network error for the client). */
  destroy?: boolean;
  /** How many matching requests it applies to. @default 1 */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface UploadedPart {
  name: string;
  filename?: string;
  type?: string;
  size: number;
  text: string;
}

export interface RunEventData {
  seq: number;
  run_id: string;
  type: string;
  status: string;
  progress: number;
  ts: string;
  [extra: string]: unknown;
}

export interface Run {
  _id: string;
  workflow_id: string;
  group_id: string | null;
  status: string;
  progress: number;
  inputs: Array<{ path: string; value: unknown }>;
  output_names: string[];
  outputs: Array<{ filename: string; url: string; content_type: string; size: number; node_id: string }>;
  error: { message: string; node_id?: string; node_type?: string } | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  events: RunEventData[];
  texts: Map<string, string>;
  idempotencyKey?: string;
  bodyDigest: string;
  listeners: Set<(e: RunEventData) => void>;
}

export interface ContractServerOptions {
  apiKey?: string;
  /** Accept requests without a key (to observe proxy-mode headers). */
  requireKey?: boolean;
  /** Time between run steps in ms. */
  stepMs?: number;
  /** `on` (default), `404`, or `json` (answers 200 application/json). */
  events?: 'on' | '404' | 'json';
  /** Destroy the first SSE connection of each run after this many events. */
  dropSseAfter?: number;
  /** Refuse every WebSocket handshake with 401. */
  rejectWebSockets?: boolean;
}

interface WorkflowSpec {
  id: string;
  name: string;
  inputs: Record<string, string>;
  /** `batch`: how many files the node saves (like SaveImage on a batch): `<name>.png`, `<name>_2.png`, ... */
  outputs: Array<{ name: string; type: 'string' | 'image'; node: string; batch?: number }>;
  behaviour: 'echo' | 'fail' | 'hang';
}

const WORKFLOWS: WorkflowSpec[] = [
  {
    id: 'wf-text-echo',
    name: 'text-echo',
    inputs: { default_value_1: 'string' },
    outputs: [{ name: 'filename_prefix', type: 'string', node: '3' }],
    behaviour: 'echo',
  },
  {
    id: 'wf-invert-image',
    name: 'invert-image',
    inputs: { image_1: 'image' },
    outputs: [{ name: 'filename_prefix', type: 'image', node: '3' }],
    behaviour: 'echo',
  },
  {
    id: 'wf-two-outputs',
    name: 'two-outputs',
    inputs: { default_value_1: 'string' },
    outputs: [
      { name: 'filename_prefix', type: 'string', node: '3' },
      { name: 'filename_prefix', type: 'image', node: '4' },
    ],
    behaviour: 'echo',
  },
  {
    id: 'wf-image-batch',
    name: 'image-batch',
    inputs: { default_value_1: 'string' },
    outputs: [
      { name: 'filename_prefix', type: 'image', node: '3', batch: 3 },
      { name: 'filename_prefix', type: 'string', node: '5' },
    ],
    behaviour: 'echo',
  },
  {
    id: 'wf-fail',
    name: 'fail-node',
    inputs: {},
    outputs: [{ name: 'filename_prefix', type: 'image', node: '3' }],
    behaviour: 'fail',
  },
  {
    id: 'wf-hang',
    name: 'hang',
    inputs: {},
    outputs: [{ name: 'filename_prefix', type: 'string', node: '3' }],
    behaviour: 'hang',
  },
];

export type ContractServer = Awaited<ReturnType<typeof startContractServer>>;

export async function startContractServer(options: ContractServerOptions = {}) {
  const apiKey = options.apiKey ?? 'test-key-0123456789';
  const stepMs = options.stepMs ?? 15;
  const state = {
    requests: [] as RecordedRequest[],
    runs: new Map<string, Run>(),
    uploads: new Map<string, UploadedPart[]>(),
    faults: [] as Fault[],
    sseConnections: new Map<string, number>(),
    wsConnections: [] as Array<{ socket: WebSocket; headers: IncomingMessage['headers']; protocol: string }>,
    wsMessages: [] as unknown[],
    options: { events: 'on', requireKey: true, ...options } as ContractServerOptions,
    keys: [] as Array<{
      id: string;
      name: string;
      role: string;
      prefix: string;
      created_at: string;
      last_used_at: null;
      revoked_at: string | null;
    }>,
    deployed: [] as Array<Record<string, unknown>>,
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { status: 'error', errors: String(error), code: 'internal' });
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({
    server,
    path: '/api/v1/ws',
    handleProtocols: (protocols) => (protocols.has('flowscale') ? 'flowscale' : false),
    verifyClient: (info, done) => {
      const key =
        info.req.headers['x-api-key'] ?? keyFromProtocols(info.req.headers['sec-websocket-protocol']);
      if (state.options.rejectWebSockets || (state.options.requireKey && key !== apiKey))
        done(false, 401, 'Unauthorized');
      else done(true);
    },
  });
  wss.on('connection', (socket, req) => {
    state.wsConnections.push({ socket, headers: req.headers, protocol: socket.protocol });
    const subscribed = new Set<string>();
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      state.wsMessages.push(message);
      if (message.type === 'client_event' && message.data?.action === 'subscribe')
        subscribed.add(message.data.runId);
    });
    (socket as WebSocket & { wants?: (id: string) => boolean }).wants = (id) =>
      subscribed.size === 0 || subscribed.has(id);
  });

  const url = await new Promise<string>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const full = new URL(req.url ?? '/', url);
    const path = full.pathname;
    const method = req.method ?? 'GET';
    // Browsers call from another origin (the browser test): allow it, and answer preflights.
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET,POST,DELETE',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
      });
      return void res.end();
    }
    state.requests.push({ method, url: req.url ?? '', path, headers: req.headers });
    const fault = takeFault(method, path);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.destroy) return void req.socket.destroy();
    if (fault?.status) {
      await drain(req);
      return send(
        res,
        fault.status,
        fault.body ?? { status: 'error', errors: 'injected', code: 'injected' },
        fault.headers,
      );
    }
    // Signed downloads need no key (like the real server's /api/v1/files): the file's bytes.
    if (path.startsWith('/files/')) {
      const body = fileBytes(decodeURIComponent(path.slice('/files/'.length)));
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': body.byteLength });
      return void res.end(body);
    }
    if (state.options.requireKey && req.headers['x-api-key'] !== apiKey) {
      await drain(req);
      return send(res, 401, { status: 'error', errors: 'Invalid or missing API key', code: 'unauthorized' });
    }
    const route = `${method} ${path}`;
    const runMatch = /^\/api\/v1\/runs\/([^/]+)(\/events|\/cancel)?$/.exec(path);
    if (route === 'GET /api/v1/comfy/health') return ok(res, [{ container: 'container #1', status: 'idle' }]);
    if (route === 'GET /api/v1/comfy/queue') {
      return ok(res, [{ container: 'container #1', queue: { queue_running: [], queue_pending: [] } }]);
    }
    if (route === 'GET /api/v1/comfy/workflows') return ok(res, WORKFLOWS.map(summary));
    if (method === 'GET' && path.startsWith('/api/v1/comfy/workflows/')) {
      const wf = findWorkflow(decodeURIComponent(path.split('/').pop() ?? ''));
      if (!wf) return notFound(res, 'workflow');
      return ok(res, { ...summary(wf), input_schema: [], output_schema: [] });
    }
    if (route === 'POST /api/v1/runs') return createRun(req, res, full);
    if (route === 'GET /api/v1/runs') return listRuns(res, full);
    if (route === 'GET /api/v1/runs/output') return getOutput(res, full.searchParams.get('filename') ?? '');
    if (runMatch) {
      const run = state.runs.get(decodeURIComponent(runMatch[1]!));
      if (!run) return notFound(res, 'run');
      if (method === 'GET' && !runMatch[2]) return ok(res, publicRun(run));
      if (method === 'GET' && runMatch[2] === '/events') return streamEvents(req, res, run, full);
      if (method === 'POST' && runMatch[2] === '/cancel') {
        if (isTerminalStatus(run.status)) {
          return send(res, 409, { status: 'error', errors: 'Run already finished', code: 'conflict' });
        }
        advance(run, 'run.cancelled', 'cancelled');
        return ok(res, 'Run cancelled successfully');
      }
    }
    if (route === 'POST /api/v1/admin/workflows') {
      const body = JSON.parse(await readText(req));
      if (!body.name)
        return send(res, 422, {
          status: 'error',
          errors: 'Invalid input',
          code: 'validation_error',
          details: [{ field: 'name', message: 'Field required' }],
        });
      const wf = { id: `wf-${body.name}`, ...body };
      state.deployed.push(wf);
      return ok(res, wf);
    }
    if (method === 'DELETE' && path.startsWith('/api/v1/admin/workflows/'))
      return ok(res, { deleted: path.split('/').pop() });
    if (route === 'GET /api/v1/admin/keys') return ok(res, state.keys);
    if (route === 'POST /api/v1/admin/keys') {
      const body = JSON.parse(await readText(req));
      const key = `fs_${randomUUID().replace(/-/g, '')}`;
      const record = {
        id: randomUUID(),
        name: body.name,
        role: body.role ?? 'user',
        prefix: key.slice(0, 7),
        created_at: now(),
        last_used_at: null,
        revoked_at: null,
      };
      state.keys.push(record);
      return ok(res, { id: record.id, name: record.name, role: record.role, key });
    }
    if (method === 'DELETE' && path.startsWith('/api/v1/admin/keys/')) {
      const record = state.keys.find((k) => k.id === path.split('/').pop());
      if (!record) return notFound(res, 'key');
      record.revoked_at = now();
      return ok(res, record);
    }
    return notFound(res, 'route');
  }

  async function createRun(req: IncomingMessage, res: ServerResponse, full: URL) {
    const wf = findWorkflow(full.searchParams.get('workflow_id') ?? '');
    const parts = await parseMultipart(req);
    if (!wf) return notFound(res, 'workflow');
    const key = req.headers['idempotency-key'] as string | undefined;
    const digest = JSON.stringify(parts.map((p) => [p.name, p.filename, p.size, p.text.slice(0, 1000)]));
    const existing = key ? [...state.runs.values()].find((r) => r.idempotencyKey === key) : undefined;
    if (existing) {
      if (existing.bodyDigest !== digest)
        return send(res, 409, {
          status: 'error',
          errors: 'Idempotency-Key reused with another body',
          code: 'idempotency_conflict',
        });
      return ok(res, { run_id: existing._id, workflow_id: wf.id, output_names: existing.output_names });
    }
    const token = randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase();
    const run: Run = {
      _id: randomUUID(),
      workflow_id: wf.id,
      group_id: full.searchParams.get('group_id'),
      status: 'queued',
      progress: 0,
      inputs: parts.map((p) => ({ path: p.name, value: p.filename ?? p.text })),
      output_names: wf.outputs.map((o) => `${o.name}_${o.node}_${token}`),
      outputs: [],
      error: null,
      created_at: now(),
      started_at: null,
      completed_at: null,
      events: [],
      texts: new Map(),
      idempotencyKey: key,
      bodyDigest: digest,
      listeners: new Set(),
    };
    state.runs.set(run._id, run);
    state.uploads.set(run._id, parts);
    advance(run, 'run.queued', 'queued');
    simulate(run, wf, parts);
    return ok(res, { run_id: run._id, workflow_id: wf.id, output_names: run.output_names });
  }

  function simulate(run: Run, wf: WorkflowSpec, parts: UploadedPart[]) {
    const steps: Array<() => void> = [
      () => {
        run.started_at = now();
        advance(run, 'run.started', 'running', { backend: 'test' });
      },
      () => advance(run, 'node.executing', 'running', { node_id: '2', node_type: 'Work' }, 50),
    ];
    if (wf.behaviour === 'fail') {
      steps.push(() => {
        run.error = { message: 'Sampler exploded', node_id: '2', node_type: 'KSampler' };
        advance(run, 'run.failed', 'failed', { error: run.error });
      });
    } else if (wf.behaviour === 'echo') {
      wf.outputs.forEach((o, i) => {
        steps.push(() => {
          const name = run.output_names[i]!;
          if (o.type === 'string')
            run.texts.set(
              name,
              `${parts.find((p) => p.name === 'default_value_1')?.text ?? 'hello'} from FlowScale`,
            );
          // A batch is listed last file first, so clients must order it themselves rather than trust the record.
          for (let n = o.batch ?? 1; n >= 1; n--) {
            const suffix = n > 1 ? `_${n}` : '';
            const filename = `${name}${suffix}${o.type === 'image' ? '.png' : '.txt'}`;
            const output = {
              filename,
              url: `${url}/files/${filename}`,
              content_type: o.type === 'image' ? 'image/png' : 'text/plain',
              size: 10,
              node_id: o.node,
            };
            run.outputs.push(output);
            advance(run, 'output.ready', 'running', { output: { ...output, name } }, 90);
          }
        });
      });
      steps.push(() => {
        run.completed_at = now();
        advance(
          run,
          'run.completed',
          'completed',
          {
            outputs: run.outputs.map((o) => ({
              ...o,
              name: run.output_names.find((n) => o.filename.startsWith(n)),
            })),
          },
          100,
        );
      });
    }
    let i = 0;
    const tick = () => {
      if (isTerminalStatus(run.status) || i >= steps.length) return;
      steps[i++]!();
      setTimeout(tick, stepMs);
    };
    setTimeout(tick, stepMs);
  }

  function advance(
    run: Run,
    type: string,
    status: string,
    extra: Record<string, unknown> = {},
    progress?: number,
  ) {
    run.status = status;
    run.progress = progress ?? (status === 'completed' ? 100 : run.progress);
    const event: RunEventData = {
      seq: run.events.length + 1,
      run_id: run._id,
      type,
      status,
      progress: run.progress,
      ts: now(),
      ...extra,
    };
    run.events.push(event);
    for (const listener of run.listeners) listener(event);
    for (const { socket } of state.wsConnections) {
      const wants = (socket as WebSocket & { wants?: (id: string) => boolean }).wants;
      if (socket.readyState === 1 && wants?.(run._id)) {
        socket.send(
          JSON.stringify({
            type: 'run_status_update',
            data: { run_id: run._id, status, progress: run.progress },
          }),
        );
      }
    }
  }

  function streamEvents(req: IncomingMessage, res: ServerResponse, run: Run, full: URL) {
    if (state.options.events === '404') return notFound(res, 'route');
    if (state.options.events === 'json') return ok(res, run.events);
    const count = (state.sseConnections.get(run._id) ?? 0) + 1;
    state.sseConnections.set(run._id, count);
    const lastId = Number(req.headers['last-event-id'] ?? Number.NaN);
    const fromSeq = Number(full.searchParams.get('from_seq') ?? Number.NaN);
    const start = !Number.isNaN(lastId) ? lastId + 1 : !Number.isNaN(fromSeq) ? fromSeq : 1;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    res.write(': ping\n\n');
    let written = 0;
    const write = (event: RunEventData) => {
      if (event.seq < start || res.destroyed) return;
      // Split each event across two writes so clients must reassemble chunks.
      const text = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
      res.write(text.slice(0, 7));
      written++;
      if (count === 1 && state.options.dropSseAfter !== undefined && written >= state.options.dropSseAfter) {
        run.listeners.delete(write);
        // Drop the connection once this event has reached the socket, without a clean end.
        res.write(text.slice(7), () => res.destroy());
        return;
      }
      res.write(text.slice(7));
      if (isTerminalEventType(event.type)) {
        run.listeners.delete(write);
        res.end();
      }
    };
    for (const event of run.events) write(event);
    if (!res.destroyed && !res.writableEnded) run.listeners.add(write);
    req.on('close', () => run.listeners.delete(write));
  }

  function listRuns(res: ServerResponse, full: URL) {
    const q = full.searchParams;
    const group = q.get('group_id');
    const sortBy = (q.get('sort_by') ?? 'created_at') as 'created_at';
    const order = q.get('sort_order') ?? 'desc';
    const page = Number(q.get('page') ?? 1);
    const size = Number(q.get('page_size') ?? 10);
    const runs = [...state.runs.values()]
      .filter((r) => !group || r.group_id === group)
      .sort((a, b) => String(a[sortBy]).localeCompare(String(b[sortBy])) * (order === 'asc' ? 1 : -1));
    const slice = runs.slice((page - 1) * size, page * size).map(publicRun);
    return send(res, 200, {
      status: 'success',
      data: { group_id: group, count: runs.length, runs: slice },
      meta: {
        page,
        page_size: size,
        total_count: runs.length,
        total_pages: Math.ceil(runs.length / size),
        sort_by: sortBy,
        sort_order: order,
        group_id: group,
      },
    });
  }

  function getOutput(res: ServerResponse, filename: string) {
    // An output name or a stored file name, with or without extension (`<name>_2.png` is a batch's second file).
    const base = filename.replace(/\.[a-z0-9]+$/i, '');
    const run = [...state.runs.values()].find((r) => r.output_names.some((n) => base.startsWith(n)));
    if (!run) return notFound(res, 'output');
    const output = run.outputs.find((o) => o.filename.replace(/\.[a-z0-9]+$/i, '') === base);
    if (!output) return send(res, 204);
    const text = run.texts.get(base);
    return ok(
      res,
      text !== undefined
        ? { file_content: text, generation_status: 'success' }
        : { download_url: output.url, generation_status: 'success' },
    );
  }

  function takeFault(method: string, path: string): Fault | undefined {
    const index = state.faults.findIndex(
      (f) =>
        (!f.method || f.method === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    if (index < 0) return undefined;
    const fault = state.faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) state.faults.splice(index, 1);
    return fault;
  }

  return {
    url,
    apiKey,
    ...state,
    inject: (fault: Fault) => state.faults.push(fault),
    requestsTo: (path: string) => state.requests.filter((r) => r.path === path),
    /** Drops every WebSocket connection without a close handshake. */
    dropWebSockets: () => {
      for (const { socket } of state.wsConnections) socket.terminate();
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The bytes the contract server serves for a stored file: a PNG signature, then the file name. */
export function fileBytes(filename: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from(filename),
  ]);
}

function summary(wf: WorkflowSpec) {
  const outputs = Object.fromEntries(wf.outputs.map((o) => [`${o.name}_${o.node}`, o.type]));
  return {
    id: wf.id,
    name: wf.name,
    description: `${wf.name} test workflow`,
    inputs: JSON.stringify(wf.inputs),
    outputs: JSON.stringify(outputs),
  };
}

function findWorkflow(idOrName: string) {
  return WORKFLOWS.find((w) => w.id === idOrName || w.name === idOrName);
}

function publicRun(run: Run) {
  const { events: _e, texts: _t, listeners: _l, bodyDigest: _b, idempotencyKey: _k, ...rest } = run;
  return rest;
}

/** Parses multipart/form-data with the Web `Request.formData()` (undici's real parser). */
async function parseMultipart(req: IncomingMessage): Promise<UploadedPart[]> {
  const body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
  const request = new Request('http://local/', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? '' },
    body,
    duplex: 'half',
  } as RequestInit);
  const form = await request.formData();
  const parts: UploadedPart[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') parts.push({ name, size: value.length, text: value });
    else
      parts.push({
        name,
        filename: value.name,
        type: value.type,
        size: value.size,
        text: await value.text(),
      });
  }
  return parts;
}

function keyFromProtocols(header: string | string[] | undefined): string | undefined {
  const list = String(header ?? '')
    .split(',')
    .map((p) => p.trim());
  return list.find((p) => p.startsWith('flowscale.key.'))?.slice('flowscale.key.'.length);
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const ok = (res: ServerResponse, data: unknown) => send(res, 200, { status: 'success', data });
const notFound = (res: ServerResponse, what: string) =>
  send(res, 404, { status: 'error', errors: `Unknown ${what}`, code: 'not_found' });
const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readText(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

async function drain(req: IncomingMessage) {
  for await (const _ of req) {
    // discard
  }
}
