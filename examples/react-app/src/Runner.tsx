import { useExecuteWorkflow, useRun, useWorkflows } from '@flowscale/react';
import type { WorkflowSummary } from 'flowscale';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { RunView } from './RunView';
import { putRunIdInUrl, runIdFromUrl } from './session';

type Field = { name: string; type: string };

function fieldsOf(workflow: WorkflowSummary | undefined): Field[] {
  if (!workflow) return [];
  try {
    return Object.entries(JSON.parse(workflow.inputs) as Record<string, string>).map(([name, type]) => ({
      name,
      type,
    }));
  } catch {
    return [];
  }
}

export function Runner() {
  const { workflows, loading, error } = useWorkflows();
  const [selected, setSelected] = useState('');
  const [preview, setPreview] = useState<string | null>(null);
  const execution = useExecuteWorkflow();
  // After a reload only the URL knows the run; useRun replays its events and follows it live.
  const [resumeId] = useState(runIdFromUrl);
  const resumed = useRun(execution.status === 'idle' ? resumeId : null);
  const run = execution.status === 'idle' ? resumed : execution;

  const workflow = workflows?.find((w) => w.id === selected || w.name === selected) ?? workflows?.[0];
  const fields = useMemo(() => fieldsOf(workflow), [workflow]);

  useEffect(() => {
    if (execution.runId) putRunIdInUrl(execution.runId);
  }, [execution.runId]);
  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!workflow) return;
    const form = new FormData(event.currentTarget);
    const inputs: Record<string, unknown> = {};
    for (const field of fields) {
      const value = form.get(field.name);
      if (value instanceof File) {
        if (value.size > 0) inputs[field.name] = value;
      } else if (value !== null && value !== '') {
        inputs[field.name] = field.type === 'integer' || field.type === 'number' ? Number(value) : value;
      }
    }
    void execution.submit(inputs, { workflowId: workflow.id });
  };

  if (error) return <p role="alert">Could not load workflows: {error.message}</p>;
  if (loading || !workflows) return <p className="hint">Loading workflows…</p>;

  return (
    <div className="layout">
      <form className="card" onSubmit={submit} aria-label="Run a workflow">
        <h2>Run a workflow</h2>
        <label>
          Workflow
          <select
            name="workflow"
            value={workflow?.id ?? ''}
            onChange={(e) => {
              setSelected(e.target.value);
              setPreview(null);
            }}
          >
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        {workflow?.description && <p className="hint">{workflow.description}</p>}
        {fields.map((field) =>
          field.type === 'image' ? (
            <label key={field.name}>
              {field.name} <span className="type">image</span>
              <input
                type="file"
                name={field.name}
                accept="image/*"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  setPreview(file ? URL.createObjectURL(file) : null);
                }}
              />
            </label>
          ) : (
            <label key={field.name}>
              {field.name} <span className="type">{field.type}</span>
              <input
                name={field.name}
                type={field.type === 'integer' || field.type === 'number' ? 'number' : 'text'}
                step={field.type === 'number' ? 'any' : undefined}
              />
            </label>
          ),
        )}
        {preview && <img className="preview" src={preview} alt="Selected input" />}
        <button type="submit" disabled={execution.isRunning}>
          {execution.isRunning ? 'Running…' : 'Run'}
        </button>
      </form>
      <RunView run={run} />
    </div>
  );
}
