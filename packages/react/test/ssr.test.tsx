import { FlowscaleAPI } from 'flowscale';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FlowScaleProvider, useExecuteWorkflow, useRun, useWorkflows } from '../src/index';

function Page() {
  const run = useExecuteWorkflow('text-echo');
  const resumed = useRun('run-123');
  const { loading, workflows } = useWorkflows();
  return (
    <p>
      {run.status}/{resumed.runId}/{resumed.status}/{String(loading)}/{String(workflows)}
    </p>
  );
}

describe('server rendering', () => {
  it('renders the initial state without touching the network or window', () => {
    let calls = 0;
    const client = new FlowscaleAPI({
      baseUrl: 'http://127.0.0.1:9',
      proxyMode: true,
      enableLogging: false,
      fetchImpl: async () => {
        calls++;
        throw new Error('no network during SSR');
      },
    });
    expect(typeof window).toBe('undefined');
    const html = renderToString(
      <FlowScaleProvider client={client}>
        <Page />
      </FlowScaleProvider>,
    );
    expect(html.replaceAll('<!-- -->', '')).toBe('<p>idle/run-123/idle/false/undefined</p>');
    expect(calls).toBe(0);
  });
});
