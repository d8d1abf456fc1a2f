/** The run metadata key the proxy records its caller under, unless told another. */
export const DEFAULT_OWNER_KEY = 'proxy_user';

const OWNERS_LIMIT = 10_000;

export interface RunOwners {
  /** Sets the caller as the run's owner in the `metadata` query parameter, over anything the browser sent. */
  tagSubmission(params: URLSearchParams, callerId: string): void;
  /** Narrows a run listing to the caller's runs. */
  narrowListing(params: URLSearchParams, callerId: string): void;
  /** Whether the caller created this run through the proxy. Throws when the upstream cannot say. */
  owns(runId: string, callerId: string): Promise<boolean>;
  /** Keeps only the caller's runs in a `GET /comfy/queue` reply (entries are `[position, run_id, ...]`). */
  filterQueue(body: unknown, callerId: string): Promise<unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Runs belong to the signed-in user who created them. The server stores `metadata` query keys over the
 * body's, so the owner the proxy sets cannot be forged from the browser; reads of a run check it and
 * answer another user's run exactly as an unknown one. A run's owner never changes, so it is cached.
 */
export function createRunOwners(key: string, readRun: (runId: string) => Promise<Response>): RunOwners {
  const owners = new Map<string, string | null>();

  const ownerOf = async (runId: string): Promise<string | null | undefined> => {
    if (owners.has(runId)) return owners.get(runId);
    const response = await readRun(runId);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`Run lookup failed with HTTP ${response.status}`);
    const body: unknown = await response.json();
    const metadata = isObject(body) && isObject(body.data) ? body.data.metadata : undefined;
    const owner = isObject(metadata) && typeof metadata[key] === 'string' ? (metadata[key] as string) : null;
    if (owners.size >= OWNERS_LIMIT) owners.clear();
    owners.set(runId, owner);
    return owner;
  };

  const owns = async (runId: string, callerId: string) => (await ownerOf(runId)) === callerId;

  return {
    tagSubmission(params, callerId) {
      let given: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(params.get('metadata') ?? '{}');
        if (isObject(parsed)) given = parsed;
      } catch {
        // Not JSON: replaced by the proxy's own.
      }
      params.set('metadata', JSON.stringify({ ...given, [key]: callerId }));
    },
    narrowListing(params, callerId) {
      params.set(`metadata.${key}`, callerId);
    },
    owns,
    async filterQueue(body, callerId) {
      if (!isObject(body) || !Array.isArray(body.data)) return body;
      const data = await Promise.all(
        body.data.map(async (container: unknown) => {
          if (!isObject(container) || !isObject(container.queue)) return container;
          const keep = async (entries: unknown) => {
            if (!Array.isArray(entries)) return [];
            const mine = await Promise.all(
              entries.map(async (entry) =>
                Array.isArray(entry) && typeof entry[1] === 'string' && (await owns(entry[1], callerId))
                  ? [entry]
                  : [],
              ),
            );
            return mine.flat();
          };
          return {
            ...container,
            queue: {
              queue_running: await keep(container.queue.queue_running),
              queue_pending: await keep(container.queue.queue_pending),
            },
          };
        }),
      );
      return { ...body, data };
    },
  };
}
