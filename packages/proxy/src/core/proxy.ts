import { limitBody } from './body-limit';
import { rewriteDownloadUrls } from './downloads';
import { errorResponse } from './errors';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers';
import { createNodeUpstreamFetch } from './node-upstream';
import { createRunOwners, DEFAULT_OWNER_KEY, type RunOwners } from './owners';
import { createRateLimiter, type RateLimitOptions } from './rate-limit';
import { matchRoute, OPERATIONS, type Operation } from './routes';
import { passBody } from './stream';
import { createWorkflowGate, parseCatalog, type WorkflowGate } from './workflows';

/** Who is calling, as decided by `authenticate`. `id` keys the rate limit. */
export interface Caller {
  id: string;
  [claim: string]: unknown;
}

/** What an adapter knows about the connection that a Web `Request` cannot carry. */
export interface ProxyContext {
  clientAddress?: string;
}

export interface FlowScaleProxyOptions {
  /** Base URL of the FlowScale API (a pod or a self-hosted @flowscale/server). */
  upstream: string;
  /** The secret key; sent upstream as X-API-KEY and nowhere else. */
  apiKey: string;
  /** Decides who the caller is; return null (or throw) to answer 401. See `jwtAuthenticator`. */
  authenticate: (
    request: Request,
    context: ProxyContext,
  ) => Caller | null | undefined | Promise<Caller | null | undefined>;
  allow?: {
    /** Workflow ids or names a browser may run or see; all when omitted. */
    workflows?: readonly string[];
    /** Operations a browser may use; all run-time operations when omitted. */
    operations?: readonly Operation[];
  };
  /** Per-caller budget; `false` turns it off. Default 120 requests per minute. */
  rateLimit?: RateLimitOptions | false;
  /** Run event streams one caller may hold open at once (429 beyond). Default 8; `false` for no cap. */
  maxStreamsPerCaller?: number | false;
  /** Largest request body accepted, in bytes. Default 25 MiB. */
  maxBodyBytes?: number;
  /** Path the proxy is mounted under, e.g. `/flowscale` when the SDK's baseUrl is `https://app/flowscale`. */
  prefix?: string;
  /** Extra request headers to forward upstream (the caller's credentials never are). */
  forwardHeaders?: readonly string[];
  /**
   * Public base URL of the proxy (origin plus prefix), used to point signed download URLs at the
   * proxy. Default: the origin of each request plus `prefix`. Set `rewriteDownloadUrls: false` to
   * hand out the upstream's URLs unchanged.
   */
  publicUrl?: string;
  rewriteDownloadUrls?: boolean;
  /**
   * Runs belong to the signed-in caller who created them: the proxy records the caller's id as run
   * metadata (`proxy_user`, or `metadataKey`) that the browser cannot override, lists only the caller's
   * runs, and answers another caller's run id with the upstream's unknown-run 404 on every run endpoint.
   * Needs an upstream that stores run metadata (@flowscale/server). Off by default.
   */
  ownRuns?: boolean | { metadataKey?: string };
  /**
   * fetch used for upstream calls. Default: a `node:http(s)` client that destroys the upstream socket of
   * any request the caller abandons. Pass `globalThis.fetch` on runtimes without `node:http`.
   */
  fetch?: typeof fetch;
  /** Called with unexpected failures (upstream unreachable, catalogue lookups); never with the key. */
  onError?: (error: unknown) => void;
}

/** The upstream's own answer for a run id it does not know, so another caller's run looks the same. */
const unknownRun = (runId: string): Response => errorResponse(404, 'RUN_NOT_FOUND', `Unknown run: ${runId}`);

export type FlowScaleProxyHandler = (request: Request, context?: ProxyContext) => Promise<Response>;

const DEFAULT_MAX_BODY = 25 * 1024 * 1024;

export function createFlowScaleProxy(options: FlowScaleProxyOptions): FlowScaleProxyHandler {
  if (!options.apiKey) throw new TypeError('createFlowScaleProxy: apiKey is required');
  if (typeof options.authenticate !== 'function') {
    throw new TypeError('createFlowScaleProxy: authenticate is required (return { id } to allow a caller)');
  }
  const upstream = new URL(options.upstream);
  const upstreamBase = upstream.pathname.replace(/\/+$/, '');
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const doFetch = options.fetch ?? createNodeUpstreamFetch();
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const operations = new Set<Operation>(options.allow?.operations ?? OPERATIONS);
  const limiter =
    options.rateLimit === false
      ? undefined
      : createRateLimiter(options.rateLimit ?? { limit: 120, windowMs: 60_000 });
  const forwardHeaders = options.forwardHeaders ?? [];
  const report = options.onError ?? (() => {});
  const rewriteDownloads = options.rewriteDownloadUrls ?? true;
  const maxStreams =
    options.maxStreamsPerCaller === false ? Number.POSITIVE_INFINITY : (options.maxStreamsPerCaller ?? 8);
  const openStreams = new Map<string, number>();

  const upstreamUrl = (pathAndQuery: string) =>
    new URL(`${upstreamBase}${pathAndQuery}`, `${upstream.protocol}//${upstream.host}`);

  const gate: WorkflowGate | undefined = options.allow?.workflows
    ? createWorkflowGate(options.allow.workflows, async () => {
        const res = await doFetch(upstreamUrl('/api/v1/comfy/workflows'), {
          headers: { 'x-api-key': options.apiKey, accept: 'application/json' },
        });
        if (!res.ok) throw new Error(`Workflow list lookup failed with HTTP ${res.status}`);
        return parseCatalog(await res.json());
      })
    : undefined;

  const owners: RunOwners | undefined = options.ownRuns
    ? createRunOwners(
        (typeof options.ownRuns === 'object' && options.ownRuns.metadataKey) || DEFAULT_OWNER_KEY,
        (runId) =>
          doFetch(upstreamUrl(`/api/v1/runs/${encodeURIComponent(runId)}`), {
            headers: { 'x-api-key': options.apiKey, accept: 'application/json' },
          }),
      )
    : undefined;

  return async (request, context = {}) => {
    const url = new URL(request.url);
    if (prefix && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
      return errorResponse(404, 'not_found', 'Not found');
    }
    const path = url.pathname.slice(prefix.length) || '/';
    const match = matchRoute(request.method, path);
    if ('error' in match) {
      return match.error === 'not_found'
        ? errorResponse(404, 'not_found', `No FlowScale endpoint at ${path}`)
        : errorResponse(405, 'method_not_allowed', `${request.method} is not allowed on ${path}`);
    }
    const { route } = match;

    let caller: Caller | null | undefined;
    if (route.public) {
      // Signed download links are their own credential; unsigned ones never reach the upstream.
      caller = url.searchParams.has('signature')
        ? { id: `address:${context.clientAddress ?? 'unknown'}` }
        : null;
    } else {
      try {
        caller = await options.authenticate(request, context);
      } catch {
        caller = null;
      }
    }
    if (!caller || typeof caller.id !== 'string' || !caller.id) {
      return errorResponse(401, 'unauthorized', 'Missing or invalid credentials', {
        'www-authenticate': 'Bearer',
      });
    }

    if (limiter) {
      const verdict = limiter.take(caller.id);
      if (!verdict.ok) {
        return errorResponse(429, 'rate_limited', 'Too many requests, slow down', {
          'retry-after': String(verdict.retryAfterSeconds),
        });
      }
    }

    if (!operations.has(route.operation)) {
      return errorResponse(403, 'operation_not_allowed', `The '${route.operation}' operation is not allowed`);
    }

    const declaredLength = Number(request.headers.get('content-length') ?? '0');
    if (declaredLength > maxBody) {
      return errorResponse(413, 'payload_too_large', `Request body exceeds ${maxBody} bytes`, {
        connection: 'close',
      });
    }

    if (gate) {
      const workflow = route.operation === 'run' ? url.searchParams.get('workflow_id') : route.workflow;
      if (route.operation === 'run' && !workflow) {
        return errorResponse(400, 'validation_error', 'workflow_id is required');
      }
      if (workflow) {
        let allowed: boolean;
        try {
          allowed = await gate.allows(workflow);
        } catch (error) {
          report(error);
          return errorResponse(502, 'upstream_unavailable', 'Could not look up workflows upstream');
        }
        if (!allowed) {
          return errorResponse(403, 'workflow_not_allowed', `Workflow '${workflow}' is not allowed`);
        }
      }
    }

    if (owners) {
      if (route.operation === 'run') owners.tagSubmission(url.searchParams, caller.id);
      if (route.operation === 'getRuns') owners.narrowListing(url.searchParams, caller.id);
      if (route.runId) {
        let owned: boolean;
        try {
          owned = await owners.owns(route.runId, caller.id);
        } catch (error) {
          report(error);
          return errorResponse(502, 'upstream_unavailable', 'Could not look up the run upstream');
        }
        if (!owned) return unknownRun(route.runId);
      }
    }

    // An event stream holds an upstream connection for the whole run; count them per caller.
    let release = () => {};
    if (route.operation === 'events') {
      const open = openStreams.get(caller.id) ?? 0;
      if (open >= maxStreams) {
        return errorResponse(429, 'too_many_streams', `At most ${maxStreams} event streams at once`, {
          'retry-after': '5',
        });
      }
      openStreams.set(caller.id, open + 1);
      const id = caller.id;
      let released = false;
      release = () => {
        if (released) return;
        released = true;
        const left = (openStreams.get(id) ?? 1) - 1;
        if (left > 0) openStreams.set(id, left);
        else openStreams.delete(id);
      };
    }

    let tooLarge = false;
    const body =
      request.body && request.method !== 'GET' && request.method !== 'HEAD'
        ? limitBody(request.body, maxBody, () => {
            // Remember why the upload failed so the reply can say 413 rather than 502.
            tooLarge = true;
          })
        : null;

    const target = upstreamUrl(`${url.pathname.slice(prefix.length)}${url.search}`);
    let upstreamResponse: Response;
    try {
      upstreamResponse = await doFetch(target, {
        method: request.method,
        headers: upstreamRequestHeaders(request.headers, options.apiKey, forwardHeaders),
        body,
        redirect: 'manual',
        signal: request.signal,
        // Stream the upload instead of buffering it.
        duplex: 'half',
      } as RequestInit);
    } catch (error) {
      release();
      if (tooLarge) {
        return errorResponse(413, 'payload_too_large', `Request body exceeds ${maxBody} bytes`, {
          connection: 'close',
        });
      }
      if (!request.signal.aborted) report(error);
      return errorResponse(502, 'upstream_unavailable', 'The FlowScale API could not be reached');
    }

    const headers = clientResponseHeaders(upstreamResponse.headers);
    if (headers.get('content-type')?.startsWith('text/event-stream') && !headers.has('x-accel-buffering')) {
      // Tell a reverse proxy in front of us (nginx) not to hold events back either.
      headers.set('x-accel-buffering', 'no');
    }
    const isJson = upstreamResponse.ok && /\bjson\b/.test(upstreamResponse.headers.get('content-type') ?? '');
    const filterList = gate && route.operation === 'workflows' && !route.workflow;
    const rewrite = rewriteDownloads && (route.operation === 'output' || route.operation === 'getRun');
    const checkOwner = owners && (route.operation === 'output' || route.operation === 'queue');
    if (isJson && (filterList || rewrite || checkOwner)) {
      // Small JSON replies only; uploads, files and event streams are never buffered.
      let json: unknown = await upstreamResponse.json().catch(() => null);
      if (filterList) json = gate.filterList(json);
      if (owners && route.operation === 'queue') json = await owners.filterQueue(json, caller.id);
      if (owners && route.operation === 'output') {
        const runId = (json as { data?: { run_id?: unknown } } | null)?.data?.run_id;
        const name = url.searchParams.get('filename') ?? '';
        if (typeof runId !== 'string' || !(await owners.owns(runId, caller.id).catch(() => false))) {
          return errorResponse(404, 'OUTPUT_NOT_FOUND', `No run has an output named ${name}`);
        }
      }
      if (rewrite)
        json = rewriteDownloadUrls(json, options.publicUrl?.replace(/\/+$/, '') ?? `${url.origin}${prefix}`);
      headers.delete('content-length');
      return new Response(JSON.stringify(json), { status: upstreamResponse.status, headers });
    }
    if (!upstreamResponse.body) release();
    const replyBody = upstreamResponse.body && passBody(upstreamResponse.body, request.signal, release);
    return new Response(replyBody, {
      status: upstreamResponse.status,
      statusText: upstreamResponse.statusText,
      headers,
    });
  };
}
