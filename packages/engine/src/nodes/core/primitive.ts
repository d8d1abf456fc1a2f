import type { InputSpec, NodeDefinition } from '../types';

// ComfyUI's ±9223372036854775807 (int64 max); as a JSON double it reads back as 2^63.
const I64 = 2 ** 63;

function primitive(name: string, displayName: string, type: string, spec: InputSpec): NodeDefinition {
  return {
    schema: 'v3',
    name,
    displayName,
    category: 'utils/primitive',
    pythonModule: 'comfy_extras.nodes_primitive',
    input: { required: { value: spec } },
    outputs: [type],
    run: (inputs) => ({ outputs: [inputs.value] }),
  };
}

export const primitiveString = primitive('PrimitiveString', 'String', 'STRING', [
  'STRING',
  { multiline: false },
]);
export const primitiveStringMultiline = primitive(
  'PrimitiveStringMultiline',
  'String (Multiline)',
  'STRING',
  ['STRING', { multiline: true }],
);
export const primitiveInt = primitive('PrimitiveInt', 'Int', 'INT', [
  'INT',
  { min: -I64, max: I64, control_after_generate: true },
]);
export const primitiveFloat = primitive('PrimitiveFloat', 'Float', 'FLOAT', [
  'FLOAT',
  { min: -I64, max: I64 },
]);
export const primitiveBoolean = primitive('PrimitiveBoolean', 'Boolean', 'BOOLEAN', ['BOOLEAN', {}]);
