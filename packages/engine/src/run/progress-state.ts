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

/** Finished nodes kept in each snapshot; older ones are dropped so huge prompts stay linear. */
const MAX_FINISHED = 32;

/**
 * ComfyUI's progress_state: a cumulative snapshot of started nodes, re-sent on each change. Unlike
 * ComfyUI it keeps only the latest finished nodes, so a 3000-node prompt does not send O(n²) data.
 */
export class ProgressState {
  private readonly nodes = new Map<string, NodeProgress>();
  private finished = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly promptId: string,
    private readonly clientId: string | undefined,
  ) {}

  update(nodeId: string, value: number, max: number, state: NodeProgress['state']): void {
    if (this.nodes.get(nodeId)?.state === 'finished') this.finished--;
    // Map keeps the order in which nodes started, as ComfyUI's dict does.
    this.nodes.set(nodeId, {
      value,
      max,
      state,
      node_id: nodeId,
      prompt_id: this.promptId,
      display_node_id: nodeId,
      parent_node_id: null,
      real_node_id: nodeId,
    });
    if (state === 'finished') this.finished++;
    this.dropOldFinished();
    const nodes = Object.fromEntries(this.nodes);
    this.sink.send('progress_state', { prompt_id: this.promptId, nodes }, this.clientId, 'clientOrAll');
  }

  private dropOldFinished(): void {
    for (const [id, node] of this.nodes) {
      if (this.finished <= MAX_FINISHED) return;
      if (node.state !== 'finished') continue;
      this.nodes.delete(id);
      this.finished--;
    }
  }
}
