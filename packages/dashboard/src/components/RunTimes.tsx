import type { RunEvent, RunRecord } from 'flowscale';
import { useEffect, useState } from 'react';
import type { DashboardAPI } from '../api';
import { useSession } from '../auth';
import { dateTime, duration } from '../format';
import { looksLikeLoader, runPhases } from '../phases';

interface FleetModels {
  model_inputs?: Array<{ class_type: string }>;
}

const loaderSets = new WeakMap<DashboardAPI, Promise<Set<string> | null>>();

/**
 * The node classes that load models, from the fleet inventory: classes with an input whose options are
 * model files (what the server finds in each backend's /object_info). Only admins can read it; for other
 * keys (or if it fails) the class-name rule stands in.
 */
function useLoaderRule(): (classType: string) => boolean {
  const { client, isAdmin } = useSession();
  const [classes, setClasses] = useState<Set<string> | null>(null);
  useEffect(() => {
    if (!isAdmin) return;
    let promise = loaderSets.get(client);
    if (!promise) {
      promise = client.getJson<FleetModels[]>('admin/fleet').then(
        (response) => new Set(response.data.flatMap((b) => (b.model_inputs ?? []).map((m) => m.class_type))),
        () => null,
      );
      loaderSets.set(client, promise);
    }
    let live = true;
    void promise.then((set) => live && setClasses(set));
    return () => {
      live = false;
    };
  }, [client, isAdmin]);
  return classes && classes.size > 0 ? (type) => classes.has(type) : looksLikeLoader;
}

/** Created, then queue, model-load and run time shown apart; backend and group. */
export function RunTimes({ run, events }: { run: RunRecord | null; events: RunEvent[] }) {
  const isLoader = useLoaderRule();
  const phases = runPhases(run, events, isLoader);
  const loadTitle = phases.loaders.length
    ? phases.loaders.map((l) => `node ${l.nodeId} (${l.nodeType}): ${duration(l.ms)}`).join('\n')
    : 'No node of this run loads a model';
  return (
    <dl className="times">
      <div>
        <dt>Created</dt>
        <dd>{dateTime(run?.created_at)}</dd>
      </div>
      <div>
        <dt>Queued for</dt>
        <dd className="num" data-testid="time-queue" data-ms={phases.queue ?? ''}>
          {duration(phases.queue)}
        </dd>
      </div>
      <div>
        <dt>Loading models</dt>
        <dd className="num" data-testid="time-load" data-ms={phases.load ?? ''} title={loadTitle}>
          {duration(phases.load)}
          {phases.loaders.length > 0 && (
            <span className="hint"> in {phases.loaders.map((l) => l.nodeType).join(', ')}</span>
          )}
        </dd>
      </div>
      <div>
        <dt>Running</dt>
        <dd className="num" data-testid="time-run" data-ms={phases.run ?? ''}>
          {duration(phases.run)}
        </dd>
      </div>
      <div>
        <dt>Backend</dt>
        <dd>{typeof run?.container === 'string' ? run.container : '—'}</dd>
      </div>
      <div>
        <dt>Group</dt>
        <dd>{run?.group_id ?? '—'}</dd>
      </div>
    </dl>
  );
}
