import { type RunOutput, useRun } from '@flowscale/react';
import { FlowScaleError, type RunRecord, type WorkflowDetail } from 'flowscale';
import { useEffect, useState } from 'react';
import { submitRun } from '../api';
import { errorText, useSession } from '../auth';
import { ErrorBox, Loading, ProgressBar, StatusBadge } from '../components/bits';
import { inputsForm, RunInputs } from '../components/Inputs';
import { OutputGallery } from '../components/Outputs';
import { RunTimes } from '../components/RunTimes';
import { Timeline, useRunEvents } from '../components/Timeline';
import { href, navigate } from '../route';

/** The run record, read again whenever the live status changes (for times, error details and URLs). */
function useRunRecord(runId: string, status: string) {
  const { client } = useSession();
  const [run, setRun] = useState<RunRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: status changes are when the record changes
  useEffect(() => {
    let live = true;
    client.getRun(runId).then(
      (response) => live && setRun(response.data),
      (err) => {
        if (!live) return;
        setError(err instanceof FlowScaleError && err.status === 404 ? `No run ${runId}.` : errorText(err));
      },
    );
    return () => {
      live = false;
    };
  }, [client, runId, status]);
  return { run, error };
}

function useWorkflow(workflowId: string | undefined) {
  const { client } = useSession();
  const [workflow, setWorkflow] = useState<WorkflowDetail | null>(null);
  useEffect(() => {
    if (!workflowId) return;
    client.getWorkflow(workflowId).then(
      (response) => setWorkflow(response.data),
      () => setWorkflow(null),
    );
  }, [client, workflowId]);
  return workflow;
}

/** Live outputs (with their text) joined with the record's (with a download URL for every file). */
function mergeOutputs(live: RunOutput[], run: RunRecord | null): RunOutput[] {
  const recorded = run?.outputs ?? [];
  const names = new Set(live.map((o) => o.name));
  const merged = live.map((o) => {
    const r = recorded.find((x) => x.filename === o.filename);
    return r?.url ? { ...o, url: o.url ?? r.url, contentType: o.contentType ?? r.content_type } : o;
  });
  for (const r of recorded) {
    const name = (r as { name?: string }).name ?? r.filename;
    if (!names.has(name) && !merged.some((o) => o.filename === r.filename)) {
      merged.push({
        name,
        filename: r.filename,
        ...(r.url ? { url: r.url } : {}),
        ...(r.content_type ? { contentType: r.content_type } : {}),
        ...(r.size !== undefined ? { size: r.size } : {}),
      });
    }
  }
  return merged;
}

export function RunDetail({ runId, embedded = false }: { runId: string; embedded?: boolean }) {
  const { apiKey, signOut } = useSession();
  const live = useRun(runId);
  const { run, error } = useRunRecord(runId, live.status);
  const timeline = useRunEvents(runId);
  const workflow = useWorkflow(run?.workflow_id);
  const [action, setAction] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  if (error) return <ErrorBox>{error}</ErrorBox>;
  const status = live.status === 'idle' ? String(run?.status ?? 'loading') : live.status;
  const runError = run?.error ?? null;
  const outputs = mergeOutputs(live.outputs, run);

  const rerun = async () => {
    if (!run || !workflow) return;
    setAction('Submitting…');
    setActionError(null);
    try {
      const form = await inputsForm(apiKey, run, workflow.input_schema);
      const id = await submitRun(
        apiKey,
        workflow.id,
        form,
        () => undefined,
        (m) => signOut(`Signed out: ${m}`),
      );
      navigate(['runs', id]);
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setAction(null);
    }
  };
  const cancel = async () => {
    setAction('Cancelling…');
    await live.cancel();
    setAction(null);
  };

  const Heading = embedded ? 'h2' : 'h1';
  return (
    <article className="run" data-testid="run" data-status={status} aria-labelledby="run-title">
      <div className="page-head">
        <Heading id="run-title">
          Run <span className="mono">{runId.slice(0, 8)}</span>
          {workflow && <span className="sub"> · {workflow.name}</span>}
        </Heading>
        <StatusBadge status={status} />
      </div>
      <p className="mono small-print">{runId}</p>
      <div className="progress-block" aria-live="polite">
        <ProgressBar value={live.progress} label="Run progress" />
        <p className="progress-text num">
          <span>{Math.round(live.progress)}%</span>
          <span data-testid="current-node">
            {live.currentNode
              ? `Running node ${live.currentNode.id}${live.currentNode.type ? ` (${live.currentNode.type})` : ''}`
              : status === 'queued' && live.queuePosition !== null
                ? `Queued: ${live.queuePosition === 0 ? 'next in line' : `${live.queuePosition} ahead`}`
                : ' '}
          </span>
        </p>
      </div>
      <RunTimes run={run} events={timeline.events} />
      <div className="actions">
        {live.isRunning && (
          <button type="button" className="danger" onClick={cancel} disabled={action !== null}>
            Cancel run
          </button>
        )}
        <button
          type="button"
          className="secondary"
          onClick={rerun}
          disabled={!run || !workflow || action !== null}
        >
          Run again with these inputs
        </button>
        {embedded && <a href={href(['runs', runId])}>Open the run page</a>}
        {action && <span role="status">{action}</span>}
      </div>
      {actionError && <ErrorBox>{actionError}</ErrorBox>}
      {status === 'failed' && (
        <div className="failure" role="alert" data-testid="run-error">
          <h2>Failed</h2>
          <p>{runError?.message ?? live.error?.message ?? 'The run failed.'}</p>
          {runError?.node_id && (
            <p>
              At node <span className="mono">{runError.node_id}</span>
              {runError.node_type && (
                <>
                  {' '}
                  (class <span className="mono">{runError.node_type}</span>)
                </>
              )}
            </p>
          )}
        </div>
      )}
      <div className="two-panel">
        <Timeline events={timeline.events} error={timeline.error} />
        <div>
          <section className="panel" aria-labelledby="outputs-title">
            <h2 id="outputs-title">Outputs</h2>
            <OutputGallery outputs={outputs} pending={live.isRunning || status === 'loading'} />
          </section>
          {run ? <RunInputs run={run} schema={workflow?.input_schema ?? null} /> : <Loading what="the run" />}
        </div>
      </div>
    </article>
  );
}
