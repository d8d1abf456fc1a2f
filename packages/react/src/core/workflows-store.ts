import type { WorkflowSummary } from 'flowscale';
import { Store } from './store';
import type { FlowScaleClient } from './types';

export interface WorkflowsSnapshot {
  workflows: WorkflowSummary[] | undefined;
  loading: boolean;
  error: Error | null;
}

const INITIAL: WorkflowsSnapshot = Object.freeze({ workflows: undefined, loading: false, error: null });

/** The deployed workflows, fetched once when the first component asks and shared by all of them. */
export class WorkflowsStore extends Store<WorkflowsSnapshot> {
  protected state = INITIAL;
  private inflight: Promise<void> | null = null;

  constructor(private readonly client: FlowScaleClient) {
    super();
  }

  refetch = (): Promise<void> => {
    if (this.inflight) return this.inflight;
    this.setState({ ...this.state, loading: true, error: null });
    this.inflight = this.client
      .getWorkflows()
      .then(
        (response) => this.setState({ workflows: response.data, loading: false, error: null }),
        (error: unknown) =>
          this.setState({
            ...this.state,
            loading: false,
            error: error instanceof Error ? error : new Error(String(error)),
          }),
      )
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  };

  protected override onSubscribersChanged(count: number): void {
    if (count > 0 && this.state.workflows === undefined && !this.state.error) void this.refetch();
  }
}
