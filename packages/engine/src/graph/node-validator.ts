import { listModels } from '../data/models';
import type { NodeDefinition, NodeEnv } from '../nodes/types';
import type { PromptErrorItem } from './errors';
import type { PromptGraph, PromptNode } from './prompt';
import { walkUpstream } from './topo';
import type { Registry } from './validate';
import { checkLiteral, inputConfig, typesMatch } from './validate-input';

export interface NodeVerdict {
  valid: boolean;
  errors: PromptErrorItem[];
}

function exceptionError(type: string, details: string): PromptErrorItem {
  return {
    type: 'exception_during_validation',
    message: 'Exception when validating node',
    details,
    extra_info: { exception_type: type, traceback: [] },
  };
}

/** ComfyUI's validate_inputs for every node an output needs, without recursion. */
export class Validator {
  readonly verdicts = new Map<string, NodeVerdict>();

  constructor(
    private readonly prompt: PromptGraph,
    private readonly registry: Registry,
    private readonly env: NodeEnv,
  ) {}

  private readonly walkState = new Map<string, 'open' | 'done'>();
  private readonly backEdges = new Set<string>();

  /** Validates `output` and everything it links to, dependencies first. */
  async validate(output: string): Promise<NodeVerdict> {
    const walk = walkUpstream(this.prompt, [output], this.walkState);
    for (const edge of walk.backEdges) this.backEdges.add(edge);
    for (const id of walk.order) {
      if (!this.verdicts.has(id)) this.verdicts.set(id, await this.check(id));
    }
    return this.verdicts.get(output) as NodeVerdict;
  }

  private async check(id: string): Promise<NodeVerdict> {
    const node = this.prompt[id] as PromptNode;
    const def = this.registry.get(node.class_type) as NodeDefinition;
    const errors: PromptErrorItem[] = [];
    let valid = true;
    const specs = { ...def.input.required, ...def.input.optional };
    for (const [name, spec] of Object.entries(specs)) {
      if (!(name in node.inputs)) {
        if (def.input.required && name in def.input.required) {
          errors.push({
            type: 'required_input_missing',
            message: 'Required input is missing',
            details: name,
            extra_info: { input_name: name },
          });
        }
        continue;
      }
      const value = node.inputs[name];
      if (Array.isArray(value)) {
        const linkError = await this.checkLink(id, def, name, value);
        if (linkError === 'upstream') valid = false;
        else if (linkError) errors.push(linkError);
        continue;
      }
      const folder = def.modelInputs?.[name];
      // A loader's choices are the model files present now, as ComfyUI lists them at validation.
      const live =
        folder === undefined ? spec : ([await listModels(this.env.dirs, folder), spec[1]] as const);
      const checked = checkLiteral(def, name, live, value);
      if ('error' in checked) errors.push(checked.error);
      else node.inputs[name] = checked.value;
    }
    if (errors.length === 0 && def.validate) errors.push(...(await this.custom(def, node)));
    return { valid: valid && errors.length === 0, errors };
  }

  private async checkLink(
    id: string,
    def: NodeDefinition,
    name: string,
    link: unknown[],
  ): Promise<PromptErrorItem | 'upstream' | null> {
    if (link.length !== 2) {
      return {
        type: 'bad_linked_input',
        message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
        details: name,
        extra_info: { input_name: name, input_config: inputConfig(specOf(def, name)), received_value: link },
      };
    }
    const sourceId = String(link[0]);
    const source = Object.hasOwn(this.prompt, sourceId) ? this.prompt[sourceId] : undefined;
    if (!source) return exceptionError('KeyError', `'${sourceId}'`);
    const sourceDef = this.registry.get(source.class_type) as NodeDefinition;
    const index = link[1];
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= sourceDef.outputs.length
    ) {
      return exceptionError('IndexError', 'tuple index out of range');
    }
    link[0] = sourceId;
    const received = sourceDef.outputs[index] as string;
    const spec = specOf(def, name);
    if (!def.validatedInputs?.includes(name) && !typesMatch(received, spec)) {
      return {
        type: 'return_type_mismatch',
        message: 'Return type mismatch between linked nodes',
        details: `${name}, received_type(${received}) mismatch input_type(${String(spec[0])})`,
        extra_info: {
          input_name: name,
          input_config: inputConfig(spec),
          received_type: received,
          linked_node: link,
        },
      };
    }
    if (this.backEdges.has(`${id}->${sourceId}`)) {
      return {
        type: 'dependency_cycle',
        message: 'Dependency cycle detected',
        details: `${name}: node '${sourceId}' depends on node '${id}'`,
        extra_info: { input_name: name, linked_node: link },
      };
    }
    return this.verdicts.get(sourceId)?.valid === false ? 'upstream' : null;
  }

  private async custom(def: NodeDefinition, node: PromptNode): Promise<PromptErrorItem[]> {
    const literals = Object.fromEntries(Object.entries(node.inputs).filter(([, v]) => !Array.isArray(v)));
    const result = await def.validate?.(literals, this.env);
    if (result === true || result === undefined) return [];
    const names = def.validatedInputs?.length ? def.validatedInputs : Object.keys(literals).slice(0, 1);
    return names
      .filter((n) => n in literals)
      .map((n) => ({
        type: 'custom_validation_failed',
        message: 'Custom validation failed for node',
        details: `${n} - ${result}`,
        extra_info: { input_name: n },
      }));
  }

  /** Node ids feeding `id` (itself included), for dependent_outputs. */
  upstreamOf(id: string): string[] {
    return walkUpstream(this.prompt, [id]).order;
  }
}

function specOf(def: NodeDefinition, name: string) {
  return (def.input.required?.[name] ?? def.input.optional?.[name]) as NonNullable<
    NonNullable<NodeDefinition['input']['required']>[string]
  >;
}
