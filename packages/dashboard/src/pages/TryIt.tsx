import { FlowScaleError, type WorkflowDetail } from 'flowscale';
import { type FormEvent, useEffect, useState } from 'react';
import { submitRun, type UploadProgress } from '../api';
import { errorText, useSession } from '../auth';
import { ErrorBox, Loading, ProgressBar } from '../components/bits';
import { type Field, InputField } from '../components/InputField';
import { bytes } from '../format';
import { href } from '../route';
import { RunDetail } from './RunDetail';

type Value = string | boolean | File | null;

const initialValues = (fields: Field[]): Record<string, Value> =>
  Object.fromEntries(
    fields.map((f) => [
      f.name,
      f.type === 'boolean'
        ? f.default === true
        : f.default !== undefined && f.choices
          ? String(f.default)
          : null,
    ]),
  );

/** A form generated from the workflow's input_schema; submits, then follows the run right here. */
export function TryIt({ workflowId }: { workflowId: string }) {
  const { client, apiKey, signOut } = useSession();
  const [workflow, setWorkflow] = useState<WorkflowDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, Value>>({});
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);

  useEffect(() => {
    client.getWorkflow(workflowId).then(
      (response) => {
        setWorkflow(response.data);
        setValues(initialValues(response.data.input_schema as Field[]));
      },
      (err) =>
        setLoadError(
          err instanceof FlowScaleError && err.status === 404 ? `No workflow ${workflowId}.` : errorText(err),
        ),
    );
  }, [client, workflowId]);

  if (loadError) return <ErrorBox>{loadError}</ErrorBox>;
  if (!workflow) return <Loading what="the workflow" />;
  const fields = workflow.input_schema as Field[];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const form = new FormData();
    for (const field of fields) {
      const value = values[field.name];
      // Empty means "use the default": the field is left out.
      if (value instanceof File) form.append(field.name, value, value.name);
      else if (typeof value === 'boolean') form.append(field.name, String(value));
      else if (value !== null && value !== undefined && value !== '') form.append(field.name, value);
    }
    setSubmitError(null);
    setRunId(null);
    setUpload({ loaded: 0, total: 0 });
    try {
      const id = await submitRun(apiKey, workflow.id, form, setUpload, (m) => signOut(`Signed out: ${m}`));
      setRunId(id);
    } catch (err) {
      setSubmitError(errorText(err));
    } finally {
      setUpload(null);
    }
  };

  return (
    <section aria-labelledby="try-title">
      <p>
        <a href={href(['workflows'])}>← Workflows</a>
      </p>
      <h1 id="try-title">
        Try <span className="clip">{workflow.name}</span>
      </h1>
      {workflow.description && <p>{workflow.description}</p>}
      <form className="panel try-form" onSubmit={submit} aria-label={`Inputs of ${workflow.name}`}>
        {fields.length === 0 && <p className="empty">This workflow takes no inputs.</p>}
        {fields.map((field) => (
          <InputField
            key={field.name}
            field={field}
            value={values[field.name] ?? null}
            onChange={(value) => setValues((current) => ({ ...current, [field.name]: value }))}
          />
        ))}
        <div className="actions">
          <button type="submit" disabled={upload !== null}>
            {upload ? 'Uploading…' : 'Run'}
          </button>
          {upload && upload.total > 0 && (
            <div className="upload" data-testid="upload-progress">
              <ProgressBar value={(upload.loaded / upload.total) * 100} label="Upload progress" />
              <span className="num">
                {bytes(upload.loaded)} of {bytes(upload.total)}
              </span>
            </div>
          )}
        </div>
        {submitError && <ErrorBox>{submitError}</ErrorBox>}
      </form>
      {runId && <RunDetail key={runId} runId={runId} embedded />}
    </section>
  );
}
