import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRateLimit, type RateLimit } from '../limits/rate-limit';

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
}

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  apiKeys: string[];
  comfyuiUrls: string[];
  workflowsDir: string;
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
}

const GiB = 1024 * 1024 * 1024;
/** Generous: only a runaway client notices (about 100 requests a second, sustained). */
const DEFAULT_RATE_LIMIT = '6000/min';
const DEFAULT_MAX_QUEUED_RUNS = 10_000;

/** The shipped examples: beside `src/` in the repo, beside `dist/` once built. */
export const shippedWorkflowsDir = (): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../workflows'), path.resolve(here, '../workflows')];
  return candidates.find((dir) => fs.existsSync(dir)) ?? (candidates[0] as string);
};

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const intFromEnv = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`Not a number: ${value}`);
  return parsed;
};

const nonNegativeInteger = (what: string, value: number): number => {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Invalid ${what}: ${value}`);
  return value;
};

const nonNegativeNumber = (what: string, value: number): number => {
  if (!Number.isFinite(value) || value < 0) throw new Error(`Invalid ${what}: ${value}`);
  return value;
};

/** Options win over environment variables, which win over defaults. */
export function resolveConfig(
  options: ServerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const envKeys = splitList(env.FLOWSCALE_API_KEY);
  return {
    host: options.host ?? env.FLOWSCALE_HOST ?? '127.0.0.1',
    port: options.port ?? intFromEnv(env.FLOWSCALE_PORT) ?? 8787,
    dataDir: path.resolve(options.dataDir ?? env.FLOWSCALE_DATA_DIR ?? './.data'),
    apiKeys: options.apiKeys ?? envKeys,
    comfyuiUrls: (options.comfyuiUrls ?? splitList(env.FLOWSCALE_COMFYUI_URLS)).map((url) =>
      url.replace(/\/+$/, ''),
    ),
    workflowsDir: path.resolve(options.workflowsDir ?? env.FLOWSCALE_WORKFLOWS_DIR ?? shippedWorkflowsDir()),
    publicUrl: (options.publicUrl ?? env.FLOWSCALE_PUBLIC_URL)?.replace(/\/+$/, ''),
    logLevel: options.logLevel ?? env.FLOWSCALE_LOG_LEVEL ?? 'info',
    maxFileBytes: options.maxFileBytes ?? intFromEnv(env.FLOWSCALE_MAX_FILE_BYTES) ?? 2 * GiB,
    maxFieldBytes: 1024 * 1024,
    maxParts: 100,
    maxJsonBodyBytes: 8 * 1024 * 1024,
    downloadUrlTtlSeconds:
      options.downloadUrlTtlSeconds ?? intFromEnv(env.FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS) ?? 3600,
    ssePingMs: options.ssePingMs ?? 15_000,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 1000,
    rateLimit: parseRateLimit(options.rateLimit ?? (env.FLOWSCALE_RATE_LIMIT?.trim() || DEFAULT_RATE_LIMIT)),
    maxQueuedRuns: nonNegativeInteger(
      'max queued runs',
      options.maxQueuedRuns ?? intFromEnv(env.FLOWSCALE_MAX_QUEUED_RUNS) ?? DEFAULT_MAX_QUEUED_RUNS,
    ),
    allowPrivateUrls:
      options.allowPrivateUrls ?? env.FLOWSCALE_ALLOW_PRIVATE_URLS?.trim().toLowerCase() === 'true',
    urlFetchTimeoutMs: options.urlFetchTimeoutMs ?? intFromEnv(env.FLOWSCALE_URL_FETCH_TIMEOUT_MS) ?? 30_000,
    urlFetchTotalTimeoutMs: options.urlFetchTotalTimeoutMs ?? 15 * 60_000,
    retentionDays: nonNegativeNumber(
      'retention days',
      options.retentionDays ?? intFromEnv(env.FLOWSCALE_RETENTION_DAYS) ?? 0,
    ),
    retentionSweepIntervalMs: options.retentionSweepIntervalMs ?? 60 * 60_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
  };
}
