import { type FormEvent, useState } from 'react';
import { errorText, useSession } from '../auth';
import { DropZone } from './DropZone';

const UI_FORMAT =
  'This is a ComfyUI UI-format workflow (it has "nodes" and "links"). The server needs the API format: in ' +
  'ComfyUI, open the workflow and use Workflow → Export (API), or "Save (API Format)" with dev mode on, then drop that file here.';

/** What a dropped file holds: an API-format graph, or the reason it is refused. */
export function readWorkflowFile(text: string): { graph: Record<string, unknown> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'That file is not JSON.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { problem: 'A workflow is a JSON object of nodes.' };
  }
  const graph = parsed as Record<string, unknown>;
  if (Array.isArray(graph.nodes) && Array.isArray(graph.links)) return { problem: UI_FORMAT };
  return { graph };
}

/** Deploy by dropping an API-format JSON (admin keys only). */
export function Deploy({ onDeployed }: { onDeployed: (name: string) => Promise<void> }) {
  const { client } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [graph, setGraph] = useState<Record<string, unknown> | null>(null);
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const onFile = async (chosen: File | null) => {
    setFile(chosen);
    setGraph(null);
    setProblem(null);
    if (!chosen) return;
    const result = readWorkflowFile(await chosen.text());
    if ('problem' in result) return setProblem(result.problem);
    setGraph(result.graph);
    setName(chosen.name.replace(/\.json$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-'));
  };

  const deploy = async (event: FormEvent) => {
    event.preventDefault();
    if (!graph) return;
    setBusy(true);
    setProblem(null);
    try {
      await client.deployWorkflow({ name: name.trim(), workflow: graph });
      setFile(null);
      setGraph(null);
      setName('');
      await onDeployed(name.trim());
    } catch (err) {
      setProblem(`Not deployed: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel deploy" onSubmit={deploy} aria-labelledby="deploy-title">
      <h2 id="deploy-title">Deploy a workflow</h2>
      <DropZone
        label="Workflow file (API format JSON)"
        name="workflow-file"
        accept=".json,application/json"
        file={file}
        onFile={(f) => void onFile(f)}
        hint='Drop a ComfyUI workflow exported with "Save (API Format)".'
      />
      {problem && (
        <p className="error" role="alert" data-testid="deploy-problem">
          {problem}
        </p>
      )}
      {graph && (
        <div className="row">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <button type="submit" disabled={busy || !name.trim()}>
            {busy ? 'Deploying…' : 'Deploy'}
          </button>
        </div>
      )}
    </form>
  );
}
