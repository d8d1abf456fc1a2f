import { randomUUID } from 'node:crypto';
import { KeyNotFound } from '../http/errors';
import type { ApiKeyRecord, KeyRole, Storage } from '../storage/types';
import { generateApiKey, hashApiKey, hashesEqual, keyPrefix } from './keys';

export interface KeyView {
  id: string;
  name: string;
  role: KeyRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export const toKeyView = (record: ApiKeyRecord): KeyView => ({
  id: record.id,
  name: record.name,
  role: record.role,
  prefix: record.prefix,
  created_at: record.createdAt,
  last_used_at: record.lastUsedAt,
  revoked_at: record.revokedAt,
});

const TOUCH_EVERY_MS = 60_000;

/** Issues, checks and revokes API keys. Only SHA-256 hashes are stored; lookups are cached by hash. */
const RECENT_LIMIT = 1000;

export class KeyService {
  readonly #storage: Storage;
  readonly #cache = new Map<string, ApiKeyRecord | null>();
  /**
   * Keys seen recently → their record, so a busy client skips the hash per request. Only valid keys are
   * kept (invalid ones would let a caller fill it), and it is emptied on every revocation.
   */
  readonly #recent = new Map<string, ApiKeyRecord>();
  readonly #touchedAt = new Map<string, number>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** Registers configured keys; with none configured and none stored, generates one and returns it (once). */
  async bootstrap(configuredKeys: string[]): Promise<string | undefined> {
    const now = new Date().toISOString();
    const hashes = configuredKeys.map(hashApiKey);
    await this.#storage.revokeConfigKeysExcept(hashes, now);
    for (const [index, key] of configuredKeys.entries()) {
      await this.#storage.insertKey(this.#record(key, `configured #${index + 1}`, 'admin', 'config', now));
    }
    if (configuredKeys.length > 0 || (await this.#storage.countUsableKeys()) > 0) return undefined;
    const key = generateApiKey();
    await this.#storage.insertKey(this.#record(key, 'generated admin key', 'admin', 'generated', now));
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
      record = (await this.#storage.findKeyByHash(keyHash)) ?? null;
      this.#cache.set(keyHash, record);
    }
    // The lookup is by hash, but compare again in constant time so equality never short-circuits on content.
    if (!record || record.revokedAt || !hashesEqual(record.keyHash, keyHash)) return undefined;
    if (this.#recent.size >= RECENT_LIMIT) this.#recent.clear();
    this.#recent.set(key, record);
    this.#touch(record);
    return record;
  }

  async create(name: string, role: KeyRole): Promise<{ view: KeyView; key: string }> {
    const key = generateApiKey();
    const record = this.#record(key, name, role, 'api', new Date().toISOString());
    await this.#storage.insertKey(record);
    return { view: toKeyView(record), key };
  }

  async list(): Promise<KeyView[]> {
    return (await this.#storage.listKeys()).map(toKeyView);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#storage.revokeKey(id, new Date().toISOString()))) throw new KeyNotFound(id);
    this.#cache.clear();
    this.#recent.clear();
  }

  #record(
    key: string,
    name: string,
    role: KeyRole,
    source: ApiKeyRecord['source'],
    now: string,
  ): ApiKeyRecord {
    return {
      id: randomUUID(),
      name,
      role,
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
    void this.#storage.touchKey(record.id, at).catch(() => undefined);
  }
}
