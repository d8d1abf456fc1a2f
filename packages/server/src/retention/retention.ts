import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/blob-store';
import type { InputBlobs } from '../inputs/input-blobs';
import type { Stores } from '../storage/stores';

export interface RetentionDeps {
  stores: Stores;
  inputFiles: InputBlobs;
  outputs: BlobStore;
  log: Logger;
  /** Files older than this many days are deleted; 0 turns retention off. */
  days: number;
  intervalMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const BATCH = 500;

/**
 * Periodically deletes stored input files and output files older than the retention period, from whichever
 * blob store holds them (data dir or S3). Run records and their event logs are kept (they are small and
 * are the audit trail); only the files go. Outputs are found through their records (created_at); inputs
 * through the blob store's own listing (mtime or S3 LastModified), see InputBlobs.removeOlderThan.
 */
export class RetentionSweeper {
  readonly #deps: RetentionDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(deps: RetentionDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#deps.days <= 0) return;
    const tick = (): void => {
      this.#running ??= this.sweep()
        .catch((error: unknown) => this.#deps.log.error({ err: error }, 'retention sweep failed'))
        .finally(() => {
          this.#running = undefined;
        });
    };
    // Unref'd: a pending sweep must never keep the process alive.
    this.#timer = setInterval(tick, this.#deps.intervalMs).unref();
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass; `now` is injectable for tests. Returns how many files of each kind were deleted. */
  async sweep(now = Date.now()): Promise<{ inputs: number; outputs: number }> {
    const { stores, inputFiles, outputs, log, days } = this.#deps;
    const cutoff = now - days * DAY_MS;
    let outputCount = 0;
    for (;;) {
      const expired = await stores.outputs.listExpired(new Date(cutoff).toISOString(), BATCH);
      if (expired.length === 0) break;
      for (const output of expired) await outputs.delete(output.storageKey ?? output.filename);
      await stores.outputs.delete(expired);
      outputCount += expired.length;
      if (expired.length < BATCH) break;
    }
    // Inputs of runs that have not finished may still be uploaded to a backend (redispatch after a restart).
    const inUse = new Set<string>();
    for (const run of await stores.runs.listUnfinished())
      for (const input of run.inputs) if (input.file?.sha256) inUse.add(input.file.sha256);
    const removed = await inputFiles.removeOlderThan(cutoff, inUse);
    for (const sha256 of removed) await stores.inputFiles.delete(sha256);
    if (outputCount + removed.length > 0)
      log.info({ outputs: outputCount, inputs: removed.length, days }, 'retention: deleted old files');
    return { inputs: removed.length, outputs: outputCount };
  }
}
