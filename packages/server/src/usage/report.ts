import type { ProjectUsage, UsageCounts } from 'flowscale';
import type { UsageRow } from '../storage/records';
import { METRIC } from './usage';

const emptyCounts = (): UsageCounts => ({
  runs: { created: 0, completed: 0, failed: 0, cancelled: 0 },
  execution_seconds: {},
  bytes_in: 0,
  bytes_out: 0,
});

const RUN_METRICS: Record<string, keyof UsageCounts['runs']> = {
  [METRIC.created]: 'created',
  runs_completed: 'completed',
  runs_failed: 'failed',
  runs_cancelled: 'cancelled',
};

function addMetric(counts: UsageCounts, metric: string, value: number): void {
  const run = RUN_METRICS[metric];
  if (run) counts.runs[run] += value;
  else if (metric === METRIC.bytesIn) counts.bytes_in += value;
  else if (metric === METRIC.bytesOut) counts.bytes_out += value;
  else if (metric.startsWith(METRIC.executionPrefix)) {
    const backend = metric.slice(METRIC.executionPrefix.length);
    // Milliseconds are the precision the run's times carry.
    const seconds = (counts.execution_seconds[backend] ?? 0) + value;
    counts.execution_seconds[backend] = Math.round(seconds * 1000) / 1000;
  }
}

/** The stored counters (ordered by day) as one entry per project, each day's counts and their totals. */
export function usageReport(rows: UsageRow[], nameOf: (projectId: string) => string): ProjectUsage[] {
  const projects = new Map<string, ProjectUsage>();
  for (const row of rows) {
    let project = projects.get(row.projectId);
    if (!project) {
      project = {
        project_id: row.projectId,
        project: nameOf(row.projectId),
        days: [],
        totals: emptyCounts(),
      };
      projects.set(row.projectId, project);
    }
    let day = project.days.at(-1);
    if (day?.day !== row.day) {
      day = { day: row.day, ...emptyCounts() };
      project.days.push(day);
    }
    addMetric(day, row.metric, row.value);
    addMetric(project.totals, row.metric, row.value);
  }
  return [...projects.values()].sort((a, b) => a.project.localeCompare(b.project));
}
