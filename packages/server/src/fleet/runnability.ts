import { structureProblems } from '../workflows/graph-structure';
import type { ComfyGraph, GraphProblem, Runnability } from '../workflows/types';
import { type BackendProblem, checkGraph } from './check-graph';
import type { KnownBackend } from './fleet';

export interface FleetView {
  known(): KnownBackend[];
  modelFolderOf(classType: string, input: string): string | undefined;
}

const keyOf = (problem: BackendProblem): string =>
  [problem.kind, problem.node_id, problem.input ?? '', problem.missing ?? problem.detail].join('\0');

const prefix = (problem: BackendProblem): string =>
  `node ${problem.node_id} (${problem.class_type}): ${problem.input ? `input ${problem.input}: ` : ''}`;

/**
 * Judges a graph against the fleet. Structure (links, cycles) is always checked. The rest is checked
 * against each backend whose inventory is known: the graph is `runnable` when at least one of them has
 * everything it needs; `unknown` when no inventory has been read yet (the server starting while its
 * backends are still down), so a deploy is never refused for want of information.
 */
export function judgeGraph(graph: ComfyGraph, fleet: FleetView, apiInputs: ReadonlySet<string>): Runnability {
  const structural = structureProblems(graph);
  if (structural.length > 0) return { status: 'not_runnable', problems: structural, backends: [] };
  const known = fleet.known();
  if (known.length === 0) return { status: 'unknown', problems: [], backends: [] };
  const options = { modelFolderOf: fleet.modelFolderOf.bind(fleet), apiInputs };
  const verdicts = known.map(({ backend, inventory }) => ({
    name: backend.name,
    problems: checkGraph(graph, inventory, options),
  }));
  const able = verdicts.filter((verdict) => verdict.problems.length === 0).map((verdict) => verdict.name);
  if (able.length > 0) return { status: 'runnable', problems: [], backends: able };
  return { status: 'not_runnable', problems: mergeProblems(verdicts), backends: [] };
}

/** One problem per distinct thing lacking, saying whether every backend lacks it or which ones do. */
function mergeProblems(verdicts: Array<{ name: string; problems: BackendProblem[] }>): GraphProblem[] {
  const seen = new Map<string, { problem: BackendProblem; on: string[] }>();
  for (const { name, problems } of verdicts) {
    for (const problem of problems) {
      const key = keyOf(problem);
      const entry = seen.get(key);
      if (entry) entry.on.push(name);
      else seen.set(key, { problem, on: [name] });
    }
  }
  const merged: GraphProblem[] = [];
  let anyEverywhere = false;
  for (const { problem, on } of seen.values()) {
    const everywhere = on.length === verdicts.length;
    anyEverywhere ||= everywhere;
    const statement = problem.missing
      ? everywhere
        ? `no backend has ${problem.missing}`
        : `${problem.missing} is missing on ${on.join(', ')}`
      : `${problem.detail}${everywhere ? '' : ` (on ${on.join(', ')})`}`;
    merged.push({
      kind: problem.kind,
      node_id: problem.node_id,
      class_type: problem.class_type,
      ...(problem.input ? { input: problem.input } : {}),
      message: `${prefix(problem)}${statement}`,
    });
  }
  if (!anyEverywhere) {
    merged.unshift({
      kind: 'no_single_backend',
      message: 'no single backend has everything this workflow needs; each lacks something listed below',
    });
  }
  return merged;
}
