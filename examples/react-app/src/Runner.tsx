import { useExecuteWorkflow, useFlowScaleClient, useRun, useWorkflows } from '@flowscale/react';
import type { WorkflowField, WorkflowSummary } from 'flowscale';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { RunView } from './RunView';
import { putRunIdInUrl, runIdFromUrl } from './session';

type Field = { name: string; type: string; alias?: string; default?: unknown; description?: string };

/** The form's fields from the workflow's input_schema: the label is the alias, when the manifest gives one. */
const fromSchema = (schema: WorkflowField[]): Field[] =>
  schema.map((f) => ({
    name: f.alias ?? f.name,
    type: f.type,
    alias: f.alias,
    default: f.default,
    description: f.description ?? undefined,
  }));

/** The summary's bare `{ name: type }` map, until the full schema arrives. */
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

const expired = 'Your session has expired or was refused; please sign in again.';

/** The session was refused (HTTP 401): the page goes back to sign-in, saying why. */
const isUnauthorized = (error: unknown): boolean => (error as { status?: number } | null)?.status === 401;

export function Runner({ onUnauthorized }: { onUnauthorized: (message: string) => void }) {
  const client = useFlowScaleClient();
  const { workflows, loading, error } = useWorkflows();
  const [selected, setSelected] = useState('');
  const [preview, setPreview] = useState<string | null>(null);
  const execution = useExecuteWorkflow();
  // After a reload only the URL knows the run; useRun replays its events and follows it live.
  const [resumeId] = useState(runIdFromUrl);
  const resumed = useRun(execution.status === 'idle' ? resumeId : null);
  const run = execution.status === 'idle' ? resumed : execution;

  const workflow = workflows?.find((w) => w.id === selected || w.name === selected) ?? workflows?.[0];
  // The inputs show once the workflow's input_schema is here, defaults filled in (or, if it cannot be read,
  // the summary's bare fields). Shown earlier, a default arriving late landed in a field being typed in:
  // "3" typed as the default 2 arrived became 32.
  const [schema, setSchema] = useState<{ id: string; fields: Field[] | null } | null>(null);
  const schemaReady = !!workflow && schema?.id === workflow.id;
  const fields = useMemo(
    () => (schemaReady ? (schema?.fields ?? fieldsOf(workflow)) : []),
    [schemaReady, schema, workflow],
  );

  useEffect(() => {
    if (!workflow) return;
    let live = true;
    client.getWorkflow(workflow.id).then(
      ({ data }) => live && setSchema({ id: workflow.id, fields: fromSchema(data.input_schema ?? []) }),
      (err: unknown) => {
        if (!live) return;
        if (isUnauthorized(err)) onUnauthorized(expired);
        else setSchema({ id: workflow.id, fields: null });
      },
    );
    return () => {
      live = false;
    };
  }, [client, workflow, onUnauthorized]);

  const refused = [error, execution.error, resumed.error].some(isUnauthorized);
  useEffect(() => {
    if (refused) onUnauthorized(expired);
  }, [refused, onUnauthorized]);

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
        {!schemaReady && <p className="hint">Loading inputs…</p>}
        {fields.map((field) =>
          field.type === 'image' ? (
            <label key={field.name} title={field.description}>
              {field.name} <span className="type">image</span>
              {field.description && <span className="hint">{field.description}</span>}
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
            <label key={field.name} title={field.description}>
              {field.name} <span className="type">{field.type}</span>
              {field.description && <span className="hint">{field.description}</span>}
              <input
                name={field.name}
                type={field.type === 'integer' || field.type === 'number' ? 'number' : 'text'}
                step={field.type === 'number' ? 'any' : undefined}
                placeholder={field.default === undefined ? undefined : String(field.default)}
                defaultValue={field.default === undefined ? undefined : String(field.default)}
              />
            </label>
          ),
        )}
        {preview && <img className="preview" src={preview} alt="Selected input" />}
        <button type="submit" disabled={execution.isRunning || !schemaReady}>
          {execution.isRunning ? 'Running…' : 'Run'}
        </button>
        {execution.status === 'submitting' && execution.upload?.total ? (
          <progress aria-label="Upload" max={execution.upload.total} value={execution.upload.loaded} />
        ) : null}
      </form>
      <RunView run={run} />
    </div>
  );
}
