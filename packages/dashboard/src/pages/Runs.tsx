import { useWorkflows } from '@flowscale/react';
import type { RunRecord } from 'flowscale';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText, useSession } from '../auth';
import { Empty, ErrorBox, Loading } from '../components/bits';
import { RunFilters } from '../components/RunFilters';
import { RunsTable } from '../components/RunsTable';
import { applyUpdate, type StatusUpdate, useRunUpdates } from '../live-runs';
import { href, navigate } from '../route';
import { FILTER_KEYS, PAGE_SIZES, takePrefetched, toQuery } from '../runs-query';

export function Runs({ params }: { params: URLSearchParams }) {
  const { client } = useSession();
  const workflows = useWorkflows();
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [connected, setConnected] = useState(false);
  const queryKey = params.toString();
  const query = toQuery(params);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const early = await takePrefetched(queryKey)?.catch(() => null);
        const response = early ?? (await client.listRuns(toQuery(new URLSearchParams(queryKey)), signal));
        setRuns(response.data.runs);
        setTotal(response.data.count);
        setError(null);
      } catch (err) {
        if (!signal?.aborted) setError(errorText(err));
      }
    },
    [client, queryKey],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  // New runs (and runs leaving a status filter) need the page again; a burst of them, only once.
  const reload = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleReload = useCallback(() => {
    clearTimeout(reload.current);
    reload.current = setTimeout(() => void load(), 300);
  }, [load]);
  useEffect(() => () => clearTimeout(reload.current), []);

  const onUpdate = useCallback(
    (update: StatusUpdate) => {
      let known = false;
      setRuns((current) => {
        if (!current) return current;
        return current.map((run) => {
          if (run._id !== update.run_id) return run;
          known = true;
          return applyUpdate(run, update);
        });
      });
      const statusFiltered = Boolean(query.status) && update.event !== 'node.progress';
      if ((!known && update.event === 'run.queued' && query.page === 1) || (known && statusFiltered)) {
        scheduleReload();
      }
    },
    [query.page, query.status, scheduleReload],
  );
  useRunUpdates(client, live, onUpdate, setConnected);

  const names = new Map((workflows.workflows ?? []).map((w) => [w.id, w.name]));
  const pages = Math.max(1, Math.ceil(total / query.page_size));
  const setParams = (next: Record<string, string | undefined>) => navigate(['runs'], next);
  const current = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? undefined]));

  return (
    <section aria-labelledby="runs-title">
      <div className="page-head">
        <h1 id="runs-title">Runs</h1>
        <div className="live">
          <span className={`dot ${live && connected ? 'on' : ''}`} aria-hidden="true" />
          <span role="status">{live ? (connected ? 'Live' : 'Connecting…') : 'Paused'}</span>
          <button
            type="button"
            className="small secondary"
            aria-pressed={!live}
            onClick={() => setLive(!live)}
          >
            {live ? 'Pause' : 'Resume'}
          </button>
        </div>
      </div>
      <RunFilters
        values={current}
        workflows={workflows.workflows ?? []}
        onChange={(values) => setParams({ ...values, page: undefined })}
      />
      {error && <ErrorBox>{error}</ErrorBox>}
      {runs === null && !error && <Loading what="runs" />}
      {runs && runs.length === 0 && (
        <Empty>
          No runs{queryKey ? ' match these filters' : ' yet'}.{' '}
          <a href={href(['workflows'])}>Try a workflow</a>.
        </Empty>
      )}
      {runs && runs.length > 0 && <RunsTable runs={runs} names={names} />}
      {runs && total > 0 && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="secondary"
            disabled={query.page <= 1}
            onClick={() => setParams({ ...current, page: String(query.page - 1) })}
          >
            Previous
          </button>
          <span>
            Page {query.page} of {pages} · {total} runs
          </span>
          <label className="inline">
            Per page
            <select
              value={query.page_size}
              onChange={(e) => setParams({ ...current, size: e.target.value, page: undefined })}
            >
              {PAGE_SIZES.map((size) => (
                <option key={size} value={size}>
                  {size}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="secondary"
            disabled={query.page >= pages}
            onClick={() => setParams({ ...current, page: String(query.page + 1) })}
          >
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
