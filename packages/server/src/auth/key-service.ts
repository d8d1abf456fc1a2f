import { randomUUID } from 'node:crypto';
import { KeyNotFound } from '../errors';
import { DEFAULT_PROJECT_ID } from '../projects/migration';
import type { ApiKeyRecord, KeyRole } from '../storage/records';
import type { KeyStore } from '../storage/stores';
import { generateApiKey, hashApiKey, hashesEqual, keyPrefix } from './keys';

export interface KeyView {
  id: string;
  name: string;
  role: KeyRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  project_id: string;
  expires_at: string | null;
}

export const toKeyView = (record: ApiKeyRecord): KeyView => ({
  id: record.id,
  name: record.name,
  role: record.role,
  prefix: record.prefix,
  created_at: record.createdAt,
  last_used_at: record.lastUsedAt,
  revoked_at: record.revokedAt,
  project_id: record.projectId,
  expires_at: record.expiresAt,
});

export interface NewKey {
  name: string;
  role: KeyRole;
  projectId: string;
  /** ISO time after which the key is refused; null: never. */
  expiresAt: string | null;
}

/** Whether the key's expiry has passed; an expired key is refused with its own message. */
export const isExpired = (record: ApiKeyRecord, nowMs = Date.now()): boolean =>
  record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs;

/** Configured and generated keys: admins of the default project, never expiring. */
const adminKey = (name: string): NewKey => ({
  name,
  role: 'admin',
  projectId: DEFAULT_PROJECT_ID,
  expiresAt: null,
});

const TOUCH_EVERY_MS = 60_000;

/** Issues, checks and revokes API keys. Only SHA-256 hashes are stored; lookups are cached by hash. */
const RECENT_LIMIT = 1000;

export class KeyService {
  readonly #keys: KeyStore;
  readonly #cache = new Map<string, ApiKeyRecord | null>();
  /**
   * Keys seen recently → their record, so a busy client skips the hash per request. Only valid keys are
   * kept (invalid ones would let a caller fill it), and it is emptied on every revocation.
   */
  readonly #recent = new Map<string, ApiKeyRecord>();
  readonly #touchedAt = new Map<string, number>();

  constructor(keys: KeyStore) {
    this.#keys = keys;
  }

  /** Registers configured keys; with none configured and none stored, generates one and returns it (once). */
  async bootstrap(configuredKeys: string[]): Promise<string | undefined> {
    const now = new Date().toISOString();
    const hashes = configuredKeys.map(hashApiKey);
    await this.#keys.revokeConfigKeysExcept(hashes, now);
    for (const [index, key] of configuredKeys.entries()) {
      await this.#keys.insert(this.#record(key, adminKey(`configured #${index + 1}`), 'config', now));
    }
    if (configuredKeys.length > 0 || (await this.#keys.countUsable()) > 0) return undefined;
    const key = generateApiKey();
    await this.#keys.insert(this.#record(key, adminKey('generated admin key'), 'generated', now));
    return key;
  }

  /** The record for a key seen recently, without hashing; undefined means "ask authenticate()". */
  recentlyAuthenticated(key: string): ApiKeyRecord | undefined {
    const record = this.#recent.get(key);
    if (record) this.#touch(record);
    return record;
  }

  async authenticate(key: string): Promise<ApiKeyRecord | undefined> {
    const recent = this.recentlyAuthenticated(key);
    if (recent) return recent;
    const keyHash = hashApiKey(key);
    let record = this.#cache.get(keyHash);
    if (record === undefined) {
      record = (await this.#keys.findByHash(keyHash)) ?? null;
      this.#cache.set(keyHash, record);
    }
    // The lookup is by hash, but compare again in constant time so equality never short-circuits on content.
    if (!record || record.revokedAt || !hashesEqual(record.keyHash, keyHash)) return undefined;
    if (this.#recent.size >= RECENT_LIMIT) this.#recent.clear();
    this.#recent.set(key, record);
    this.#touch(record);
    return record;
  }

  async create(spec: NewKey): Promise<{ view: KeyView; key: string }> {
    const key = generateApiKey();
    const record = this.#record(key, spec, 'api', new Date().toISOString());
    await this.#keys.insert(record);
    return { view: toKeyView(record), key };
  }

  async list(): Promise<KeyView[]> {
    return (await this.#keys.list()).map(toKeyView);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#keys.revoke(id, new Date().toISOString()))) throw new KeyNotFound(id);
    this.#cache.clear();
    this.#recent.clear();
  }

  #record(key: string, spec: NewKey, source: ApiKeyRecord['source'], now: string): ApiKeyRecord {
    return {
      id: randomUUID(),
      name: spec.name,
      role: spec.role,
      projectId: spec.projectId,
      expiresAt: spec.expiresAt,
      prefix: keyPrefix(key),
      keyHash: hashApiKey(key),
      source,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
  }

  #touch(record: ApiKeyRecord): void {
    const now = Date.now();
    if (now - (this.#touchedAt.get(record.id) ?? 0) < TOUCH_EVERY_MS) return;
    this.#touchedAt.set(record.id, now);
    const at = new Date(now).toISOString();
    record.lastUsedAt = at;
    void this.#keys.touch(record.id, at).catch(() => undefined);
  }
}
