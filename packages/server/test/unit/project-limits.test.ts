import { describe, expect, it } from 'vitest';
import { ProjectService } from '../../src/projects/project-service';
import type { ProjectStore } from '../../src/storage/stores';
import { useDatabase } from '../storage/databases';

/** The real store, counting its reads. */
function counting(store: ProjectStore): { store: ProjectStore; finds: () => number } {
  let finds = 0;
  return {
    store: {
      insert: (record) => store.insert(record),
      list: () => store.list(),
      find: (idOrName) => {
        finds++;
        return store.find(idOrName);
      },
      setLimits: (id, limits) => store.setLimits(id, limits),
    },
    finds: () => finds,
  };
}

// Limits are checked on every submit. A sole writer keeps them in memory; beside other replicas they are
// read every time, since another replica may have changed them.
describe('project limits', () => {
  const database = useDatabase('sqlite');

  it('a sole writer reads them once and keeps them current through setLimits', async () => {
    const stores = await database.open();
    const { store, finds } = counting(stores.projects);
    const projects = new ProjectService(store, { soleWriter: true });
    const project = await projects.create('studio');
    const before = finds();
    expect(await projects.limitsOf(project.id)).toEqual({});
    expect(await projects.limitsOf(project.id)).toEqual({});
    expect(finds() - before).toBe(1);
    await projects.setLimits(project.id, { queued_runs: 3 });
    expect(await projects.limitsOf(project.id)).toEqual({ queued_runs: 3 });
    // Limits set while they were being read are not lost to that read.
    const reading = new ProjectService(store, { soleWriter: true });
    const read = reading.limitsOf(project.id);
    await reading.setLimits(project.id, { queued_runs: 5 });
    await read;
    expect(await reading.limitsOf(project.id)).toEqual({ queued_runs: 5 });
    expect(await projects.limitsOf('no-such-project')).toEqual({});
  });

  it('beside other replicas they are read through: a change made by another one shows at once', async () => {
    const stores = await database.open();
    const here = new ProjectService(stores.projects);
    const elsewhere = new ProjectService(stores.projects);
    const project = await here.create('shared');
    expect(await here.limitsOf(project.id)).toEqual({});
    await elsewhere.setLimits(project.id, { concurrent_runs: 2 });
    expect(await here.limitsOf(project.id)).toEqual({ concurrent_runs: 2 });
  });
});
