import { randomUUID } from 'node:crypto';
import { invalidInputs, ProjectExists, ProjectNotFound } from '../errors';
import type { ProjectRecord } from '../storage/records';
import type { ProjectStore } from '../storage/stores';

export interface ProjectView {
  id: string;
  name: string;
  limits: Record<string, number>;
  created_at: string;
}

export const toProjectView = (record: ProjectRecord): ProjectView => ({
  id: record.id,
  name: record.name,
  limits: record.limits ?? {},
  created_at: record.createdAt,
});

export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Creates projects and resolves them by id or name. Projects are few and never renamed: cached by id. */
export class ProjectService {
  readonly #store: ProjectStore;
  readonly #byId = new Map<string, ProjectRecord>();
  /** Every change of a project goes through this service (no other replica): cached limits never go stale. */
  readonly #soleWriter: boolean;
  /** Limits by project id, kept only when this is the sole writer; `setLimits` bumps the generation. */
  readonly #limits = new Map<string, Record<string, number>>();
  #limitsGeneration = 0;

  constructor(store: ProjectStore, options: { soleWriter: boolean } = { soleWriter: false }) {
    this.#store = store;
    this.#soleWriter = options.soleWriter;
  }

  async create(name: string): Promise<ProjectRecord> {
    if (!PROJECT_NAME.test(name)) {
      throw invalidInputs([
        { field: 'name', message: 'must be 1–100 characters of letters, digits, ".", "_" or "-"' },
      ]);
    }
    if (await this.#store.find(name)) throw new ProjectExists(name);
    const record: ProjectRecord = {
      id: randomUUID(),
      name,
      limits: null,
      createdAt: new Date().toISOString(),
    };
    if (!(await this.#store.insert(record))) throw new ProjectExists(name);
    this.#byId.set(record.id, record);
    return record;
  }

  async list(): Promise<ProjectRecord[]> {
    const records = await this.#store.list();
    for (const record of records) this.#byId.set(record.id, record);
    return records;
  }

  /** The project with this id or name; 404 when there is none. */
  async resolve(idOrName: string): Promise<ProjectRecord> {
    const cached = this.#byId.get(idOrName);
    if (cached) return cached;
    const record = await this.#store.find(idOrName);
    if (!record) throw new ProjectNotFound(idOrName);
    this.#byId.set(record.id, record);
    return record;
  }

  /** Name of a project id, for views; the id itself if the project is unknown. */
  async nameOf(id: string): Promise<string> {
    return (await this.resolve(id).catch(() => undefined))?.name ?? id;
  }

  async setLimits(idOrName: string, limits: Record<string, number> | null): Promise<ProjectRecord> {
    const project = await this.resolve(idOrName);
    await this.#store.setLimits(project.id, limits);
    this.#limitsGeneration++;
    this.#limits.delete(project.id);
    const updated = { ...project, limits };
    this.#byId.set(project.id, updated);
    return updated;
  }

  /**
   * Current limits (checked on every submit). Read through beside other replicas, which may have changed
   * them; alone, from the cache that `setLimits` keeps current.
   */
  async limitsOf(id: string): Promise<Record<string, number>> {
    const cached = this.#limits.get(id);
    if (cached) return cached;
    const generation = this.#limitsGeneration;
    const record = await this.#store.find(id);
    const limits = record?.limits ?? {};
    // Not kept if limits were set while reading: what was read may be from before.
    if (this.#soleWriter && record?.id === id && generation === this.#limitsGeneration)
      this.#limits.set(id, limits);
    return limits;
  }
}
