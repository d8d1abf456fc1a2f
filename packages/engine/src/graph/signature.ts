import { createHash, randomUUID } from 'node:crypto';
import type { NodeDefinition, NodeEnv } from '../nodes/types';
import { isLink, type PromptGraph, type PromptNode } from './prompt';
import { walkUpstream } from './topo';
import type { Registry } from './validate';

export interface NodeSignature {
  key: string;
  /** False when this node or anything upstream must always run (its outputs are not worth caching). */
  cacheable: boolean;
}

/** Every node that the given outputs need, in prompt order. */
export function neededNodes(prompt: PromptGraph, outputs: readonly string[]): string[] {
  const seen = new Set(walkUpstream(prompt, outputs).order);
  return Object.keys(prompt).filter((id) => seen.has(id));
}

/**
 * Cache keys: the class, literal inputs, the keys of linked inputs and the node's fingerprint
 * (ComfyUI's IS_CHANGED, e.g. LoadImage's file hash). Output nodes also include their id, so two
 * identical save nodes in one prompt each write their own files, as in ComfyUI.
 */
export async function computeSignatures(
  prompt: PromptGraph,
  ids: readonly string[],
  registry: Registry,
  env: NodeEnv,
  /** Nodes whose fingerprint errors are fatal; others (not run by this prompt) just become uncacheable. */
  strict: ReadonlySet<string> = new Set(ids),
): Promise<Map<string, NodeSignature>> {
  const result = new Map<string, NodeSignature>();
  // Dependencies first, so every linked input's key is known when a node is reached.
  for (const id of walkUpstream(prompt, ids).order) {
    const node = prompt[id] as PromptNode;
    const def = registry.get(node.class_type);
    if (!def) continue;
    let cacheable = true;
    const parts: unknown[] = [node.class_type, def.outputNode ? id : null];
    for (const name of Object.keys(node.inputs).sort()) {
      const value = node.inputs[name];
      if (isLink(value)) {
        const upstream = result.get(String(value[0]));
        cacheable &&= upstream?.cacheable ?? false;
        parts.push([name, upstream?.key ?? null, value[1]]);
      } else {
        parts.push([name, value]);
      }
    }
    if (def.fingerprint) {
      const fp = await fingerprintOf(def, node, env, strict.has(id));
      if (fp === null) cacheable = false;
      parts.push(fp ?? randomUUID());
    }
    result.set(id, {
      key: createHash('sha256').update(JSON.stringify(parts)).digest('base64url'),
      cacheable,
    });
  }
  return result;
}

async function fingerprintOf(
  def: NodeDefinition,
  node: PromptNode,
  env: NodeEnv,
  strict: boolean,
): Promise<string | null> {
  try {
    return (await def.fingerprint?.(literalInputs(node), env)) ?? null;
  } catch (err) {
    // ComfyUI's IsChangedCache also turns a failing IS_CHANGED into "always changed" (NaN).
    if (strict) throw err;
    return null;
  }
}

function literalInputs(node: PromptNode): Record<string, unknown> {
  return Object.fromEntries(Object.entries(node.inputs).filter(([, v]) => !isLink(v)));
}
