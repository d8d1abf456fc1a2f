import type { RunRecord, WorkflowField } from 'flowscale';
import { useEffect, useState } from 'react';
import { fetchRunInput } from '../api';
import { useSession } from '../auth';
import { asText } from '../format';

export const FILE_TYPES = new Set(['image', 'video', 'audio', 'file']);

/** An uploaded input, fetched with the key and shown from a blob: URL. */
function FilePreview({
  runId,
  name,
  type,
  filename,
}: {
  runId: string;
  name: string;
  type: string;
  filename: string;
}) {
  const { apiKey } = useSession();
  const [url, setUrl] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let live = true;
    fetchRunInput(apiKey, runId, name).then((blob) => {
      if (!live) return;
      if (!blob) return setMissing(true);
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [apiKey, runId, name]);
  if (missing) return <span className="hint">(file no longer stored)</span>;
  if (!url) return <span className="loading">Loading…</span>;
  if (type === 'image') return <img className="input-preview" src={url} alt={`Input ${name}: ${filename}`} />;
  // biome-ignore lint/a11y/useMediaCaption: an uploaded input has no captions
  if (type === 'video') return <video className="input-preview" src={url} controls />;
  // biome-ignore lint/a11y/useMediaCaption: an uploaded input has no captions
  if (type === 'audio') return <audio src={url} controls />;
  return (
    <a href={url} download={filename}>
      Download {filename}
    </a>
  );
}

export function RunInputs({ run, schema }: { run: RunRecord; schema: WorkflowField[] | null }) {
  const inputs = run.inputs ?? [];
  const typeOf = (path: string) =>
    schema?.find((f) => f.name === path || (f as { alias?: string }).alias === path)?.type;
  return (
    <section className="panel" aria-labelledby="inputs-title">
      <h2 id="inputs-title">Inputs</h2>
      {inputs.length === 0 && <p className="empty">Defaults only: no inputs were sent.</p>}
      <dl className="inputs">
        {inputs.map((input) => {
          const type = typeOf(input.path) ?? '';
          return (
            <div key={input.path}>
              <dt className="mono">{input.path}</dt>
              <dd>
                <span className="value">{asText(input.value)}</span>
                {FILE_TYPES.has(type) && (
                  <FilePreview runId={run._id} name={input.path} type={type} filename={asText(input.value)} />
                )}
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}

/** The run's inputs as a form body again: values as sent, files fetched back from the server. */
export async function inputsForm(apiKey: string, run: RunRecord, schema: WorkflowField[]): Promise<FormData> {
  const form = new FormData();
  for (const input of run.inputs ?? []) {
    const type = schema.find((f) => f.name === input.path)?.type ?? 'string';
    if (FILE_TYPES.has(type) && !input.url) {
      const blob = await fetchRunInput(apiKey, run._id, input.path);
      if (!blob) throw new Error(`The file of input ${input.path} is no longer stored`);
      form.append(input.path, new File([blob], asText(input.value), { type: blob.type }));
    } else {
      form.append(input.path, input.url ?? asText(input.value));
    }
  }
  return form;
}
