import { loadImageBehaviour } from '../core/image-io';
import type { NodeDefinition } from '../types';
import { FS, LABEL } from './common';

export const fsLoadImage: NodeDefinition = {
  ...FS,
  name: 'FSLoadImage',
  displayName: '[FS] Load Image',
  input: { required: { image: [[], { image_upload: true }] }, optional: LABEL },
  outputs: ['IMAGE', 'MASK'],
  ...loadImageBehaviour,
};

export const fsLoadText: NodeDefinition = {
  ...FS,
  name: 'FSLoadText',
  displayName: '[FS] Load Text',
  input: { required: { default_value: ['STRING', { default: '', multiline: true }] }, optional: LABEL },
  outputs: ['STRING'],
  run: (inputs) => ({ outputs: [inputs.default_value] }),
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const fsLoadInteger: NodeDefinition = {
  ...FS,
  name: 'FSLoadInteger',
  displayName: '[FS] Load Integer',
  input: {
    required: { default_value: ['INT', { default: 0, min: -MAX_SAFE, max: MAX_SAFE }] },
    optional: LABEL,
  },
  outputs: ['INT'],
  run: (inputs) => ({ outputs: [inputs.default_value] }),
};
