import type { UseRunResult } from '@flowscale/react';

export function RunView({ run }: { run: Pick<UseRunResult, keyof UseRunResult> }) {
  if (run.status === 'idle' && !run.runId) {
    return (
      <section className="card empty">
        <p className="hint">Pick a workflow, add your inputs and press Run. Progress shows here live.</p>
      </section>
    );
  }
  const progress = Math.round(run.progress);
  return (
    <section className="card" aria-label="Run" data-testid="run" data-status={run.status}>
      <h2>
        Run{' '}
        <span className="status" data-status={run.status}>
          {run.status}
        </span>
      </h2>
      {run.runId && <p className="mono">{run.runId}</p>}
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={progress}>
        <div style={{ width: `${progress}%` }} />
      </div>
      <p className="hint">
        {progress}%{run.queuePosition !== null && ` · position ${run.queuePosition} in the queue`}
        {run.currentNode &&
          ` · running node ${run.currentNode.id}${run.currentNode.type ? ` (${run.currentNode.type})` : ''}`}
      </p>
      {run.isRunning && (
        <button type="button" className="secondary" onClick={() => void run.cancel()}>
          Cancel
        </button>
      )}
      {run.error && <p role="alert">{run.error.message}</p>}
      {run.outputs.map((output) =>
        output.url && output.contentType?.startsWith('image/') ? (
          <figure key={output.name}>
            <img src={output.url} alt={`Output ${output.name}`} data-testid="output-image" />
            <figcaption className="mono">{output.filename}</figcaption>
          </figure>
        ) : output.text !== undefined ? (
          <pre key={output.name} data-testid="output-text">
            {output.text}
          </pre>
        ) : output.url ? (
          <a key={output.name} href={output.url}>
            {output.filename}
          </a>
        ) : null,
      )}
    </section>
  );
}
