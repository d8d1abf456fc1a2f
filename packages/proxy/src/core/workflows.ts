interface CatalogEntry {
  id: string;
  name: string;
}

export interface WorkflowGate {
  /** True when the workflow (given by id or name) is on the allow-list. */
  allows(idOrName: string): Promise<boolean>;
  /** Keeps only allowed workflows in a `GET /api/v1/comfy/workflows` reply body. */
  filterList(body: unknown): unknown;
}

/**
 * The allow-list may name workflows by id or by name, and so may the caller. When the two don't match
 * directly, the upstream catalogue (fetched with the secret key, cached briefly) links ids and names.
 */
export function createWorkflowGate(
  allowed: readonly string[],
  loadCatalog: () => Promise<CatalogEntry[]>,
  ttlMs = 30_000,
): WorkflowGate {
  const allowedSet = new Set(allowed);
  let cache: { at: number; entries: Promise<CatalogEntry[]> } | undefined;

  const catalog = () => {
    const now = Date.now();
    if (!cache || now - cache.at > ttlMs) {
      const entries = loadCatalog();
      cache = { at: now, entries };
      // A failed lookup must not stick for the whole TTL.
      entries.catch(() => {
        if (cache?.entries === entries) cache = undefined;
      });
    }
    return cache.entries;
  };

  const isAllowedEntry = (e: CatalogEntry) => allowedSet.has(e.id) || allowedSet.has(e.name);

  return {
    async allows(idOrName) {
      if (allowedSet.has(idOrName)) return true;
      const entries = await catalog();
      const match = entries.find((e) => e.id === idOrName) ?? entries.find((e) => e.name === idOrName);
      return match ? isAllowedEntry(match) : false;
    },
    filterList(body) {
      if (!isRecord(body) || !Array.isArray(body.data)) return body;
      return { ...body, data: body.data.filter((w) => isRecord(w) && isAllowedEntry(toEntry(w))) };
    },
  };
}

export function parseCatalog(body: unknown): CatalogEntry[] {
  if (!isRecord(body) || !Array.isArray(body.data)) throw new Error('Unexpected workflow list from upstream');
  return body.data.filter(isRecord).map(toEntry);
}

function toEntry(w: Record<string, unknown>): CatalogEntry {
  return { id: String(w.id ?? w.workflow_id ?? ''), name: String(w.name ?? '') };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
