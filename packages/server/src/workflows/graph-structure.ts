import type { ComfyGraph, ComfyInputValue, GraphProblem } from './types';

/**
 * Checks that need no backend: every link points at a node of the graph, and the links form no cycle.
 * A link is ComfyUI's `[source node id, output slot]`.
 */

export const isLinkValue = (value: ComfyInputValue | undefined): value is [string, number] =>
  Array.isArray(value) &&
  value.length === 2 &&
  (typeof value[0] === 'string' || typeof value[0] === 'number') &&
  typeof value[1] === 'number';

const where = (graph: ComfyGraph, id: string): Pick<GraphProblem, 'node_id' | 'class_type'> => ({
  node_id: id,
  class_type: graph[id]?.class_type ?? '?',
});

const label = (graph: ComfyGraph, id: string): string => `node ${id} (${graph[id]?.class_type ?? '?'})`;

/** A UI-format save (`{nodes: [...], links: [...]}`) is not a graph the API can run. */
export function uiFormatProblem(workflow: unknown): GraphProblem | undefined {
  if (typeof workflow !== 'object' || workflow === null) return undefined;
  const { nodes, links } = workflow as Record<string, unknown>;
  if (!Array.isArray(nodes) || !Array.isArray(links)) return undefined;
  return {
    kind: 'ui_format',
    message:
      'this is a ComfyUI UI-format workflow ({"nodes": [...], "links": [...]}); in ComfyUI use ' +
      'Workflow → Export (API) or "Save (API Format)" and deploy that file',
  };
}

/** Links to nodes not in the graph, malformed links, and cycles. */
export function structureProblems(graph: ComfyGraph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const [id, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs ?? {})) {
      if (!Array.isArray(value)) continue;
      if (!isLinkValue(value) || !Number.isInteger(value[1]) || value[1] < 0) {
        problems.push({
          kind: 'bad_link',
          ...where(graph, id),
          input,
          message: `${label(graph, id)}: input ${input} is ${JSON.stringify(value)}, not a link [node id, output slot]`,
        });
      } else if (!Object.hasOwn(graph, String(value[0]))) {
        problems.push({
          kind: 'missing_node',
          ...where(graph, id),
          input,
          message: `${label(graph, id)}: input ${input} links to node ${value[0]}, which is not in the workflow`,
        });
      }
    }
  }
  return [...problems, ...cycleProblems(graph)];
}

/** The links of a node that point at nodes of the graph, as [input, source id]. */
const linksOf = (graph: ComfyGraph, id: string): Array<[string, string]> =>
  Object.entries(graph[id]?.inputs ?? {}).flatMap(([input, value]) =>
    isLinkValue(value) && Object.hasOwn(graph, String(value[0])) ? [[input, String(value[0])]] : [],
  ) as Array<[string, string]>;

/**
 * Each cycle once, named by its path and reported at the link that closes it. Depth-first without
 * recursion, so a long chain of nodes cannot exhaust the stack.
 */
function cycleProblems(graph: ComfyGraph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const root of Object.keys(graph)) {
    if (state.has(root)) continue;
    const stack: Array<{ id: string; links: Array<[string, string]>; next: number }> = [];
    const enter = (id: string) => {
      state.set(id, 'open');
      stack.push({ id, links: linksOf(graph, id), next: 0 });
    };
    enter(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const link = frame.links[frame.next++];
      if (!link) {
        state.set(frame.id, 'done');
        stack.pop();
        continue;
      }
      const [input, source] = link;
      if (state.get(source) === 'open') {
        const path = stack.map((entry) => entry.id);
        const cycle = [...path.slice(path.indexOf(source)), source];
        problems.push({
          kind: 'cycle',
          ...where(graph, frame.id),
          input,
          message: `${label(graph, frame.id)}: input ${input} closes a cycle ${cycle.join(' → ')}`,
        });
      } else if (!state.has(source)) enter(source);
    }
  }
  return problems;
}
