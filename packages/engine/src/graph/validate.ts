import type { NodeDefinition, NodeEnv } from '../nodes/types';
import type { NodeErrors, PromptErrorBody } from './errors';
import { promptError } from './errors';
import { Validator } from './node-validator';
import { compareNodeIdsDesc, type PromptGraph, type PromptNode } from './prompt';

export type Registry = ReadonlyMap<string, NodeDefinition>;

export type ValidationResult =
  | { ok: true; prompt: PromptGraph; outputs: string[]; nodeErrors: NodeErrors }
  | { ok: false; body: PromptErrorBody };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural checks ComfyUI does before input validation (first failure wins). */
function checkStructure(raw: Record<string, unknown>, registry: Registry): PromptErrorBody | PromptGraph {
  // No prototype, so node ids such as "constructor" or "__proto__" are plain keys.
  const prompt = Object.create(null) as PromptGraph;
  for (const [id, node] of Object.entries(raw)) {
    if (!isPlainObject(node) || typeof node.class_type !== 'string') {
      return promptError(
        'invalid_prompt',
        'Cannot execute because a node is missing the class_type property.',
        `Node ID '#${id}'`,
      );
    }
    if (!registry.has(node.class_type)) {
      return promptError(
        'invalid_prompt',
        `Cannot execute because node ${node.class_type} does not exist.`,
        `Node ID '#${id}'`,
      );
    }
    if (node.inputs !== undefined && !isPlainObject(node.inputs)) {
      return promptError('invalid_prompt', 'Node inputs must be an object.', `Node ID '#${id}'`);
    }
    // A deep copy, because validation writes converted literals back (as ComfyUI does).
    prompt[id] = structuredClone({ ...node, inputs: node.inputs ?? {} }) as PromptNode;
  }
  return prompt;
}

function outputNodes(prompt: PromptGraph, registry: Registry, targets: unknown): string[] {
  const wanted = Array.isArray(targets) ? new Set(targets.map(String)) : null;
  return Object.keys(prompt)
    .filter((id) => registry.get((prompt[id] as PromptNode).class_type)?.outputNode)
    .filter((id) => !wanted || wanted.has(id))
    .sort(compareNodeIdsDesc);
}

/** ComfyUI's validate_prompt: same error types, same 400/200 split, plus cycle detection. */
export async function validatePrompt(
  raw: unknown,
  registry: Registry,
  env: NodeEnv,
  partialTargets?: unknown,
): Promise<ValidationResult> {
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      body: promptError('invalid_prompt', 'The prompt must be a JSON object of node id to node.', typeof raw),
    };
  }
  const structured = checkStructure(raw, registry);
  if ('error' in structured) return { ok: false, body: structured as PromptErrorBody };
  const prompt = structured as PromptGraph;
  const outputs = outputNodes(prompt, registry, partialTargets);
  if (outputs.length === 0)
    return { ok: false, body: promptError('prompt_no_outputs', 'Prompt has no outputs') };

  const validator = new Validator(prompt, registry, env);
  const good: string[] = [];
  const summaries: string[] = [];
  const nodeErrors: NodeErrors = {};
  for (const output of outputs) {
    const verdict = await validator.validate(output);
    if (verdict.valid) {
      good.push(output);
      continue;
    }
    summaries.push(...verdict.errors.map((e) => `${e.message}: ${e.details}`));
    for (const id of validator.upstreamOf(output)) {
      const v = validator.verdicts.get(id);
      if (!v || v.valid || v.errors.length === 0) continue;
      nodeErrors[id] ??= {
        errors: v.errors,
        dependent_outputs: [],
        class_type: (prompt[id] as PromptNode).class_type,
      };
      nodeErrors[id].dependent_outputs.push(output);
    }
  }
  if (good.length === 0) {
    return {
      ok: false,
      body: promptError(
        'prompt_outputs_failed_validation',
        'Prompt outputs failed validation',
        summaries.join('\n'),
        nodeErrors,
      ),
    };
  }
  return { ok: true, prompt, outputs: good, nodeErrors };
}
