import type { InputSpec, NodeDefinition } from '../nodes/types';
import { coerceLiteral, pyStr } from './coerce';
import type { PromptErrorItem } from './errors';

export function inputConfig(spec: InputSpec): [unknown, Record<string, unknown>] {
  return [spec[0], spec[1] ?? {}];
}

export function comboOptions(spec: InputSpec): readonly string[] | null {
  if (Array.isArray(spec[0])) return spec[0] as readonly string[];
  if (spec[0] === 'COMBO') return (spec[1]?.options as readonly string[] | undefined) ?? [];
  return null;
}

/** ComfyUI's validate_node_input: "*" matches anything, comma lists match by intersection. */
export function typesMatch(received: string, spec: InputSpec): boolean {
  const expected = spec[0];
  if (typeof expected !== 'string' || expected === 'COMBO') {
    return received === '*' || received === 'STRING' || received === 'COMBO';
  }
  if (received === expected || received === '*' || expected === '*') return true;
  const want = new Set(expected.split(',').map((t) => t.trim()));
  return received.split(',').some((t) => want.has(t.trim()));
}

function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

/**
 * Checks one literal input: type conversion, min/max and choices, in ComfyUI's order.
 * Returns the converted value or the error to report.
 */
const LITERAL_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO', '*']);

export function checkLiteral(
  def: NodeDefinition,
  name: string,
  spec: InputSpec,
  raw: unknown,
): { value: unknown } | { error: PromptErrorItem } {
  const type = typeof spec[0] === 'string' ? spec[0] : 'COMBO';
  const config = inputConfig(spec);
  if (!LITERAL_TYPES.has(type)) {
    // ComfyUI accepts this and fails while running; an IMAGE or MASK can only come from a link.
    return {
      error: {
        type: 'invalid_input_type',
        message: "Input must be a link to another node's output",
        details: `${name}, a ${type} value cannot be given literally`,
        extra_info: { input_name: name, input_config: config, received_value: raw },
      },
    };
  }
  const converted = coerceLiteral(type, raw);
  if (!converted.ok) {
    return {
      error: {
        type: 'invalid_input_type',
        message: `Failed to convert an input value to a ${type} value`,
        details: `${name}, ${pyStr(raw)}, ${converted.message}`,
        extra_info: {
          input_name: name,
          input_config: config,
          received_value: raw,
          exception_message: converted.message,
        },
      },
    };
  }
  const value = converted.value;
  if (def.validatedInputs?.includes(name)) return { value };
  const opts = config[1];
  const extra = { input_name: name, input_config: config, received_value: value };
  if (typeof opts.min === 'number' && typeof value === 'number' && value < opts.min) {
    return {
      error: {
        type: 'value_smaller_than_min',
        message: `Value ${pyStr(value)} smaller than min of ${pyStr(opts.min)}`,
        details: name,
        extra_info: extra,
      },
    };
  }
  if (typeof opts.max === 'number' && typeof value === 'number' && value > opts.max) {
    return {
      error: {
        type: 'value_bigger_than_max',
        message: `Value ${pyStr(value)} bigger than max of ${pyStr(opts.max)}`,
        details: name,
        extra_info: extra,
      },
    };
  }
  const choices = comboOptions(spec);
  if (choices && !choices.includes(value as string)) {
    const big = choices.length > 20;
    return {
      error: {
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: `${name}: '${pyStr(value)}' not in ${big ? `(list of length ${choices.length})` : pyList(choices)}`,
        extra_info: { input_name: name, input_config: big ? null : config, received_value: value },
      },
    };
  }
  return { value };
}
