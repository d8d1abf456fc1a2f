import { type Kysely, type Selectable, sql } from 'kysely';
import type { RunEvent } from '../records';
import { toEvent } from '../rows';
import type { Database, WebhookDeliveriesTable } from '../schema';
import type { AttemptToRecord, ClaimedDelivery, OutboxKey, WebhookDeliveryRecord } from '../webhook-records';
import { toAttemptRow, toDelivery, toDeliveryRow } from '../webhook-rows';

/**
 * The durable delivery queue and the webhook outbox, in SQL both databases share. Only the claim differs:
 * Postgres replicas skip the rows another replica is claiming (SKIP LOCKED); SQLite has one writer.
 */
export class SqlWebhookQueue {
  readonly #db: Kysely<Database>;
  readonly #lock: ReturnType<typeof sql>;
  readonly #kind: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, kind: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#kind = kind;
    this.#lock = kind === 'postgres' ? sql`for update skip locked` : sql``;
  }

  /**
   * Stores an event's deliveries and takes its outbox row, in one transaction. Ids are derived from the
   * event and endpoint, so storing the same event's deliveries twice (a sweep racing the live path, or two
   * replicas sweeping) adds nothing.
   */
  async insertDeliveries(records: WebhookDeliveryRecord[], done?: OutboxKey): Promise<void> {
    if (records.length === 0 && !done) return;
    await this.#db.transaction().execute(async (trx) => {
      if (records.length > 0) {
        await trx
          .insertInto('webhook_deliveries')
          .values(records.map(toDeliveryRow))
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
      if (done) {
        await trx
          .deleteFrom('webhook_outbox')
          .where('run_id', '=', done.runId)
          .where('seq', '=', done.seq)
          .execute();
      }
    });
  }

  /** Outbox rows written before `before` (ISO time), as the events they stand for, oldest first. */
  async outboxEvents(before: string, limit: number): Promise<RunEvent[]> {
    const rows = await this.#db
      .selectFrom('webhook_outbox as o')
      .innerJoin('run_events as e', (join) =>
        join.onRef('e.run_id', '=', 'o.run_id').onRef('e.seq', '=', 'o.seq'),
      )
      .selectAll('e')
      .where('o.created_at', '<', before)
      .orderBy('o.created_at')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  /** Forgets outbox rows whose event is gone (its run was deleted): nothing is left to send for them. */
  async dropOrphanedOutbox(before: string): Promise<void> {
    await sql`delete from webhook_outbox where created_at < ${before}
      and not exists (select 1 from run_events e where e.run_id = webhook_outbox.run_id and e.seq = webhook_outbox.seq)`.execute(
      this.#db,
    );
  }

  async claimDue(now: string, limit: number, leaseUntil: string, token: string): Promise<ClaimedDelivery[]> {
    // One statement: the rows picked are the rows updated, so two claimers never share one. A row still
    // holding a token had its claim lapse with its outcome unrecorded: SET reads the old values, so
    // lapsed_claim_at keeps when that claim was made, for the log.
    const { rows } = await sql<Selectable<WebhookDeliveriesTable>>`
      update webhook_deliveries
      set lapsed_claim_at = case when claim_token is null then null else updated_at end,
        claimed_until = ${leaseUntil}, claim_token = ${token}, attempts = attempts + 1, updated_at = ${now}
      where id in (
        select id from webhook_deliveries
        where status = 'pending' and next_attempt_at <= ${now}
          and (claimed_until is null or claimed_until < ${now})
        order by next_attempt_at
        limit ${limit}
        ${this.#lock}
      )
      returning *`.execute(this.#db);
    return rows.map((row) => ({ ...toDelivery(row), claimToken: token, lapsedClaimAt: row.lapsed_claim_at }));
  }

  /** Extends the claims of these deliveries, while `token` still holds each. */
  async extendClaims(claims: Array<{ id: string; token: string }>, until: string): Promise<void> {
    if (claims.length === 0) return;
    await this.#db
      .updateTable('webhook_deliveries')
      .set({ claimed_until: until })
      .where(
        'id',
        'in',
        claims.map((claim) => claim.id),
      )
      .where('claim_token', 'in', [...new Set(claims.map((claim) => claim.token))])
      .execute();
  }

  /** Lets every claim lapse now (SQLite at start: its one writer died holding them). */
  async expireClaims(at: string): Promise<number> {
    const result = await this.#db
      .updateTable('webhook_deliveries')
      .set({ claimed_until: at })
      .where('status', '=', 'pending')
      .where('claim_token', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Records finished attempts and their outcomes in one transaction of two statements, however many there
   * are (one UPDATE of every delivery, one INSERT of every attempt), each only while its token still holds
   * the claim. Answers, per attempt, whether it was recorded.
   */
  async finishAttempts(batch: AttemptToRecord[], at: string): Promise<boolean[]> {
    if (batch.length === 0) return [];
    const outcomes = batch.map(({ token, attempts, outcome }) => ({
      id: attempts.at(-1)?.deliveryId ?? '',
      token,
      status: outcome.status,
      step: outcome.step,
      next_attempt_at: outcome.nextAttemptAt,
      last_status_code: outcome.lastStatusCode,
      last_error: outcome.lastError,
      delivered_at: outcome.deliveredAt,
    }));
    return this.#db.transaction().execute(async (trx) => {
      const recorded: boolean[] = outcomes.map(() => false);
      // An UPDATE answers ids only: a delivery twice in the batch (a lapsed holder's attempt beside its
      // successor's) goes in a later round, so each id stands for one token.
      for (const round of roundsByDeliveryId(outcomes)) {
        const { rows } = await this.#finishSql(JSON.stringify(round.map((i) => outcomes[i])), at).execute(
          trx,
        );
        const updated = new Set(rows.map((row) => row.id));
        for (const index of round) recorded[index] = updated.has(outcomes[index]?.id ?? '');
      }
      const attempts = batch.flatMap((item, index) => (recorded[index] ? item.attempts : []));
      if (attempts.length > 0) {
        await trx
          .insertInto('webhook_attempts')
          .values(attempts.map(toAttemptRow))
          .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
          .execute();
      }
      // The batch's last word on each endpoint's failure streak.
      const streaks = new Map(batch.flatMap(({ streak }) => (streak ? [[streak.endpointId, streak]] : [])));
      for (const { endpointId, failingSince } of streaks.values()) {
        await trx
          .updateTable('webhook_endpoints')
          .set({ failing_since: failingSince, updated_at: at })
          .where('id', '=', endpointId)
          .execute();
      }
      return recorded;
    });
  }

  /** One UPDATE applying every outcome of a JSON array, where its token still holds the claim. */
  #finishSql(outcomes: string, at: string) {
    const set = sql`claimed_until = null, claim_token = null, lapsed_claim_at = null, updated_at = ${at}`;
    if (this.#kind === 'postgres') {
      return sql<{ id: string }>`
        update webhook_deliveries d set status = u.status, step = u.step, next_attempt_at = u.next_attempt_at,
          last_status_code = u.last_status_code, last_error = u.last_error, delivered_at = u.delivered_at, ${set}
        from jsonb_to_recordset(${outcomes}::jsonb) as u(id text, token text, status text, step integer,
          next_attempt_at timestamptz, last_status_code integer, last_error text, delivered_at timestamptz)
        where d.id = u.id and d.claim_token = u.token
        returning d.id`;
    }
    const field = (name: string) => sql.raw(`json_extract(value, '$.${name}') as ${name}`);
    return sql<{ id: string }>`
      update webhook_deliveries set status = u.status, step = u.step, next_attempt_at = u.next_attempt_at,
        last_status_code = u.last_status_code, last_error = u.last_error, delivered_at = u.delivered_at, ${set}
      from (select ${sql.join(FINISH_FIELDS.map(field))} from json_each(${outcomes})) as u
      where webhook_deliveries.id = u.id and webhook_deliveries.claim_token = u.token
      returning webhook_deliveries.id`;
  }
}

const FINISH_FIELDS = [
  'id',
  'token',
  'status',
  'step',
  'next_attempt_at',
  'last_status_code',
  'last_error',
  'delivered_at',
];

/** Indexes of the batch in rounds where no delivery id occurs twice (almost always one round). */
function roundsByDeliveryId(outcomes: ReadonlyArray<{ id: string }>): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  for (const [index, { id }] of outcomes.entries()) {
    const round = seen.get(id) ?? 0;
    seen.set(id, round + 1);
    const members = rounds[round] ?? [];
    members.push(index);
    rounds[round] = members;
  }
  return rounds;
}
