import type { EventSink } from './events';

interface NodeProgress {
  value: number;
  max: number;
  state: 'running' | 'finished';
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: null;
  real_node_id: string;
}

/** ComfyUI's progress_state: a cumulative snapshot of every started node, re-sent on each change. */
export class ProgressState {
  private readonly nodes: Record<string, NodeProgress> = {};

  constructor(
    private readonly sink: EventSink,
    private readonly promptId: string,
    private readonly clientId: string | undefined,
  ) {}

  update(nodeId: string, value: number, max: number, state: NodeProgress['state']): void {
    this.nodes[nodeId] = {
      value,
      max,
      state,
      node_id: nodeId,
      prompt_id: this.promptId,
      display_node_id: nodeId,
      parent_node_id: null,
      real_node_id: nodeId,
    };
    this.sink.send(
      'progress_state',
      { prompt_id: this.promptId, nodes: this.nodes },
      this.clientId,
      'clientOrAll',
    );
  }
}
