import { isLink, type PromptGraph } from './prompt';

export interface Walk {
  /** Reached nodes, each after every node it links to (dependencies first). */
  order: string[];
  /** Links "from->to" that close a cycle. */
  backEdges: Set<string>;
}

function linkedIds(prompt: PromptGraph, id: string): string[] {
  const node = prompt[id];
  if (!node) return [];
  const ids: string[] = [];
  for (const value of Object.values(node.inputs)) {
    if (isLink(value) && Object.hasOwn(prompt, String(value[0]))) ids.push(String(value[0]));
  }
  return ids;
}

/**
 * Iterative depth-first walk up the links from `starts` (no recursion, so a 10000-node chain cannot
 * overflow the stack). `state` can be shared between walks so nodes are visited once.
 */
export function walkUpstream(
  prompt: PromptGraph,
  starts: readonly string[],
  state = new Map<string, 'open' | 'done'>(),
): Walk {
  const order: string[] = [];
  const backEdges = new Set<string>();
  for (const start of starts) {
    if (state.has(start) || !Object.hasOwn(prompt, start)) continue;
    const stack: { id: string; next: string[] }[] = [{ id: start, next: linkedIds(prompt, start) }];
    state.set(start, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: string[] };
      const child = top.next.shift();
      if (child === undefined) {
        stack.pop();
        state.set(top.id, 'done');
        order.push(top.id);
      } else if (state.get(child) === 'open') {
        backEdges.add(`${top.id}->${child}`);
      } else if (!state.has(child)) {
        state.set(child, 'open');
        stack.push({ id: child, next: linkedIds(prompt, child) });
      }
    }
  }
  return { order, backEdges };
}
