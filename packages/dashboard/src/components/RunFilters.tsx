import type { WorkflowSummary } from 'flowscale';
import { type FormEvent, useEffect, useState } from 'react';
import { navigate } from '../route';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];

type Values = Record<string, string | undefined>;

/** The runs filter (status, workflow, group, dates) and the jump-to-run box. */
export function RunFilters({
  values,
  workflows,
  onChange,
}: {
  values: Values;
  workflows: WorkflowSummary[];
  onChange: (values: Values) => void;
}) {
  const [draft, setDraft] = useState<Values>(values);
  const [runId, setRunId] = useState('');
  const valuesKey = JSON.stringify(values);
  // biome-ignore lint/correctness/useExhaustiveDependencies: valuesKey stands for values
  useEffect(() => setDraft(values), [valuesKey]);

  const set = (key: string) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value || undefined });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    onChange(draft);
  };
  const jump = (event: FormEvent) => {
    event.preventDefault();
    const id = runId.trim();
    if (id) navigate(['runs', id]);
  };

  return (
    <div className="filters">
      <form onSubmit={apply} aria-label="Filter runs" className="filter-form">
        <label>
          Status
          <select value={draft.status ?? ''} onChange={set('status')}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select value={draft.workflow ?? ''} onChange={set('workflow')}>
            <option value="">Any</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group
          <input value={draft.group ?? ''} onChange={set('group')} placeholder="group id" />
        </label>
        <label>
          From
          <input type="date" value={draft.from ?? ''} onChange={set('from')} />
        </label>
        <label>
          To
          <input type="date" value={draft.to ?? ''} onChange={set('to')} />
        </label>
        <div className="filter-actions">
          <button type="submit">Filter</button>
          <button type="button" className="secondary" onClick={() => onChange({})}>
            Clear
          </button>
        </div>
      </form>
      <form onSubmit={jump} className="jump" aria-label="Go to a run">
        <label>
          Run id
          <input
            value={runId}
            onChange={(e) => setRunId(e.target.value)}
            placeholder="paste a run id"
            spellCheck={false}
          />
        </label>
        <button type="submit" className="secondary">
          Open
        </button>
      </form>
    </div>
  );
}
