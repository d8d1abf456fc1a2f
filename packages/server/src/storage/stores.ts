import type {
  ApiKeyRecord,
  AuditEntry,
  AuditQuery,
  FirstEvent,
  IdempotencyClaim,
  InsertRunResult,
  OutputRecord,
  ProjectLoad,
  ProjectRecord,
  Run,
  RunAdmission,
  RunEvent,
  RunListQuery,
  RunPatch,
  StoredFileRef,
  UsageRow,
  WorkflowRecord,
} from './records';
import type {
  AttemptToRecord,
  ClaimedDelivery,
  OutboxKey,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookSecret,
} from './webhook-records';

/**
 * The record stores, one per concern. SQLite (the embedded default) and Postgres both implement every one,
 * over one connection (pool) per process. Files themselves live in blob stores (`src/blobs/`), never here.
 */

/** Runs a statement on one connection (inside a store's transaction); pg-boss calls this `db`. */
export interface SqlExecutor {
  executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface RunStore {
  /**
   * Inserts the run, its expected output placeholders, its idempotency claim and its first event (seq 1)
   * atomically. With a claim whose key was used before, returns the earlier run (same request) or a
   * conflict (different request) instead, across every replica sharing the database. `alsoInTransaction`
   * runs in the same transaction when the run is created (Postgres: its queue job, so a run is never
   * stored without one); a single-process store may run it right after. `admission` is checked against
   * the project's load and its usage added in the same transaction (see RunAdmission).
   */
  insert(
    run: Run,
    firstEvent: FirstEvent,
    claim?: IdempotencyClaim,
    alsoInTransaction?: (db: SqlExecutor) => Promise<void>,
    admission?: RunAdmission,
  ): Promise<InsertRunResult>;
  get(id: string): Promise<Run | undefined>;
  list(query: RunListQuery): Promise<{ runs: Run[]; total: number }>;
  /** Queued and running runs, oldest first; only those placed on these backends when `backendIds` is given. */
  listUnfinished(backendIds?: readonly string[]): Promise<Run[]>;
  update(id: string, patch: RunPatch): Promise<void>;
  /**
   * Places an unfinished run that is on no backend (never placed, or taken off one to be placed again):
   * sets backend_id only if it still has none and has not ended (a fenced write, atomic across
   * replicas). False when it was cancelled or placed meanwhile.
   */
  claim(id: string, backendId: string): Promise<boolean>;
  countByStatus(): Promise<Record<string, number>>;
  /** Ended runs created since `since` (ISO) whose end is not in usage yet (`usage_runs`), oldest first. */
  listEndedUncounted(since: string, limit: number): Promise<Run[]>;
  /** A project's unfinished runs, the runs it created since `dayStart` (ISO) and its bytes in on `day`. */
  projectLoad(projectId: string, dayStart: string, day: string): Promise<ProjectLoad>;
}

export interface EventStore {
  /** Appends the next event (seq = last + 1) and applies the patch to its run, atomically. */
  append(runId: string, type: string, data: Record<string, unknown>, patch: RunPatch): Promise<RunEvent>;
  /** Events with seq ≥ fromSeq, in seq order. */
  list(runId: string, fromSeq: number): Promise<RunEvent[]>;
}

export interface OutputRecordStore {
  save(record: OutputRecord): Promise<void>;
  /** By stored filename, or by bare output name (its first ready file, else the pending placeholder). */
  find(filenameOrName: string): Promise<OutputRecord | undefined>;
  /** Ready output files of finished runs, recorded before `cutoff` (ISO time), oldest first. */
  listExpired(cutoff: string, limit: number): Promise<OutputRecord[]>;
  /** Forgets these output files and the still-pending placeholders of their runs. */
  delete(outputs: OutputRecord[]): Promise<void>;
}

export interface WorkflowStore {
  upsert(record: WorkflowRecord): Promise<WorkflowRecord>;
  get(id: string): Promise<WorkflowRecord | undefined>;
  getByName(name: string): Promise<WorkflowRecord | undefined>;
  list(): Promise<WorkflowRecord[]>;
  delete(id: string): Promise<boolean>;
}

export interface KeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(id: string, at: string): Promise<boolean>;
  revokeConfigKeysExcept(keepHashes: string[], at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
  countUsable(): Promise<number>;
}

export interface ProjectStore {
  /** False when a project with this id or name exists already. */
  insert(record: ProjectRecord): Promise<boolean>;
  list(): Promise<ProjectRecord[]>;
  /** By id, else by name. */
  find(idOrName: string): Promise<ProjectRecord | undefined>;
  setLimits(id: string, limits: Record<string, number> | null): Promise<boolean>;
}

export interface AuditStore {
  insert(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

export interface UsageStore {
  /** Adds each amount to its (project, day, metric) counter, creating it at 0 first. */
  add(projectId: string, day: string, amounts: Record<string, number>): Promise<void>;
  /**
   * Adds the amounts once per run, however often it is called, on any replica: false when this run's
   * amounts were added before.
   */
  addOnce(runId: string, projectId: string, day: string, amounts: Record<string, number>): Promise<boolean>;
  /** The counters of these days (inclusive, `YYYY-MM-DD`), of one project or of all. */
  list(from: string, to: string, projectId?: string): Promise<UsageRow[]>;
}

export interface IdempotencyStore {
  /** The run an idempotency key was first used for, if any. */
  find(scope: string, key: string): Promise<{ requestHash: string; runId: string } | undefined>;
  /** Forgets keys first used before `cutoff` (ISO time); returns how many. */
  deleteOlderThan(cutoff: string): Promise<number>;
}

export interface InputFileRecordStore {
  record(file: StoredFileRef): Promise<void>;
  delete(sha256: string): Promise<void>;
}

export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  /** Stores the value unless the key has one; returns the value that is stored (first writer wins). */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export interface WebhookStore {
  insertEndpoint(record: WebhookEndpointRecord): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpointRecord | undefined>;
  /** A project's subscriptions (no per-run endpoints), or the endpoint of one run. */
  listEndpoints(filter: { projectId?: string; runId?: string }): Promise<WebhookEndpointRecord[]>;
  /** The enabled subscriptions of the project and the run's own endpoint, whatever their event filters. */
  enabledEndpointsFor(projectId: string, runId: string): Promise<WebhookEndpointRecord[]>;
  updateEndpoint(id: string, patch: WebhookEndpointPatch, at: string): Promise<boolean>;
  /** Forgets the endpoint with its deliveries and their attempts. */
  deleteEndpoint(id: string): Promise<boolean>;
  getSigningSecrets(projectId: string): Promise<WebhookSecret[] | undefined>;
  /** Stores the project's run-webhook secrets unless it has some; returns those stored (first writer wins). */
  initSigningSecrets(projectId: string, secrets: WebhookSecret[], at: string): Promise<WebhookSecret[]>;
  setSigningSecrets(projectId: string, secrets: WebhookSecret[], at: string): Promise<void>;
  /**
   * Stores deliveries (ids already stored are skipped), and with `done` takes that event's outbox row, in
   * one transaction.
   */
  insertDeliveries(records: WebhookDeliveryRecord[], done?: OutboxKey): Promise<void>;
  /** The run events of outbox rows written before `before`, oldest first: their deliveries may be missing. */
  outboxEvents(before: string, limit: number): Promise<RunEvent[]>;
  /** Forgets outbox rows written before `before` whose event no longer exists. */
  dropOrphanedOutbox(before: string): Promise<void>;
  /**
   * Claims up to `limit` pending deliveries due at `now`, counting their next attempt, until `leaseUntil`.
   * Atomic across processes (Postgres: SKIP LOCKED): a delivery is claimed by one holder at a time, and a
   * holder that died is replaced once its lease has passed.
   */
  claimDue(now: string, limit: number, leaseUntil: string, token: string): Promise<ClaimedDelivery[]>;
  /** Extends these claims to `until`, each while its token still holds it. */
  extendClaims(claims: Array<{ id: string; token: string }>, until: string): Promise<void>;
  /** Lets every claim lapse at `at` (a sole writer at start: the claims are its dead predecessor's). */
  expireClaims(at: string): Promise<number>;
  /**
   * Records attempts, outcomes and endpoints' failure streaks in one transaction, each attempt only while its
   * token still holds the claim.
   */
  finishAttempts(batch: AttemptToRecord[], at: string): Promise<boolean[]>;
  /** Gives up the endpoint's pending deliveries (it was disabled). */
  failPending(endpointId: string, reason: string, at: string): Promise<number>;
  getDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** The endpoint's newest deliveries first. */
  listDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
  listAttempts(deliveryIds: string[]): Promise<WebhookAttemptRecord[]>;
  /** Makes the delivery pending again, due at `at`, from the start of the schedule. */
  redeliver(id: string, at: string): Promise<boolean>;
  /** The earliest time a pending delivery is due, if any. */
  nextDueAt(): Promise<string | undefined>;
}

/** Every record store of one database, sharing its connection. */
export interface Stores {
  readonly kind: 'sqlite' | 'postgres';
  runs: RunStore;
  events: EventStore;
  outputs: OutputRecordStore;
  workflows: WorkflowStore;
  keys: KeyStore;
  idempotency: IdempotencyStore;
  inputFiles: InputFileRecordStore;
  settings: SettingsStore;
  webhooks: WebhookStore;
  projects: ProjectStore;
  audit: AuditStore;
  usage: UsageStore;
  /** Resolves when the database answers a trivial query; rejects with the reason otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
