import type { NodeDefinition } from '../types';

const V3 = { schema: 'v3' as const, pythonModule: 'comfy_extras.nodes_string', category: 'utils/string' };

export const stringConcatenate: NodeDefinition = {
  ...V3,
  name: 'StringConcatenate',
  displayName: 'Concatenate',
  input: {
    required: {
      string_a: ['STRING', { multiline: true }],
      string_b: ['STRING', { multiline: true }],
      delimiter: ['STRING', { default: '', multiline: false }],
    },
  },
  outputs: ['STRING'],
  run: (i) => ({ outputs: [[i.string_a, i.string_b].join(String(i.delimiter ?? ''))] }),
};

export const stringReplace: NodeDefinition = {
  ...V3,
  name: 'StringReplace',
  displayName: 'Replace',
  input: {
    required: {
      string: ['STRING', { multiline: true }],
      find: ['STRING', { multiline: true }],
      replace: ['STRING', { multiline: true }],
    },
  },
  outputs: ['STRING'],
  run: (i) => ({ outputs: [String(i.string).replaceAll(String(i.find), String(i.replace))] }),
};
