import { useWorkflows } from '@flowscale/react';
import type { WorkflowSummary } from 'flowscale';
import { useState } from 'react';
import { errorText, useSession } from '../auth';
import { Confirm, Empty, ErrorBox, Loading } from '../components/bits';
import { Deploy } from '../components/Deploy';
import { asText } from '../format';
import { href } from '../route';

const parseMap = (json: string): Array<[string, string]> => {
  try {
    return Object.entries(JSON.parse(json) as Record<string, string>);
  } catch {
    return [];
  }
};

/** Fields the server may add (fleet validation): shown when present, as text. */
function Runnable({ workflow }: { workflow: WorkflowSummary }) {
  const status = workflow.status ?? workflow.runnable;
  if (status === undefined) return null;
  const ok = status === true || status === 'runnable';
  const reasons = workflow.reasons ?? workflow.problems;
  return (
    <p className={ok ? 'ok' : 'warn'}>
      {ok ? 'The fleet can run it' : `Not runnable${reasons ? `: ${asText(reasons)}` : ''}`}
    </p>
  );
}

export function Workflows() {
  const { client, isAdmin } = useSession();
  const { workflows, loading, error, refetch } = useWorkflows();
  const [deleting, setDeleting] = useState<WorkflowSummary | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const remove = async (workflow: WorkflowSummary) => {
    setDeleting(null);
    try {
      await client.deleteWorkflow(workflow.id);
      setMessage(`Deleted ${workflow.name}. Its runs are kept.`);
      await refetch();
    } catch (err) {
      setFailure(errorText(err));
    }
  };

  return (
    <section aria-labelledby="workflows-title">
      <h1 id="workflows-title">Workflows</h1>
      {isAdmin && (
        <Deploy
          onDeployed={async (name) => {
            setMessage(`Deployed ${name}.`);
            await refetch();
          }}
        />
      )}
      {message && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      {failure && <ErrorBox>{failure}</ErrorBox>}
      {error && <ErrorBox>{errorText(error)}</ErrorBox>}
      {loading && !workflows && <Loading what="workflows" />}
      {workflows && workflows.length === 0 && <Empty>No workflows deployed yet.</Empty>}
      <ul className="cards">
        {(workflows ?? []).map((workflow) => (
          <li key={workflow.id} className="card" data-workflow={workflow.id}>
            <h2 className="clip">{workflow.name}</h2>
            {workflow.description && <p>{workflow.description}</p>}
            <Runnable workflow={workflow} />
            <dl className="io">
              <dt>Inputs</dt>
              <dd>
                {parseMap(workflow.inputs)
                  .map(([n, t]) => `${n}: ${t}`)
                  .join(', ') || 'none'}
              </dd>
              <dt>Outputs</dt>
              <dd>
                {parseMap(workflow.outputs)
                  .map(([n, t]) => `${n}: ${t}`)
                  .join(', ') || 'none'}
              </dd>
            </dl>
            <div className="actions">
              <a className="button" href={href(['workflows', workflow.id])}>
                Try it<span className="visually-hidden"> ({workflow.name})</span>
              </a>
              <a className="button secondary" href={href(['runs'], { workflow: workflow.id })}>
                Runs<span className="visually-hidden"> of {workflow.name}</span>
              </a>
              {isAdmin && (
                <button type="button" className="danger" onClick={() => setDeleting(workflow)}>
                  Delete<span className="visually-hidden"> {workflow.name}</span>
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {deleting && (
        <Confirm
          title="Delete this workflow?"
          confirmLabel="Delete workflow"
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(null)}
        >
          <p>
            <strong>{deleting.name}</strong> will no longer run. Its past runs and outputs are kept.
          </p>
        </Confirm>
      )}
    </section>
  );
}
