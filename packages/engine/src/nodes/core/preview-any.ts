import { isImage, isMask } from '../../tensor/types';
import { pyJsonDumps } from '../shared/py-json';
import type { NodeDefinition } from '../types';

/** Python's repr() of a float: "2.0", "1e-05", "1e+16", "inf". */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    return value
      .toExponential()
      .replace(/e([+-])(\d)$/, 'e$10$2')
      .replace(/\.0e/, 'e');
  }
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** PreviewAny's text: strings as-is, numbers and booleans like Python's str(), other values as JSON. */
export function previewText(source: unknown, type?: string): string {
  if (source === undefined || source === null) return 'None';
  if (typeof source === 'string') return source;
  if (typeof source === 'boolean') return source ? 'True' : 'False';
  if (typeof source === 'number') return type === 'FLOAT' ? pyFloat(source) : String(source);
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
  run: (inputs, ctx) => ({ outputs: [], ui: { text: [previewText(inputs.source, ctx.inputTypes.source)] } }),
};
