import type { RunRecord } from 'flowscale';
import { dateTime, duration, shortId, span } from '../format';
import { href } from '../route';
import { ProgressBar, StatusBadge } from './bits';

/**
 * Queue time and run time apart (what every run dashboard users like shows). Fixed column widths and row
 * heights: live updates change text and a bar's scale, never the layout.
 */
export function RunsTable({ runs, names }: { runs: RunRecord[]; names: Map<string, string> }) {
  return (
    <div className="table-wrap">
      <table className="runs">
        <caption className="visually-hidden">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Workflow</th>
            <th scope="col">Group</th>
            <th scope="col">Created</th>
            <th scope="col">Queued</th>
            <th scope="col">Ran</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const workflow = run.workflow_id ? (names.get(run.workflow_id) ?? shortId(run.workflow_id)) : '—';
            const progress = run.progress ?? 0;
            return (
              <tr key={run._id} data-run-id={run._id} data-status={run.status}>
                <td data-label="Run">
                  <a href={href(['runs', run._id])} className="mono" aria-label={`Run ${run._id}`}>
                    {shortId(run._id)}
                  </a>
                </td>
                <td data-label="Status">
                  <StatusBadge status={String(run.status)} />
                </td>
                <td data-label="Progress">
                  <ProgressBar value={progress} label={`Progress of run ${shortId(run._id)}`} />
                </td>
                <td data-label="Workflow" className="clip">
                  {workflow}
                </td>
                <td data-label="Group" className="clip">
                  {run.group_id ?? '—'}
                </td>
                <td data-label="Created" className="num">
                  {dateTime(run.created_at)}
                </td>
                <td data-label="Queued" className="num">
                  {duration(span(run.created_at, run.started_at ?? run.completed_at))}
                </td>
                <td data-label="Ran" className="num">
                  {duration(run.started_at ? span(run.started_at, run.completed_at) : null)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
