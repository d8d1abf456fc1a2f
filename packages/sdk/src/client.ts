import { FlowScaleError, TimeoutError } from './core/errors';
import { Logger, type LoggingConfig, type LogLevel } from './core/logger';
import type { ExecuteWorkflowOptions, FlowscaleConfig, RequestOptions } from './core/options';
import { linkSignal, randomId } from './core/timing';
import { type Call, createTransport, type Transport } from './core/transport';
import {
  type ConnectWebSocketOptions,
  openReconnectingSocket,
  type SocketHandle,
} from './realtime/websocket';
import { type SubscribeRunEventsOptions, subscribeRunEvents } from './runs/subscribe';
import type { ExecuteWorkflowAsyncOptions } from './runs/wait';
import type {
  ApiResponse,
  ContainerHealth,
  ContainerQueue,
  ExecuteWorkflowResponseData,
  GetAllOutputsResponse,
  GetRunsQuery,
  OutputData,
  RunRecord,
  RunsPage,
  WorkflowDetail,
  WorkflowSummary,
} from './types/api';
import type { WorkflowInputsOf, WorkflowRegistry } from './types/registry';
import { encodeMultipart } from './uploads/multipart';
import type { WorkflowInput } from './uploads/uploadable';

const BROWSER_KEY_MESSAGE =
  'An apiKey in a browser is public. Use proxyMode: true with a backend proxy that holds the key, ' +
  'or set allowDangerouslyExposeApiKey: true to accept the risk.';

// A `document` means a page, whose every visitor can read the bundle (workers have none; jsdom has one).
const isBrowser = () => typeof document !== 'undefined';
const enc = encodeURIComponent;

/**
 * The FlowScale client. `Registry` types workflow inputs per workflow id (see WorkflowRegistry);
 * every method takes an optional trailing RequestOptions `{ signal, timeout, headers, idempotencyKey }`.
 */
export class FlowscaleAPI<Registry extends object = WorkflowRegistry> {
  readonly #transport: Transport;
  #socket: SocketHandle | undefined;

  constructor(config: FlowscaleConfig = {}) {
    const { apiKey, proxyMode } = config;
    if (apiKey && isBrowser() && !config.allowDangerouslyExposeApiKey) {
      throw new FlowScaleError(BROWSER_KEY_MESSAGE, { code: 'browser_api_key' });
    }
    if (!apiKey && !proxyMode) {
      throw new FlowScaleError('apiKey is required unless proxyMode: true', { code: 'missing_api_key' });
    }
    this.#transport = createTransport({
      ...config,
      baseUrl: (config.baseUrl ?? 'https://api.flowscale.ai').replace(/\/+$/, ''),
      customHeaders: { ...config.customHeaders },
      timeout: config.timeout ?? 300_000,
      retries: config.retries ?? 3,
      retryDelay: config.retryDelay ?? 1000,
      logger: new Logger({ enabled: config.enableLogging ?? true, level: config.logLevel ?? 'info' }, apiKey),
    });
    transports.set(this, this.#transport);
  }

  /** `GET /api/v1/comfy/health`: the status of each ComfyUI container. */
  checkHealth(options?: RequestOptions): Promise<ApiResponse<ContainerHealth[]>> {
    return this.call('GET', 'comfy/health', options);
  }

  /** `GET /api/v1/comfy/queue`: running and pending prompts per container. */
  getQueue(options?: RequestOptions): Promise<ApiResponse<ContainerQueue[]>> {
    return this.call('GET', 'comfy/queue', options);
  }

  /** `GET /api/v1/comfy/workflows`: every deployed workflow. */
  getWorkflows(options?: RequestOptions): Promise<ApiResponse<WorkflowSummary[]>> {
    return this.call('GET', 'comfy/workflows', options);
  }

  /** `GET /api/v1/comfy/workflows/{idOrName}`: one workflow with parsed input/output schemas. */
  getWorkflow(idOrName: string, options?: RequestOptions): Promise<ApiResponse<WorkflowDetail>> {
    return this.call('GET', `comfy/workflows/${enc(idOrName)}`, options);
  }

  /**
   * Starts a run and returns at once with its `run_id`. Inputs go as multipart/form-data, streamed (files
   * are never read into memory). The POST carries an `Idempotency-Key`, reused on every retry, so a retry
   * can never start a second run.
   */
  executeWorkflow<Id extends string>(
    workflowId: Id,
    data: WorkflowInputsOf<Registry, Id>,
    groupId?: string,
    options?: ExecuteWorkflowOptions,
  ): Promise<ApiResponse<ExecuteWorkflowResponseData>> {
    const { priority, timeout, webhookUrl, metadata } = options?.execution ?? {};
    return this.call('POST', 'runs', options, {
      query: {
        workflow_id: workflowId,
        group_id: groupId,
        priority,
        timeout,
        metadata: metadata && JSON.stringify(metadata),
      },
      ...encodeMultipart(
        (webhookUrl ? { ...(data as WorkflowInput), webhook_url: webhookUrl } : data) as WorkflowInput,
      ),
      idempotencyKey: options?.idempotencyKey ?? randomId(),
    });
  }

  /**
   * Starts a run and resolves with all its outputs once it completes, always in the 2.0 array format.
   * Follows the run's event stream when the server has one, else polls every `pollIntervalMs`.
   * Rejects at once when the run fails or is cancelled, and with a TimeoutError
   * ("Workflow execution timed out after <ms>ms") after `timeoutMs`.
   */
  async executeWorkflowAsync<Id extends string>(
    workflowId: Id,
    data: WorkflowInputsOf<Registry, Id>,
    groupId?: string,
    pollIntervalMs = 2000,
    timeoutMs = 600_000,
    options: ExecuteWorkflowAsyncOptions = {},
  ): Promise<GetAllOutputsResponse> {
    const deadline = linkSignal(
      options.signal,
      timeoutMs,
      `Workflow execution timed out after ${timeoutMs}ms`,
    );
    const { signal } = deadline;
    try {
      // A lazy chunk: waiting for a run (event stream, polling) is not needed to start one.
      const { runToCompletion } = await import('./runs/wait');
      return await runToCompletion(
        this,
        this.#transport,
        () => this.executeWorkflow(workflowId, data, groupId, { ...options, signal }),
        pollIntervalMs,
        signal,
        options,
      );
    } catch (error) {
      // Whatever was in flight when the deadline fired, the caller sees the workflow timeout (an unaborted
      // signal has no reason).
      throw signal.reason instanceof TimeoutError ? signal.reason : error;
    } finally {
      deadline.dispose();
    }
  }

  /** `GET /api/v1/runs/output?filename=`: the output, or `null` while it is not ready (HTTP 204). */
  getOutput(filename: string, options?: RequestOptions): Promise<ApiResponse<OutputData> | null> {
    return this.call('GET', 'runs/output', options, { query: { filename } });
  }

  /** `GET /api/v1/runs/{runId}`: one run record. */
  getRun(runId: string, options?: RequestOptions): Promise<ApiResponse<RunRecord>> {
    return this.call('GET', `runs/${enc(runId)}`, options);
  }

  /** `GET /api/v1/runs`: runs of a group (or all runs of the team), with paging and sorting. */
  getRuns(
    groupId?: string,
    query: GetRunsQuery = {},
    options?: RequestOptions,
  ): Promise<ApiResponse<RunsPage>> {
    const { page, pageSize, sortBy, sortOrder } = query;
    return this.call('GET', 'runs', options, {
      query: { group_id: groupId, page, page_size: pageSize, sort_by: sortBy, sort_order: sortOrder },
    });
  }

  /** `POST /api/v1/runs/{runId}/cancel`. */
  cancelRun(runId: string, options?: RequestOptions): Promise<ApiResponse<string>> {
    return this.call('POST', `runs/${enc(runId)}/cancel`, options);
  }

  /** Streams a run's events (SSE over fetch), reconnecting and resuming without loss or duplicates. */
  subscribeRunEvents(runId: string, options?: SubscribeRunEventsOptions) {
    return subscribeRunEvents(this.#transport, runId, options);
  }

  /** Opens the WebSocket (`/api/v1/ws`), replacing any open one. Returns a function that disconnects. */
  connectWebSocket(options: ConnectWebSocketOptions = {}): () => void {
    this.disconnectWebSocket();
    const socket = openReconnectingSocket(this.#transport.config, options);
    this.#socket = socket;
    return () => {
      socket.close();
      if (this.#socket === socket) this.#socket = undefined;
    };
  }

  /** Sends a message (objects as JSON). Returns false when no connection is open. */
  sendWebSocketMessage(message: unknown): boolean {
    return this.#socket?.send(message) ?? false;
  }

  disconnectWebSocket(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  isWebSocketConnected(): boolean {
    return this.#socket?.connected ?? false;
  }

  /** Merges headers into those sent with every later request. */
  updateCustomHeaders(headers: Record<string, string>): void {
    Object.assign(this.#transport.config.customHeaders, headers);
  }

  getCustomHeaders(): Record<string, string> {
    return { ...this.#transport.config.customHeaders };
  }

  clearCustomHeaders(): void {
    this.#transport.config.customHeaders = {};
  }

  setLoggingConfig(enabled: boolean, level?: LogLevel): void {
    const { logger } = this.#transport.config;
    logger.config = { enabled, level: level ?? logger.config.level };
  }

  getLoggingConfig(): LoggingConfig {
    return { ...this.#transport.config.logger.config };
  }

  /**
   * For subclasses (`flowscale/admin`): `path` is relative to `/api/v1/`; `extra` (query, body, ...) wins
   * over the caller's options.
   */
  protected call<T>(
    method: string,
    path: string,
    options?: RequestOptions,
    extra?: Partial<Call>,
  ): Promise<T> {
    return this.#transport.request({ method, path: `/api/v1/${path}`, ...options, ...extra }) as Promise<T>;
  }
}

// Each client's transport, for the subpath entries (`flowscale/node`); not exported from the core index.
const transports = new WeakMap<object, Transport>();
export const transportOf = (client: FlowscaleAPI<object>): Transport => transports.get(client)!;
