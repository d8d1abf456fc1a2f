import { isLink, type PromptGraph, type PromptNode } from './prompt';
import type { Registry } from './validate';

/**
 * ComfyUI's ExecutionList: nodes are added depth-first from the outputs (skipping cached inputs), and the
 * next node is picked among the ready ones with the same "output first" heuristic, so events come in
 * the same order as on a real ComfyUI.
 */
export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Set<string>>();

  constructor(
    private readonly prompt: PromptGraph,
    private readonly registry: Registry,
    private readonly isCached: (id: string) => boolean,
  ) {}

  addNode(start: string): void {
    const stack = [start];
    const links: [string, string][] = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Set());
      for (const value of Object.values(this.node(id).inputs)) {
        if (!isLink(value)) continue;
        const from = String(value[0]);
        if (!this.isCached(from)) stack.push(from);
        links.push([from, id]);
      }
    }
    for (const [from, to] of links) this.addLink(from, to);
  }

  private addLink(from: string, to: string): void {
    if (this.isCached(from)) return;
    const blocked = this.blocking.get(from) as Set<string>;
    if (blocked.has(to)) return;
    blocked.add(to);
    this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
  }

  private node(id: string): PromptNode {
    return this.prompt[id] as PromptNode;
  }

  private isOutput(id: string): boolean {
    return this.registry.get(this.node(id).class_type)?.outputNode === true;
  }

  /** The next node to run, or null when done. */
  next(): string | null {
    if (this.pending.size === 0) return null;
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    if (ready.length === 0) throw new Error('Dependency cycle detected');
    return this.pick(ready);
  }

  private pick(ready: string[]): string {
    const blocks = (id: string) => [...(this.blocking.get(id) ?? [])];
    return (
      ready.find((id) => this.isOutput(id)) ??
      ready.find((id) => blocks(id).some((b) => this.isOutput(b))) ??
      ready.find((id) => blocks(id).some((b) => blocks(b).some((c) => this.isOutput(c)))) ??
      (ready[0] as string)
    );
  }

  complete(id: string): void {
    this.pending.delete(id);
    for (const to of this.blocking.get(id) ?? []) {
      this.blockCount.set(to, (this.blockCount.get(to) ?? 1) - 1);
    }
  }
}
