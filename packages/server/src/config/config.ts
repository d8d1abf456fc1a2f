import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRateLimit, type RateLimit } from '../limits/rate-limit';
import { PLACEMENT_POLICIES, type PlacementPolicy } from '../placement/policy';
import {
  httpUrl,
  invalidSetting,
  nonNegativeInteger,
  nonNegativeNumber,
  port,
  positiveInteger,
  readNumber,
  type Setting,
} from './settings';
import { StartupError } from './startup-error';

const S = {
  port: { env: 'FLOWSCALE_PORT', flag: '--port' },
  comfyui: { env: 'FLOWSCALE_COMFYUI_URLS', flag: '--comfyui-url' },
  publicUrl: { env: 'FLOWSCALE_PUBLIC_URL', flag: '--public-url' },
  maxFileBytes: { env: 'FLOWSCALE_MAX_FILE_BYTES' },
  ttl: { env: 'FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS' },
  maxQueued: { env: 'FLOWSCALE_MAX_QUEUED_RUNS' },
  urlTimeout: { env: 'FLOWSCALE_URL_FETCH_TIMEOUT_MS' },
  retention: { env: 'FLOWSCALE_RETENTION_DAYS' },
  pool: { env: 'FLOWSCALE_DATABASE_POOL_SIZE', flag: '--database-pool-size' },
  lease: { env: 'FLOWSCALE_LEASE_TTL_MS' },
  perBackend: { env: 'FLOWSCALE_MAX_RUNS_PER_BACKEND' },
  queueTimeout: { env: 'FLOWSCALE_QUEUE_TIMEOUT' },
  partitionDeadline: { env: 'FLOWSCALE_PARTITION_DEADLINE' },
  heartbeat: { env: 'FLOWSCALE_BACKEND_HEARTBEAT_MS' },
  inventoryRefresh: { env: 'FLOWSCALE_INVENTORY_REFRESH_MS' },
  placement: { env: 'FLOWSCALE_PLACEMENT' },
  affinityWait: { env: 'FLOWSCALE_AFFINITY_WAIT_MS' },
  webhookTimeout: { env: 'FLOWSCALE_WEBHOOK_TIMEOUT_MS' },
  webhookDisableAfter: { env: 'FLOWSCALE_WEBHOOK_DISABLE_AFTER_MS' },
  webhookPoll: { env: 'FLOWSCALE_WEBHOOK_POLL_MS' },
} satisfies Record<string, Setting>;

/** Options accepted by `startServer` (see docs/architecture.md). Extra tuning knobs are optional. */
export interface ServerOptions {
  host?: string;
  port?: number;
  dataDir?: string;
  /** Plaintext keys to accept (admin role), like FLOWSCALE_API_KEY. */
  apiKeys?: string[];
  /** ComfyUI-protocol backends; empty or undefined starts the embedded engine. */
  comfyuiUrls?: string[];
  workflowsDir?: string;
  /** The built dashboard served at `/dashboard/` (default: the one `packages/dashboard` builds). */
  dashboardDir?: string;
  publicUrl?: string;
  logLevel?: string;
  /** Largest accepted uploaded file, in bytes. */
  maxFileBytes?: number;
  /** Lifetime of signed download URLs, in seconds. */
  downloadUrlTtlSeconds?: number;
  /** Interval between SSE keep-alive comments, in ms. */
  ssePingMs?: number;
  /** How often in-flight prompts are reconciled with their backend's /queue and /history, in ms. */
  reconcileIntervalMs?: number;
  /** Per-API-key request rate, `"600/min"`, `"10/s"`, `"5000/hour"`; `0` turns it off. */
  rateLimit?: string | number;
  /** Runs allowed to wait in the queue before submissions get 429; `0` turns the cap off. */
  maxQueuedRuns?: number;
  /** Lets URL inputs reach loopback/private/link-local addresses (development and tests only). */
  allowPrivateUrls?: boolean;
  /** URL inputs: longest wait to connect, for headers, or between body chunks, in ms. */
  urlFetchTimeoutMs?: number;
  /** URL inputs: longest a whole fetch (redirects and body) may take, in ms. */
  urlFetchTotalTimeoutMs?: number;
  /** Stored input and output files older than this many days are deleted; 0 (the default) keeps them. */
  retentionDays?: number;
  /** How often the retention sweep runs, in ms. */
  retentionSweepIntervalMs?: number;
  /** On shutdown, how long in-flight requests may take before their connections are closed, in ms. */
  shutdownGraceMs?: number;
  /**
   * `postgres://user:password@host:5432/db` stores everything in Postgres (like FLOWSCALE_DATABASE_URL);
   * unset, SQLite in the data dir.
   */
  databaseUrl?: string;
  /** Postgres connections per process (FLOWSCALE_DATABASE_POOL_SIZE, default 10). */
  databasePoolSize?: number;
  /** S3-compatible storage for input and output files; each field falls back to its FLOWSCALE_S3_* variable. */
  s3?: S3Options;
  /** With several replicas on Postgres: a dead replica's backends are taken over after this long, in ms. */
  leaseTtlMs?: number;
  /** With several replicas: unfinished runs placed on one backend; the rest wait in the shared queue. */
  maxRunsPerBackend?: number;
  /** A bearer token that may scrape /metrics besides admin keys (FLOWSCALE_METRICS_TOKEN). */
  metricsToken?: string;
  /** PEM file of CA certificates to trust for `https://` backends (FLOWSCALE_COMFYUI_CA_FILE). */
  comfyuiCaFile?: string;
  /** Skips certificate verification of `https://` backends; off by default (FLOWSCALE_COMFYUI_TLS_INSECURE). */
  comfyuiTlsInsecure?: boolean;
  /** How often each backend's inventory (nodes, models, devices) is read again, in ms. */
  inventoryRefreshMs?: number;
  /** At start, how long to wait for the backends' inventory before deploying the workflows folder, in ms. */
  inventoryStartupWaitMs?: number;
  /** A run that no backend can take fails after waiting this long in the queue, in ms; 0 waits forever. */
  queueTimeoutMs?: number;
  /**
   * How long runs on a backend that is out of reach but not refusing connections (a network partition)
   * wait for it before queued ones move and running ones fail, in ms (FLOWSCALE_PARTITION_DEADLINE).
   */
  partitionDeadlineMs?: number;
  /** Ping interval on each backend WebSocket; a missed pong drops it, in ms; 0 turns pings off. */
  backendHeartbeatMs?: number;
  /** How a run's backend is chosen among those able to run it (FLOWSCALE_PLACEMENT, default model-affinity). */
  placement?: PlacementPolicy;
  /** model-affinity: longest wait for a busy warm backend while a cold one is idle, in ms (default 1500). */
  affinityWaitMs?: number;
  /** Webhook retry schedule: the delay before each attempt, in ms (FLOWSCALE_WEBHOOK_SCHEDULE). */
  webhookScheduleMs?: number[];
  /** Longest one webhook attempt may take, in ms. */
  webhookTimeoutMs?: number;
  /** An endpoint failing without a success for this long is disabled, in ms (default 5 days). */
  webhookDisableAfterMs?: number;
  /** How often each process looks for due deliveries it was not woken for, in ms. */
  webhookPollIntervalMs?: number;
}

export type S3Downloads = 'presigned' | 'proxy';

export interface S3Options {
  /** Turns S3 on (FLOWSCALE_S3_BUCKET). */
  bucket?: string;
  /** For MinIO, R2, s3rver, …; empty means AWS (FLOWSCALE_S3_ENDPOINT). */
  endpoint?: string;
  region?: string;
  /** Both or neither; without them the AWS default credential chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path instead of the host name: MinIO and s3rver need it. */
  forcePathStyle?: boolean;
  /** Prepended to every object key (`<prefix>inputs/…`, `<prefix>outputs/…`). */
  prefix?: string;
  /** `presigned`: download URLs point at S3; `proxy` (default): at this server, which streams from S3. */
  downloads?: S3Downloads;
}

export interface S3Config {
  bucket: string;
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  /** Empty, or ending in `/`. */
  prefix: string;
  downloads: S3Downloads;
}

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  apiKeys: string[];
  comfyuiUrls: string[];
  workflowsDir: string;
  dashboardDir: string;
  publicUrl: string | undefined;
  logLevel: string;
  maxFileBytes: number;
  maxFieldBytes: number;
  maxParts: number;
  maxJsonBodyBytes: number;
  downloadUrlTtlSeconds: number;
  ssePingMs: number;
  reconcileIntervalMs: number;
  rateLimit: RateLimit | null;
  maxQueuedRuns: number;
  allowPrivateUrls: boolean;
  urlFetchTimeoutMs: number;
  urlFetchTotalTimeoutMs: number;
  retentionDays: number;
  retentionSweepIntervalMs: number;
  shutdownGraceMs: number;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  leaseTtlMs: number;
  maxRunsPerBackend: number;
  /** Unset: only admin keys may scrape /metrics. */
  metricsToken: string | undefined;
  comfyuiCaFile: string | undefined;
  comfyuiTlsInsecure: boolean;
  inventoryRefreshMs: number;
  inventoryStartupWaitMs: number;
  queueTimeoutMs: number;
  partitionDeadlineMs: number;
  backendHeartbeatMs: number;
  placement: PlacementPolicy;
  affinityWaitMs: number;
  webhookScheduleMs: number[];
  webhookTimeoutMs: number;
  webhookDisableAfterMs: number;
  webhookPollIntervalMs: number;
  /** Null: files stay in the data dir. */
  s3: S3Config | null;
}

const GiB = 1024 * 1024 * 1024;
/** Generous: only a runaway client notices (about 100 requests a second, sustained). */
const DEFAULT_RATE_LIMIT = '6000/min';
const DEFAULT_MAX_QUEUED_RUNS = 10_000;
const DEFAULT_DATABASE_POOL_SIZE = 10;

/** The shipped examples: beside `src/` in the repo, beside `dist/` once built. */
export const shippedWorkflowsDir = (): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../workflows'), path.resolve(here, '../workflows')];
  return candidates.find((dir) => fs.existsSync(dir)) ?? (candidates[0] as string);
};

/** The dashboard that `packages/dashboard` builds into this package (beside `src/`, and so beside `dist/`). */
export const shippedDashboardDir = (): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../dashboard'), path.resolve(here, '../dashboard')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? (candidates[0] as string);
};

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** Options win over environment variables, which win over defaults. */
export function resolveConfig(
  options: ServerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const envKeys = splitList(env.FLOWSCALE_API_KEY);
  const config: ServerConfig = {
    host: options.host ?? env.FLOWSCALE_HOST ?? '127.0.0.1',
    port: port(S.port, readNumber(S.port, options.port, env.FLOWSCALE_PORT) ?? 8787),
    dataDir: path.resolve(options.dataDir ?? env.FLOWSCALE_DATA_DIR ?? './.data'),
    apiKeys: options.apiKeys ?? envKeys,
    comfyuiUrls: (options.comfyuiUrls ?? splitList(env.FLOWSCALE_COMFYUI_URLS)).map((url) =>
      httpUrl(S.comfyui, url, 'http://127.0.0.1:8188'),
    ),
    workflowsDir: path.resolve(options.workflowsDir ?? env.FLOWSCALE_WORKFLOWS_DIR ?? shippedWorkflowsDir()),
    dashboardDir: path.resolve(options.dashboardDir ?? env.FLOWSCALE_DASHBOARD_DIR ?? shippedDashboardDir()),
    publicUrl: optionalUrl(S.publicUrl, options.publicUrl ?? env.FLOWSCALE_PUBLIC_URL),
    logLevel: options.logLevel ?? env.FLOWSCALE_LOG_LEVEL ?? 'info',
    maxFileBytes: positiveInteger(
      S.maxFileBytes,
      'largest file',
      readNumber(S.maxFileBytes, options.maxFileBytes, env.FLOWSCALE_MAX_FILE_BYTES) ?? 2 * GiB,
    ),
    maxFieldBytes: 1024 * 1024,
    maxParts: 100,
    maxJsonBodyBytes: 8 * 1024 * 1024,
    downloadUrlTtlSeconds:
      readNumber(S.ttl, options.downloadUrlTtlSeconds, env.FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS) ?? 3600,
    ssePingMs: options.ssePingMs ?? 15_000,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 1000,
    rateLimit: parseRateLimit(options.rateLimit ?? (env.FLOWSCALE_RATE_LIMIT?.trim() || DEFAULT_RATE_LIMIT)),
    maxQueuedRuns: nonNegativeInteger(
      S.maxQueued,
      'max queued runs',
      readNumber(S.maxQueued, options.maxQueuedRuns, env.FLOWSCALE_MAX_QUEUED_RUNS) ??
        DEFAULT_MAX_QUEUED_RUNS,
    ),
    allowPrivateUrls:
      options.allowPrivateUrls ?? env.FLOWSCALE_ALLOW_PRIVATE_URLS?.trim().toLowerCase() === 'true',
    urlFetchTimeoutMs:
      readNumber(S.urlTimeout, options.urlFetchTimeoutMs, env.FLOWSCALE_URL_FETCH_TIMEOUT_MS) ?? 30_000,
    urlFetchTotalTimeoutMs: options.urlFetchTotalTimeoutMs ?? 15 * 60_000,
    retentionDays: nonNegativeNumber(
      S.retention,
      'retention days',
      readNumber(S.retention, options.retentionDays, env.FLOWSCALE_RETENTION_DAYS) ?? 0,
    ),
    retentionSweepIntervalMs: options.retentionSweepIntervalMs ?? 60 * 60_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
    databaseUrl: (options.databaseUrl ?? env.FLOWSCALE_DATABASE_URL)?.trim() || undefined,
    databasePoolSize: positiveInteger(
      S.pool,
      'database pool size',
      readNumber(S.pool, options.databasePoolSize, env.FLOWSCALE_DATABASE_POOL_SIZE) ??
        DEFAULT_DATABASE_POOL_SIZE,
    ),
    s3: resolveS3(options.s3 ?? {}, env),
    leaseTtlMs: positiveInteger(
      S.lease,
      'lease TTL',
      readNumber(S.lease, options.leaseTtlMs, env.FLOWSCALE_LEASE_TTL_MS) ?? 10_000,
    ),
    maxRunsPerBackend: positiveInteger(
      S.perBackend,
      'runs per backend',
      readNumber(S.perBackend, options.maxRunsPerBackend, env.FLOWSCALE_MAX_RUNS_PER_BACKEND) ?? 64,
    ),
    metricsToken: blankToUndefined(options.metricsToken ?? env.FLOWSCALE_METRICS_TOKEN),
    comfyuiCaFile: blankToUndefined(options.comfyuiCaFile ?? env.FLOWSCALE_COMFYUI_CA_FILE),
    comfyuiTlsInsecure:
      options.comfyuiTlsInsecure ?? env.FLOWSCALE_COMFYUI_TLS_INSECURE?.trim().toLowerCase() === 'true',
    inventoryRefreshMs: positiveInteger(
      S.inventoryRefresh,
      'inventory refresh interval',
      readNumber(S.inventoryRefresh, options.inventoryRefreshMs, env.FLOWSCALE_INVENTORY_REFRESH_MS) ??
        60_000,
    ),
    inventoryStartupWaitMs: options.inventoryStartupWaitMs ?? 5000,
    queueTimeoutMs: duration(
      S.queueTimeout,
      'queue timeout',
      options.queueTimeoutMs,
      env.FLOWSCALE_QUEUE_TIMEOUT,
      0,
    ),
    partitionDeadlineMs: duration(
      S.partitionDeadline,
      'partition deadline',
      options.partitionDeadlineMs,
      env.FLOWSCALE_PARTITION_DEADLINE,
      60_000,
    ),
    backendHeartbeatMs: nonNegativeInteger(
      S.heartbeat,
      'backend heartbeat',
      readNumber(S.heartbeat, options.backendHeartbeatMs, env.FLOWSCALE_BACKEND_HEARTBEAT_MS) ?? 10_000,
    ),
    placement: placementPolicy(options.placement ?? env.FLOWSCALE_PLACEMENT),
    affinityWaitMs: nonNegativeInteger(
      S.affinityWait,
      'affinity wait',
      readNumber(S.affinityWait, options.affinityWaitMs, env.FLOWSCALE_AFFINITY_WAIT_MS) ?? 1500,
    ),
    webhookScheduleMs: options.webhookScheduleMs ?? parseSchedule(env.FLOWSCALE_WEBHOOK_SCHEDULE),
    webhookTimeoutMs: positiveInteger(
      S.webhookTimeout,
      'webhook timeout',
      readNumber(S.webhookTimeout, options.webhookTimeoutMs, env.FLOWSCALE_WEBHOOK_TIMEOUT_MS) ?? 15_000,
    ),
    webhookDisableAfterMs: positiveInteger(
      S.webhookDisableAfter,
      'webhook disable-after',
      readNumber(
        S.webhookDisableAfter,
        options.webhookDisableAfterMs,
        env.FLOWSCALE_WEBHOOK_DISABLE_AFTER_MS,
      ) ?? 5 * DAY_MS,
    ),
    webhookPollIntervalMs: positiveInteger(
      S.webhookPoll,
      'webhook poll interval',
      readNumber(S.webhookPoll, options.webhookPollIntervalMs, env.FLOWSCALE_WEBHOOK_POLL_MS) ?? 1000,
    ),
  };
  // SigV4 presigned URLs live at most a week.
  if (config.s3?.downloads === 'presigned' && config.downloadUrlTtlSeconds > MAX_PRESIGN_SECONDS) {
    throw new StartupError(
      `FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS is at most ${MAX_PRESIGN_SECONDS} (7 days) with FLOWSCALE_S3_DOWNLOADS=presigned`,
    );
  }
  return config;
}

const optionalUrl = (setting: Setting, value: string | undefined): string | undefined =>
  value?.trim() ? httpUrl(setting, value.trim(), 'https://flowscale.example.com') : undefined;

/** Seconds (`300`), or with a unit: `500ms`, `90s`, `15m`, `1h`; options are in ms. */
function duration(
  setting: Setting,
  what: string,
  option: number | undefined,
  raw: string | undefined,
  fallbackMs: number,
): number {
  if (option !== undefined) return nonNegativeNumber(setting, what, option);
  if (raw === undefined || raw.trim() === '') return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw.trim());
  if (!match) throw invalidSetting(setting, raw, 'expected seconds, or a number with ms, s, m or h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's').toLowerCase() as 'ms'];
  return Math.round(Number(match[1]) * unit);
}

/** Default model-affinity: a model load costs seconds to minutes, far more than its bounded wait. */
function placementPolicy(value: string | undefined): PlacementPolicy {
  const policy = value?.trim() || 'model-affinity';
  if (!(PLACEMENT_POLICIES as readonly string[]).includes(policy))
    throw invalidSetting(S.placement, value, `expected ${PLACEMENT_POLICIES.join(' or ')}`);
  return policy as PlacementPolicy;
}

const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The Standard Webhooks schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_WEBHOOK_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,14h,20h,24h';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** `"0,5s,5m,2h"`: comma-separated delays, each a number with an optional unit (ms, s, m, h, d; default ms). */
export function parseSchedule(text: string | undefined): number[] {
  const value = text?.trim() || DEFAULT_WEBHOOK_SCHEDULE;
  const delays = value.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(part);
    if (!match) throw new StartupError(`FLOWSCALE_WEBHOOK_SCHEDULE: not a delay: ${JSON.stringify(part)}`);
    return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] as number));
  });
  if (delays.length === 0 || delays.length > 50)
    throw new StartupError('FLOWSCALE_WEBHOOK_SCHEDULE: give 1 to 50 delays');
  return delays;
}

const blankToUndefined = (value: string | undefined): string | undefined => value?.trim() || undefined;

function resolveS3(options: S3Options, env: NodeJS.ProcessEnv): S3Config | null {
  const bucket = blankToUndefined(options.bucket ?? env.FLOWSCALE_S3_BUCKET);
  if (!bucket) return null;
  const endpoint = blankToUndefined(options.endpoint ?? env.FLOWSCALE_S3_ENDPOINT)?.replace(/\/+$/, '');
  if (endpoint && !/^https?:\/\/[^/]/i.test(endpoint)) {
    throw new StartupError(`FLOWSCALE_S3_ENDPOINT must be an http(s) URL, not ${JSON.stringify(endpoint)}`);
  }
  const accessKeyId = blankToUndefined(options.accessKeyId ?? env.FLOWSCALE_S3_ACCESS_KEY_ID);
  const secretAccessKey = blankToUndefined(options.secretAccessKey ?? env.FLOWSCALE_S3_SECRET_ACCESS_KEY);
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new StartupError(
      'Set both FLOWSCALE_S3_ACCESS_KEY_ID and FLOWSCALE_S3_SECRET_ACCESS_KEY, or neither (AWS credential chain)',
    );
  }
  const downloads = options.downloads ?? (blankToUndefined(env.FLOWSCALE_S3_DOWNLOADS) || 'proxy');
  if (downloads !== 'presigned' && downloads !== 'proxy') {
    throw new StartupError(
      `FLOWSCALE_S3_DOWNLOADS must be "presigned" or "proxy", not ${JSON.stringify(downloads)}`,
    );
  }
  const prefix = (options.prefix ?? env.FLOWSCALE_S3_PREFIX ?? '').trim().replace(/^\/+/, '');
  return {
    bucket,
    endpoint,
    region: blankToUndefined(options.region ?? env.FLOWSCALE_S3_REGION) ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    forcePathStyle:
      options.forcePathStyle ?? env.FLOWSCALE_S3_FORCE_PATH_STYLE?.trim().toLowerCase() === 'true',
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    downloads,
  };
}
