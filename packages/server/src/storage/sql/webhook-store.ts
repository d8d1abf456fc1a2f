import type { Kysely } from 'kysely';
import type { RunEvent } from '../records';
import type { Database } from '../schema';
import type { WebhookStore } from '../stores';
import type {
  AttemptToRecord,
  ClaimedDelivery,
  OutboxKey,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookSecret,
} from '../webhook-records';
import {
  secretsFromJson,
  secretsToJson,
  toAttempt,
  toDelivery,
  toEndpoint,
  toEndpointPatchRow,
  toEndpointRow,
} from '../webhook-rows';
import { SqlWebhookQueue } from './webhook-queue';

/** Webhook endpoints, their secrets and delivery logs; the queue itself is SqlWebhookQueue's. */
export class SqlWebhookStore implements WebhookStore {
  readonly #db: Kysely<Database>;
  readonly #queue: SqlWebhookQueue;

  constructor(db: Kysely<Database>, kind: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#queue = new SqlWebhookQueue(db, kind);
  }

  async insertEndpoint(record: WebhookEndpointRecord): Promise<void> {
    await this.#db.insertInto('webhook_endpoints').values(toEndpointRow(record)).execute();
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
    const row = await this.#db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toEndpoint(row) : undefined;
  }

  async listEndpoints(filter: { projectId?: string; runId?: string }): Promise<WebhookEndpointRecord[]> {
    let query = this.#db.selectFrom('webhook_endpoints').selectAll();
    if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
    else query = query.where('run_id', 'is', null);
    if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toEndpoint);
  }

  async enabledEndpointsFor(projectId: string, runId: string): Promise<WebhookEndpointRecord[]> {
    const rows = await this.#db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('disabled_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb.and([eb('project_id', '=', projectId), eb('run_id', 'is', null)]),
          eb('run_id', '=', runId),
        ]),
      )
      .execute();
    return rows.map(toEndpoint);
  }

  async updateEndpoint(id: string, patch: WebhookEndpointPatch, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhook_endpoints')
      .set({ ...toEndpointPatchRow(patch), updated_at: at })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      const result = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async getSigningSecrets(projectId: string): Promise<WebhookSecret[] | undefined> {
    const row = await this.#db
      .selectFrom('webhook_signing_secrets')
      .select('secrets_json')
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return row ? secretsFromJson(row.secrets_json) : undefined;
  }

  async initSigningSecrets(
    projectId: string,
    secrets: WebhookSecret[],
    at: string,
  ): Promise<WebhookSecret[]> {
    await this.#db
      .insertInto('webhook_signing_secrets')
      .values({ project_id: projectId, secrets_json: secretsToJson(secrets), updated_at: at })
      .onConflict((oc) => oc.column('project_id').doNothing())
      .execute();
    return (await this.getSigningSecrets(projectId)) ?? secrets;
  }

  async setSigningSecrets(projectId: string, secrets: WebhookSecret[], at: string): Promise<void> {
    const secretsJson = secretsToJson(secrets);
    await this.#db
      .insertInto('webhook_signing_secrets')
      .values({ project_id: projectId, secrets_json: secretsJson, updated_at: at })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ secrets_json: secretsJson, updated_at: at }))
      .execute();
  }

  insertDeliveries(records: WebhookDeliveryRecord[], done?: OutboxKey): Promise<void> {
    return this.#queue.insertDeliveries(records, done);
  }

  outboxEvents(before: string, limit: number): Promise<RunEvent[]> {
    return this.#queue.outboxEvents(before, limit);
  }

  dropOrphanedOutbox(before: string): Promise<void> {
    return this.#queue.dropOrphanedOutbox(before);
  }

  claimDue(now: string, limit: number, leaseUntil: string, token: string): Promise<ClaimedDelivery[]> {
    return this.#queue.claimDue(now, limit, leaseUntil, token);
  }

  extendClaims(claims: Array<{ id: string; token: string }>, until: string): Promise<void> {
    return this.#queue.extendClaims(claims, until);
  }

  expireClaims(at: string): Promise<number> {
    return this.#queue.expireClaims(at);
  }

  finishAttempts(batch: AttemptToRecord[], at: string): Promise<boolean[]> {
    return this.#queue.finishAttempts(batch, at);
  }

  async failPending(endpointId: string, reason: string, at: string): Promise<number> {
    const result = await this.#db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', last_error: reason, next_attempt_at: null, updated_at: at })
      .where('endpoint_id', '=', endpointId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async getDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    const row = await this.#db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  async listDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.#db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async listAttempts(deliveryIds: string[]): Promise<WebhookAttemptRecord[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', deliveryIds)
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  }

  async redeliver(id: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', step: 0, next_attempt_at: at, delivered_at: null, updated_at: at })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async nextDueAt(): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('due'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return (row?.due as string | null | undefined) ?? undefined;
  }
}
