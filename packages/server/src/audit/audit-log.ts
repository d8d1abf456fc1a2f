import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiKeyRecord, AuditEntry, AuditQuery } from '../storage/records';
import type { AuditStore } from '../storage/stores';

export interface AuditEvent {
  action: string;
  target?: string | null;
  projectId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditView {
  id: string;
  at: string;
  actor: { key_id: string | null; name: string | null };
  action: string;
  target: string | null;
  project_id: string | null;
  details: Record<string, unknown> | null;
}

export const toAuditView = (entry: AuditEntry): AuditView => ({
  id: entry.id,
  at: entry.at,
  actor: { key_id: entry.actorId, name: entry.actorName },
  action: entry.action,
  target: entry.target,
  project_id: entry.projectId,
  details: entry.details,
});

/**
 * Who did what to keys, projects and workflows, and when. Recorded after the action succeeded; a failed
 * write is logged rather than undoing an action that already happened.
 */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #log: Logger;

  constructor(store: AuditStore, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  async record(actor: Pick<ApiKeyRecord, 'id' | 'name'> | null, event: AuditEvent): Promise<void> {
    const entry: AuditEntry = {
      id: randomUUID(),
      at: new Date().toISOString(),
      actorId: actor?.id ?? null,
      actorName: actor?.name ?? null,
      action: event.action,
      target: event.target ?? null,
      projectId: event.projectId ?? null,
      details: event.details ?? null,
    };
    try {
      await this.#store.insert(entry);
    } catch (error) {
      this.#log.error({ err: error, audit: { ...entry, details: undefined } }, 'audit entry not stored');
    }
  }

  async list(query: AuditQuery): Promise<AuditView[]> {
    return (await this.#store.list(query)).map(toAuditView);
  }
}
