import { isLinkValue } from '../workflows/graph-structure';
import type { ComfyGraph, ComfyInputValue, GraphProblemKind } from '../workflows/types';
import type { BackendInventory } from './inventory';
import { type LoweredNode, lowerFsNodes } from './lowering';
import {
  comboOptions,
  configOf,
  type InputSpecInfo,
  inputSpecOf,
  isUploadCombo,
  LITERAL_TYPES,
  type NodeInfo,
  outputTypeOf,
  requiredInputs,
  typeOfSpec,
  typesMatch,
} from './object-info';

/**
 * One thing a backend lacks for a graph. `missing` names what is absent ("node KSampler", "model
 * checkpoints/x.safetensors") so the fleet can say "no backend has …"; otherwise `detail` says it all.
 */
export interface BackendProblem {
  kind: GraphProblemKind;
  node_id: string;
  class_type: string;
  input?: string;
  missing?: string;
  detail: string;
}

export interface CheckOptions {
  /** The models folder an input picks from, as recognised anywhere in the fleet. */
  modelFolderOf(classType: string, input: string): string | undefined;
  /** `nodeId\0parameter` of the API inputs: their values are set per run, so only their type is checked. */
  apiInputs: ReadonlySet<string>;
}

/** A class's description; a class_type is user input, so "constructor" must not find Object's. */
const nodeOf = (inventory: BackendInventory, classType: string): NodeInfo | undefined =>
  Object.hasOwn(inventory.nodes, classType) ? inventory.nodes[classType] : undefined;

export const apiInputKey = (nodeId: string, parameter: string): string => `${nodeId}\0${parameter}`;

/**
 * What one backend lacks to run the graph (empty: it can run it). Structure is checked elsewhere. The
 * graph is judged as it would be sent there: with the FS nodes the backend lacks lowered to core nodes
 * (lowering.ts); problems still name the node's class and inputs as the workflow has them.
 */
export function checkGraph(
  graph: ComfyGraph,
  inventory: BackendInventory,
  options: CheckOptions,
): BackendProblem[] {
  const lowering = lowerFsNodes(graph, (classType) => Object.hasOwn(inventory.nodes, classType));
  const why = new Map(lowering.unlowerable.map((node) => [node.node_id, node.reason]));
  const byId = new Map(lowering.lowered.map((node) => [node.node_id, node]));
  const apiInputs = new Set(options.apiInputs);
  for (const node of lowering.lowered)
    for (const [from, to] of Object.entries(node.inputs))
      if (options.apiInputs.has(apiInputKey(node.node_id, from)))
        apiInputs.add(apiInputKey(node.node_id, to));
  const problems = checkNodes(lowering.graph, inventory, { ...options, apiInputs }, why);
  return problems.map((problem) => asWritten(problem, byId.get(problem.node_id)));
}

/** A problem of a lowered node, told in the workflow's own terms: its FS class and input names. */
function asWritten(problem: BackendProblem, lowered: LoweredNode | undefined): BackendProblem {
  if (!lowered) return problem;
  const input = Object.entries(lowered.inputs).find(([, to]) => to === problem.input)?.[0] ?? problem.input;
  return {
    ...problem,
    class_type: lowered.from,
    ...(input ? { input } : {}),
    detail: `${problem.detail} (as core ${lowered.to})`,
  };
}

function checkNodes(
  graph: ComfyGraph,
  inventory: BackendInventory,
  options: CheckOptions,
  unlowerable: ReadonlyMap<string, string>,
): BackendProblem[] {
  const problems: BackendProblem[] = [];
  for (const [id, node] of Object.entries(graph)) {
    const info = nodeOf(inventory, node.class_type);
    const at = { node_id: id, class_type: node.class_type };
    if (!info) {
      const reason = unlowerable.get(id);
      const missing = `node ${node.class_type}${reason ? ` (${reason})` : ''}`;
      problems.push({ kind: 'unknown_class', ...at, missing, detail: `${missing} is not installed` });
      continue;
    }
    for (const input of requiredInputs(info)) {
      if (!(input in (node.inputs ?? {})))
        problems.push({ kind: 'missing_input', ...at, input, detail: `required input ${input} is missing` });
    }
    for (const [input, value] of Object.entries(node.inputs ?? {})) {
      const spec = inputSpecOf(info, input);
      if (!spec) continue; // ComfyUI ignores inputs a node does not declare
      const problem = isLinkValue(value)
        ? checkLink(graph, inventory, spec, value)
        : checkLiteral(node.class_type, input, spec, value, {
            ...options,
            isApiInput: options.apiInputs.has(apiInputKey(id, input)),
            installed: (folder) => (Object.hasOwn(inventory.models, folder) ? inventory.models[folder]! : []),
          });
      if (problem) problems.push({ ...at, input, ...problem });
    }
  }
  return problems;
}

type Found = Pick<BackendProblem, 'kind' | 'detail' | 'missing'>;

function checkLink(
  graph: ComfyGraph,
  inventory: BackendInventory,
  spec: InputSpecInfo,
  [sourceId, slot]: [string, number],
): Found | undefined {
  const source = graph[String(sourceId)];
  const sourceInfo = source ? nodeOf(inventory, source.class_type) : undefined;
  if (!source || !sourceInfo) return undefined; // a missing node or class is reported where it is
  const from = `node ${sourceId} (${source.class_type})`;
  const received = outputTypeOf(sourceInfo, slot);
  if (received === undefined) {
    const count = sourceInfo.output?.length ?? 0;
    return {
      kind: 'missing_slot',
      detail: `links to output ${slot} of ${from}, which has ${count} output${count === 1 ? '' : 's'}`,
    };
  }
  const expected = typeOfSpec(spec);
  if (typesMatch(received, spec)) return undefined;
  return {
    kind: 'type_mismatch',
    detail: `expects ${expected} but output ${slot} of ${from} is ${received}`,
  };
}

interface LiteralContext extends CheckOptions {
  isApiInput: boolean;
  /** The backend's files of a models folder (`/models/<folder>`). */
  installed(folder: string): readonly string[];
}

function checkLiteral(
  classType: string,
  input: string,
  spec: InputSpecInfo,
  value: ComfyInputValue,
  context: LiteralContext,
): Found | undefined {
  const type = typeOfSpec(spec);
  if (!LITERAL_TYPES.has(type))
    return { kind: 'bad_value', detail: `is a ${type}, which must be linked from another node's output` };
  // An API input's deploy-time value is a placeholder or a default: its file or choice comes per run.
  if (context.isApiInput && (value === '' || type === 'COMBO')) return undefined;
  if (type === 'INT' || type === 'FLOAT') return checkNumber(type, spec, value);
  if (type === 'BOOLEAN' && typeof value !== 'boolean')
    return { kind: 'bad_value', detail: `expects true or false, not ${JSON.stringify(value)}` };
  if (type !== 'COMBO' || isUploadCombo(spec)) return undefined;
  const options = comboOptions(spec) ?? [];
  if (options.includes(value)) return undefined;
  const folder = context.modelFolderOf(classType, input);
  // `/object_info` and `/models` are read side by side, so a file added meanwhile can be in one and not
  // yet in the other: a model the backend lists in its folder is installed.
  if (folder && context.installed(folder).includes(String(value))) return undefined;
  if (folder) {
    const missing = `model ${folder}/${String(value)}`;
    return { kind: 'missing_model', missing, detail: `${missing} is not installed` };
  }
  const shown = options.slice(0, 10).map((option) => JSON.stringify(option));
  const more = options.length > 10 ? `, … (${options.length} options)` : '';
  return {
    kind: 'not_in_options',
    detail: `${JSON.stringify(value)} is not one of ${shown.join(', ') || '(no options)'}${more}`,
  };
}

function checkNumber(type: 'INT' | 'FLOAT', spec: InputSpecInfo, value: ComfyInputValue): Found | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (typeof value === 'string' && value.trim() === '') return badNumber(type, value);
  if (!Number.isFinite(number)) return badNumber(type, value);
  const { min, max } = configOf(spec);
  if (typeof min === 'number' && number < min)
    return { kind: 'out_of_range', detail: `${number} is below the minimum ${min}` };
  if (typeof max === 'number' && number > max)
    return { kind: 'out_of_range', detail: `${number} is above the maximum ${max}` };
  return undefined;
}

const badNumber = (type: string, value: ComfyInputValue): Found => ({
  kind: 'bad_value',
  detail: `expects ${type === 'INT' ? 'an integer' : 'a number'}, not ${JSON.stringify(value)}`,
});
