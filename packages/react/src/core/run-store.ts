import type { RunEvent, WorkflowInput } from 'flowscale';
import { reduceRunEvent } from './reduce';
import { Store } from './store';
import { type FlowScaleClient, IDLE_RUN, isTerminal, type RunOutput, type RunSnapshot } from './types';

interface StreamHandle {
  close(): void;
}

/**
 * Follows one run through its SSE event stream. The stream is open only while someone subscribes
 * and the run is unfinished; every (re)open replays from the event after the last one applied, so
 * an unmount/remount or a page reload resumes without losing events (dropped connections are
 * resumed by the SDK itself).
 */
export class RunStore extends Store<RunSnapshot> {
  protected state: RunSnapshot;
  private stream: StreamHandle | null = null;
  private generation = 0;

  constructor(
    private readonly client: FlowScaleClient,
    runId: string | null = null,
  ) {
    super();
    this.state = runId ? { ...IDLE_RUN, runId } : IDLE_RUN;
  }

  /** Starts a run and follows it. Resolves to the run id, or null when submitting failed (see `error`). */
  async submit(
    workflowId: string,
    inputs: Record<string, unknown>,
    groupId?: string,
    trackUpload = false,
  ): Promise<string | null> {
    const generation = this.reset({ ...IDLE_RUN, status: 'submitting' });
    // Opt-in: in a browser, progress means sending this request with XMLHttpRequest rather than fetch.
    const onUploadProgress = trackUpload
      ? (upload: RunSnapshot['upload']) => {
          if (generation === this.generation) this.setState({ ...this.state, upload });
        }
      : undefined;
    try {
      const response = await this.client.executeWorkflow(workflowId, inputs as WorkflowInput, groupId, {
        onUploadProgress,
      });
      const runId = response.data.run_id;
      if (generation !== this.generation) return runId; // superseded by a newer submit/follow
      this.setState({ ...this.state, runId, status: 'queued' });
      this.sync();
      return runId;
    } catch (error) {
      if (generation === this.generation)
        this.setState({ ...this.state, status: 'failed', error: toError(error) });
      return null;
    }
  }

  /** Follows an existing run (replaying its events from the start), or stops following with null. */
  follow(runId: string | null): void {
    if (runId === this.state.runId) return;
    this.reset(runId ? { ...IDLE_RUN, runId } : IDLE_RUN);
    this.sync();
  }

  /** Asks the server to cancel the run; the stream then reports `cancelled`. */
  async cancel(): Promise<void> {
    const { runId, status } = this.state;
    if (!runId || isTerminal(status)) return;
    try {
      await this.client.cancelRun(runId);
    } catch (error) {
      // 409: it finished first; the stream tells the real outcome.
      if ((error as { status?: number }).status !== 409)
        this.setState({ ...this.state, error: toError(error) });
    }
  }

  protected override onSubscribersChanged(): void {
    this.sync();
  }

  private reset(next: RunSnapshot): number {
    this.closeStream();
    this.setState(next);
    return ++this.generation;
  }

  /** Opens or closes the stream so it is open exactly when it is useful. */
  private sync(): void {
    const { runId, status } = this.state;
    const wanted =
      this.subscriberCount > 0 && runId !== null && status !== 'submitting' && !isTerminal(status);
    if (!wanted) this.closeStream();
    else if (!this.stream) this.open(runId);
  }

  private open(runId: string): void {
    const generation = this.generation;
    const current = () => generation === this.generation && this.stream === handle;
    // The SDK reconnects and resumes by itself; it reports only a stream that failed for good.
    const handle: StreamHandle = this.client.subscribeRunEvents(runId, {
      fromSeq: this.state.lastSeq + 1,
      onOpen: () => {
        if (current() && !this.state.connected) this.setState({ ...this.state, connected: true });
      },
      onEvent: (message) => {
        if (current() && message.data.run_id === runId) this.apply(message.data);
      },
      onError: (error) => {
        if (current()) this.setState({ ...this.state, error: toError(error) });
      },
      onClose: () => {
        if (!current()) return;
        this.stream = null;
        if (this.state.connected) this.setState({ ...this.state, connected: false });
      },
    });
    this.stream = handle;
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = null;
    stream?.close();
    if (this.state.connected) this.setState({ ...this.state, connected: false });
  }

  private apply(event: RunEvent): void {
    const before = this.state;
    const next = reduceRunEvent(before, event);
    if (next === before) return;
    this.setState(next);
    for (const output of next.outputs) {
      if (!before.outputs.some((o) => o.name === output.name)) void this.resolveOutput(output);
    }
    if (isTerminal(next.status)) this.sync();
  }

  /** Fetches the download URL (files) or content (text) of an output as soon as it is ready. */
  private async resolveOutput(output: RunOutput): Promise<void> {
    const generation = this.generation;
    try {
      const response = await this.client.getOutput(output.name);
      const data = response?.data;
      if (!data || generation !== this.generation) return;
      const resolved: Partial<RunOutput> = {
        ...(data.download_url ? { url: data.download_url } : {}),
        ...(typeof data.file_content === 'string' ? { text: data.file_content } : {}),
      };
      const outputs = this.state.outputs.map((o) => (o.name === output.name ? { ...o, ...resolved } : o));
      this.setState({ ...this.state, outputs });
    } catch (error) {
      if (generation === this.generation) this.setState({ ...this.state, error: toError(error) });
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
