// @vitest-environment jsdom
import { act, cleanup, render, renderHook, waitFor } from '@testing-library/react';
import type { FlowscaleAPI } from 'flowscale';
import type { ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlowScaleProvider,
  type RunSnapshot,
  useExecuteWorkflow,
  useFlowScale,
  useRun,
  useWorkflows,
} from '../src/index';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());
afterEach(() => cleanup());

function wrapperFor(client: FlowscaleAPI) {
  return ({ children }: { children: ReactNode }) => (
    <FlowScaleProvider client={client}>{children}</FlowScaleProvider>
  );
}

const slow = (seconds: number) => ({ default_value_1: 'slow', value_4: seconds });

describe('useExecuteWorkflow', () => {
  it('exposes the inputs’ upload progress while submitting, ending at the whole body', async () => {
    const seen: RunSnapshot['upload'][] = [];
    const { result } = renderHook(
      () => {
        const run = useExecuteWorkflow('text-echo', { uploadProgress: true });
        seen.push(run.upload);
        return run;
      },
      { wrapper: wrapperFor(stack.browserClient()) },
    );
    expect(result.current.upload).toBeNull();
    // A 512 KiB text input: the multipart body is counted as it goes out.
    await act(async () => {
      await result.current.submit({ default_value_1: 'x'.repeat(512 * 1024) });
    });
    const uploads = seen.filter((u) => u !== null);
    expect(uploads.length).toBeGreaterThan(1);
    for (let i = 1; i < uploads.length; i++)
      expect(uploads[i]!.loaded).toBeGreaterThanOrEqual(uploads[i - 1]!.loaded);
    const last = result.current.upload!;
    expect(last.loaded).toBe(last.total);
    expect(last.loaded).toBeGreaterThan(512 * 1024);
    await waitFor(() => expect(result.current.status).toBe('completed'), { timeout: 30_000 });
  });

  it('shows status, live progress, the current node and the outputs', async () => {
    const seen: RunSnapshot[] = [];
    const { result } = renderHook(
      () => {
        const run = useExecuteWorkflow('slow-delay');
        seen.push(run);
        return run;
      },
      { wrapper: wrapperFor(stack.browserClient()) },
    );
    expect(result.current.status).toBe('idle');
    let runId: string | null = null;
    await act(async () => {
      runId = await result.current.submit(slow(1.5));
    });
    expect(runId).toBeTruthy();
    await waitFor(() => expect(result.current.status).toBe('completed'), { timeout: 15_000 });

    expect(result.current.progress).toBe(100);
    const running = seen.filter((s) => s.status === 'running');
    // Renders happened while the run was going, not just at the end.
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((s) => s.progress < 100)).toBe(true);
    expect(seen.some((s) => s.currentNode !== null)).toBe(true);
    const progress = seen.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    await waitFor(() => expect(result.current.outputs[0]?.text).toBeDefined());
    expect(result.current.error).toBeNull();
    expect((await stack.adminClient().getRun(runId!)).data.status).toBe('completed');
  });

  it('cancels the run', async () => {
    const { result } = renderHook(() => useExecuteWorkflow('slow-delay'), {
      wrapper: wrapperFor(stack.browserClient()),
    });
    await act(async () => {
      await result.current.submit(slow(20));
    });
    await waitFor(() => expect(result.current.status).toBe('running'), { timeout: 10_000 });
    await act(() => result.current.cancel());
    await waitFor(() => expect(result.current.status).toBe('cancelled'), { timeout: 10_000 });
    expect(result.current.isRunning).toBe(false);
    expect((await stack.adminClient().getRun(result.current.runId!)).data.status).toBe('cancelled');
  });

  it('reports a rejected submission as an error', async () => {
    const { result } = renderHook(() => useExecuteWorkflow('invert-image'), {
      wrapper: wrapperFor(stack.browserClient()),
    });
    await act(async () => {
      expect(await result.current.submit({})).toBeNull();
    });
    expect(result.current.status).toBe('failed');
    // The proxy's allow-list refused it.
    expect(result.current.error?.message).toMatch(/not allowed/);
  });

  it('closes the event stream on unmount', async () => {
    const { result, unmount } = renderHook(() => useExecuteWorkflow('slow-delay'), {
      wrapper: wrapperFor(stack.browserClient()),
    });
    await act(async () => {
      await result.current.submit(slow(20));
    });
    await waitFor(() => expect(result.current.connected).toBe(true), { timeout: 10_000 });
    // Streams of earlier tests may take a moment to finish closing.
    await waitFor(() => expect(stack.openStreams).toBe(1));
    const runId = result.current.runId!;
    unmount();
    // Closed all the way to the server (through the proxy), while the run is still going.
    await waitFor(() => expect(stack.openStreams).toBe(0), { timeout: 5_000 });
    const admin = stack.adminClient();
    expect((await admin.getRun(runId)).data.status).toBe('running');
    await admin.cancelRun(runId);
  });
});

describe('useRun', () => {
  it('resumes a run after a reload, replaying what it missed', async () => {
    const admin = stack.adminClient();
    const client = stack.browserClient();
    const { data } = await admin.executeWorkflow('slow-delay', slow(2));

    // First page load: follow a while, then "reload" (unmount everything).
    const first = renderHook(() => useRun(data.run_id), { wrapper: wrapperFor(client) });
    await waitFor(() => expect(first.result.current.status).toBe('running'), { timeout: 10_000 });
    const seqBeforeReload = first.result.current.lastSeq;
    first.unmount();
    await waitFor(() => expect(stack.openStreams).toBe(0));

    // After the reload only the run id is known; a fresh store replays from the first event.
    const seen: RunSnapshot[] = [];
    const second = renderHook(
      () => {
        const run = useRun(data.run_id);
        seen.push(run);
        return run;
      },
      { wrapper: wrapperFor(stack.browserClient()) },
    );
    await waitFor(() => expect(second.result.current.status).toBe('completed'), { timeout: 15_000 });
    expect(second.result.current.lastSeq).toBeGreaterThan(seqBeforeReload);
    expect(second.result.current.progress).toBe(100);
    await waitFor(() => expect(second.result.current.outputs[0]?.text).toBeDefined());
    expect(seen[0]?.runId).toBe(data.run_id);
  });

  it('shows a finished run in full and opens no stream afterwards', async () => {
    const admin = stack.adminClient();
    const done = await admin.executeWorkflowAsync('text-echo', { default_value_1: 'resumed' });
    const runs = await admin.getRuns(undefined, { pageSize: 1 });
    const runId = runs.data.runs[0]!._id;
    const { result } = renderHook(() => useRun(runId), { wrapper: wrapperFor(stack.browserClient()) });
    await waitFor(() => expect(result.current.status).toBe('completed'));
    await waitFor(() => expect(result.current.outputs[0]?.text).toBe(done.data[0]?.file_content));
    await waitFor(() => expect(stack.openStreams).toBe(0));
  });

  it('switches runs and stops with null', async () => {
    const admin = stack.adminClient();
    const a = (await admin.executeWorkflow('slow-delay', slow(20))).data.run_id;
    const { result, rerender } = renderHook(({ id }: { id: string | null }) => useRun(id), {
      initialProps: { id: a as string | null },
      wrapper: wrapperFor(stack.browserClient()),
    });
    await waitFor(() => expect(result.current.connected).toBe(true), { timeout: 10_000 });
    rerender({ id: null });
    expect(result.current.status).toBe('idle');
    await waitFor(() => expect(stack.openStreams).toBe(0));
    await admin.cancelRun(a);
  });
});

function Names() {
  const { workflows } = useWorkflows();
  return <p>{workflows?.map((w) => w.name).join(',') ?? 'loading'}</p>;
}

describe('useWorkflows and useFlowScale', () => {
  it('lists the workflows the proxy allows, fetched once for all components', async () => {
    const listCalls: string[] = [];
    const client = stack.browserClient((url) => {
      if (url.includes('/comfy/workflows')) listCalls.push(url);
    });
    const view = render(
      <FlowScaleProvider client={client}>
        <Names />
        <Names />
      </FlowScaleProvider>,
    );
    await waitFor(() => expect(view.queryAllByText(/slow-delay/)).toHaveLength(2));
    for (const p of view.getAllByRole('paragraph')) {
      expect(p.textContent?.split(',').sort()).toEqual(['slow-delay', 'text-echo']);
    }
    expect(listCalls).toHaveLength(1);
  });

  it('runs a workflow the way the FlowScale docs show', async () => {
    const { result } = renderHook(() => useFlowScale(), { wrapper: wrapperFor(stack.browserClient()) });
    expect(result.current.loading).toBe(false);
    let pending!: Promise<unknown>;
    act(() => {
      pending = result.current.executeWorkflow('text-echo', { default_value_1: 'hooks' });
    });
    expect(result.current.loading).toBe(true);
    let output: unknown;
    await act(async () => {
      output = await pending;
    });
    expect(result.current.loading).toBe(false);
    expect(output).toMatchObject({ status: 'success', data: [{ file_content: 'hooks from FlowScale' }] });

    await act(async () => {
      await result.current.executeWorkflow('invert-image', {}).catch(() => {});
    });
    expect(result.current.error?.message).toMatch(/not allowed/);
  });
});
