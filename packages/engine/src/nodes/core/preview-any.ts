import { isImage, isMask } from '../../tensor/types';
import { pyJsonDumps } from '../shared/py-json';
import type { NodeDefinition } from '../types';

/** PreviewAny's text: strings as-is, numbers and booleans like Python's str(), other values as JSON. */
export function previewText(source: unknown): string {
  if (source === undefined || source === null) return 'None';
  if (typeof source === 'string') return source;
  if (typeof source === 'boolean') return source ? 'True' : 'False';
  if (typeof source === 'number') return String(source);
  if (isImage(source))
    return `tensor of shape [${source.frames.length}, ${source.height}, ${source.width}, 3]`;
  if (isMask(source)) return `tensor of shape [${source.frames.length}, ${source.height}, ${source.width}]`;
  return pyJsonDumps(source);
}

export const previewAny: NodeDefinition = {
  name: 'PreviewAny',
  displayName: 'Preview Any',
  category: 'utils',
  pythonModule: 'comfy_extras.nodes_preview_any',
  outputNode: true,
  input: { required: { source: ['*', {}] } },
  outputs: [],
  run: (inputs) => ({ outputs: [], ui: { text: [previewText(inputs.source)] } }),
};
