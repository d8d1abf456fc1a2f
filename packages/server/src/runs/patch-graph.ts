import { randomInt } from 'node:crypto';
import type { ComfyGraph, Deployment } from '../workflows/types';
import type { BoundInput } from './validate-inputs';

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** FlowScale's 10-character A–Z0–9 run token. */
export const runToken = (): string =>
  Array.from({ length: 10 }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');

/** The output node id embedded in an output name `<param>_<nodeId>_<token>`. */
export const nodeIdOfOutputName = (name: string): string => name.split('_').at(-2) ?? '';

/**
 * Copies the deployment graph with scalar inputs set and each output node's filename_prefix set to its
 * FlowScale output name. File inputs are bound later, once uploaded to the chosen backend.
 */
export function patchGraph(
  deployment: Deployment,
  inputs: BoundInput[],
  token: string,
): { graph: ComfyGraph; outputNames: string[] } {
  const graph = structuredClone(deployment.graph);
  for (const { spec, value } of inputs) {
    const node = graph[spec.node_id];
    if (!node || typeof value === 'object') continue;
    node.inputs[spec.parameter] = value;
  }
  const outputNames: string[] = [];
  for (const output of deployment.outputs) {
    const name = `${output.name}_${token}`;
    outputNames.push(name);
    const node = graph[output.node_id];
    if (node && output.parameter === 'filename_prefix') node.inputs.filename_prefix = name;
  }
  return { graph, outputNames };
}
