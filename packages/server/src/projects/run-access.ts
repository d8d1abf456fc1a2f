import type { Run } from '../storage/records';
import type { RunStore } from '../storage/stores';
import { type Scope, sees } from './scope';

const OWNERS_LIMIT = 50_000;

/**
 * Runs as a scope sees them: another project's run is not there at all. A run never changes project, so
 * its owner is remembered (bounded) and the event fan-out can filter without a read per event.
 */
export class RunAccess {
  readonly #runs: RunStore;
  readonly #owners = new Map<string, string>();

  constructor(runs: RunStore) {
    this.#runs = runs;
  }

  remember(run: Pick<Run, 'id' | 'projectId'>): void {
    if (this.#owners.size >= OWNERS_LIMIT) this.#owners.clear();
    this.#owners.set(run.id, run.projectId);
  }

  /** The run if this scope may see it; undefined for an unknown run and for another project's alike. */
  async find(runId: string, scope: Scope): Promise<Run | undefined> {
    const run = await this.#runs.get(runId);
    if (!run) return undefined;
    this.remember(run);
    return sees(scope, run.projectId) ? run : undefined;
  }

  /** The project a run belongs to, from memory when known; undefined for an unknown run. */
  ownerIfKnown(runId: string): string | undefined {
    return this.#owners.get(runId);
  }

  async visible(runId: string, scope: Scope): Promise<boolean> {
    if (scope.projectId === null) return true;
    const known = this.#owners.get(runId);
    if (known !== undefined) return known === scope.projectId;
    return (await this.find(runId, scope).catch(() => undefined)) !== undefined;
  }
}
