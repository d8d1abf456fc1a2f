import type { ContainerHealth, ContainerQueue, RunRecord } from 'flowscale';
import { useEffect, useState } from 'react';
import { errorText, useSession } from '../auth';
import { Empty, ErrorBox, Loading, StatusBadge } from '../components/bits';
import { type FleetDetail, Inventory } from '../components/Inventory';
import { duration, shortId, span } from '../format';
import { href } from '../route';

const REFRESH_MS = 3000;

interface Backend {
  health: ContainerHealth & Record<string, unknown>;
  queue: ContainerQueue['queue'] | undefined;
  running: RunRecord[];
  detail: FleetDetail | undefined;
}

export function Fleet() {
  const { client, isAdmin } = useSession();
  const [backends, setBackends] = useState<Backend[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const [health, queues, running, fleet] = await Promise.all([
          client.checkHealth(),
          client.getQueue(),
          client.listRuns({ page: 1, page_size: 100, status: 'running' }),
          // Admins also see the model files by name; others see how many each folder holds.
          isAdmin ? client.getJson<FleetDetail[]>('admin/fleet').catch(() => null) : null,
        ]);
        if (!live) return;
        setBackends(
          health.data.map((h) => ({
            health: h as Backend['health'],
            queue: queues.data.find((q) => q.container === h.container)?.queue,
            running: running.data.runs.filter((r) => r.container === h.container),
            detail: fleet?.data.find((d) => d.container === h.container),
          })),
        );
        setError(null);
      } catch (err) {
        if (live) setError(errorText(err));
      }
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, isAdmin]);

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <p className="hint">Each ComfyUI backend, refreshed every {REFRESH_MS / 1000} s.</p>
      {error && <ErrorBox>{error}</ErrorBox>}
      {!backends && !error && <Loading what="the fleet" />}
      {backends?.length === 0 && <Empty>No backends configured.</Empty>}
      <ul className="cards">
        {(backends ?? []).map(({ health, queue, running, detail }) => (
          <li key={health.container} className="card" data-backend={health.container}>
            <div className="page-head">
              <h2 className="clip">{health.container}</h2>
              <StatusBadge status={String(health.status)} />
            </div>
            <dl className="extras">
              <div>
                <dt>Running</dt>
                <dd className="num">{queue?.queue_running.length ?? '—'}</dd>
              </div>
              <div>
                <dt>Waiting</dt>
                <dd className="num">{queue?.queue_pending.length ?? '—'}</dd>
              </div>
            </dl>
            <Inventory health={health} detail={detail} />
            <h3>Executing</h3>
            {running.length === 0 ? (
              <p className="empty">Nothing right now.</p>
            ) : (
              <ul className="plain" data-testid="executing">
                {running.map((run) => (
                  <li key={run._id}>
                    <a href={href(['runs', run._id])} className="mono">
                      {shortId(run._id)}
                    </a>{' '}
                    {Math.round(run.progress ?? 0)}% · running for {duration(span(run.started_at, null))}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
