import { isTerminalEventType } from 'flowscale/events';
import { Histogram, type Registry } from 'prom-client';
import type { Run, RunEvent } from '../storage/records';
import type { RunStore } from '../storage/stores';

/** Seconds: from a fraction of a second (text-echo) to an hour-long video render. */
const RUN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const seconds = (from: string | null, to: string | null): number | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
};

/**
 * Run timings from the events this replica writes: a run's start gives its queue wait, its end its whole
 * duration and the backend's share. The run comes with the event from its writer; only when it does not
 * is it read back, once at each of those two events.
 */
export function runHistograms(
  registry: Registry,
  runs: RunStore,
): (event: RunEvent, run?: Readonly<Run>) => void {
  const duration = new Histogram({
    name: 'flowscale_run_duration_seconds',
    help: 'Whole run, from submission to its end, by workflow and final status',
    labelNames: ['workflow', 'status'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'flowscale_run_queue_wait_seconds',
    help: 'From submission until a backend started executing the run',
    labelNames: ['workflow'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const execution = new Histogram({
    name: 'flowscale_backend_execution_seconds',
    help: 'From the backend starting the run to its end, by workflow and final status',
    labelNames: ['workflow', 'status'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const observe = (event: RunEvent, run: Readonly<Run>): void => {
    if (event.type === 'run.started') {
      const wait = seconds(run.createdAt, run.startedAt ?? event.ts);
      if (wait !== undefined) queueWait.observe({ workflow: run.workflowId }, wait);
      return;
    }
    const end = run.completedAt ?? event.ts;
    const labels = { workflow: run.workflowId, status: run.status };
    const total = seconds(run.createdAt, end);
    if (total !== undefined) duration.observe(labels, total);
    const executing = seconds(run.startedAt, end);
    if (executing !== undefined) execution.observe(labels, executing);
  };
  const readAndObserve = async (event: RunEvent): Promise<void> => {
    const run = await runs.get(event.runId);
    if (run) observe(event, run);
  };
  return (event, run) => {
    if (event.type !== 'run.started' && !isTerminalEventType(event.type)) return;
    // Metrics never hold up or break the run's own writes, nor the event's other listeners.
    if (!run) {
      void readAndObserve(event).catch(() => undefined);
      return;
    }
    try {
      observe(event, run);
    } catch {
      // A sample lost; the run goes on.
    }
  };
}
