import type { Kysely } from 'kysely';
import type { Database } from '../schema';
import type { WebhookStore } from '../stores';
import type { WebhookEndpointRecord } from '../webhook-records';
import { toEndpoint } from '../webhook-rows';

/** Beyond this many enabled endpoints, they are read per event as before rather than held in memory. */
const MAX_CACHED = 10_000;

/**
 * Methods known to leave endpoints as they are. Any other method may change them (an endpoint method, or
 * one this list does not know yet) and drops the cache, so a new method is safe before it is listed here.
 */
// `finishAttempts` is not one: a 410 or five days of failures disable the endpoint.
const KEEPS_ENDPOINTS = new Set<string | symbol>([
  'getEndpoint',
  'listEndpoints',
  'getSigningSecrets',
  'initSigningSecrets',
  'setSigningSecrets',
  'insertDeliveries',
  'outboxEvents',
  'dropOrphanedOutbox',
  'claimDue',
  'extendClaims',
  'expireClaims',
  'failPending',
  'getDelivery',
  'listDeliveries',
  'listAttempts',
  'redeliver',
  'nextDueAt',
]);

interface Enabled {
  /** Enabled project subscriptions (no run), by project. */
  byProject: Map<string, WebhookEndpointRecord[]>;
  /** Enabled endpoints of one run, by run. */
  byRun: Map<string, WebhookEndpointRecord[]>;
}

/**
 * The webhook store of a sole writer (SQLite: one process), answering `enabledEndpointsFor`, asked at every
 * webhook event of every run, from memory. Every change of an endpoint goes through this store, so the
 * cache is kept exact: a new endpoint is added to it, a deleted one removed, any other change reloads it.
 */
export function cachingEndpoints(store: WebhookStore, db: Kysely<Database>): WebhookStore {
  let enabled: Enabled | undefined;
  /** Bumped by every change: a load that overlapped one may have read before it, and is not kept. */
  let generation = 0;
  const changed = () => {
    generation++;
    enabled = undefined;
  };

  const load = async (): Promise<Enabled | undefined> => {
    const started = generation;
    const rows = await db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('disabled_at', 'is', null)
      .limit(MAX_CACHED + 1)
      .execute();
    if (rows.length > MAX_CACHED) return undefined;
    const loaded: Enabled = { byProject: new Map(), byRun: new Map() };
    for (const row of rows) add(loaded, toEndpoint(row));
    if (started === generation) enabled = loaded;
    return loaded;
  };

  const enabledEndpointsFor = async (projectId: string, runId: string) => {
    const current = enabled ?? (await load());
    if (!current) return store.enabledEndpointsFor(projectId, runId);
    return [...(current.byProject.get(projectId) ?? []), ...(current.byRun.get(runId) ?? [])];
  };

  /** Runs an endpoint change; on success `apply` updates the cache in place if it is still the one before. */
  const change = async <T>(write: () => Promise<T>, apply: (cache: Enabled, result: T) => void) => {
    const before = enabled;
    generation++;
    let result: T | undefined;
    let done = false;
    try {
      result = await write();
      done = true;
      return result;
    } finally {
      if (done && before && before === enabled) apply(before, result as T);
      else changed();
    }
  };
  const insertEndpoint = (record: WebhookEndpointRecord) =>
    change(
      () => store.insertEndpoint(record),
      (cache) => {
        if (record.disabledAt === null) add(cache, { ...record });
      },
    );
  const deleteEndpoint = (id: string) =>
    change(
      () => store.deleteEndpoint(id),
      (cache) => remove(cache, id),
    );

  return new Proxy(store, {
    get(target, key) {
      if (key === 'enabledEndpointsFor') return enabledEndpointsFor;
      if (key === 'insertEndpoint') return insertEndpoint;
      if (key === 'deleteEndpoint') return deleteEndpoint;
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (KEEPS_ENDPOINTS.has(key)) return value.bind(target);
      return async (...args: unknown[]) => {
        changed();
        try {
          return await value.apply(target, args);
        } finally {
          changed();
        }
      };
    },
  });
}

function add(enabled: Enabled, record: WebhookEndpointRecord): void {
  const [map, key] =
    record.runId === null ? [enabled.byProject, record.projectId] : [enabled.byRun, record.runId];
  const list = map.get(key);
  if (list) list.push(record);
  else map.set(key, [record]);
}

function remove(enabled: Enabled, id: string): void {
  for (const map of [enabled.byProject, enabled.byRun]) {
    for (const [key, list] of map) {
      const kept = list.filter((record) => record.id !== id);
      if (kept.length === list.length) continue;
      if (kept.length === 0) map.delete(key);
      else map.set(key, kept);
    }
  }
}
