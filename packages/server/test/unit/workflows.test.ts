import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedWorkflowsDir } from '../../src/config/config';
import { detectInputs, detectOutputs, graphProblems } from '../../src/workflows/detect';
import { workflowIdFromName } from '../../src/workflows/ids';
import { applyManifest, manifestProblems } from '../../src/workflows/manifest';
import type { ComfyGraph } from '../../src/workflows/types';

const shipped = (name: string): ComfyGraph =>
  JSON.parse(fs.readFileSync(path.join(shippedWorkflowsDir(), `${name}.json`), 'utf8'));

describe('input and output detection', () => {
  it('finds FS I/O nodes with FlowScale names, labels and defaults', () => {
    expect(detectInputs(shipped('invert-image'))).toEqual([
      { name: 'image_1', type: 'image', required: true, label: 'image', node_id: '1', parameter: 'image' },
    ]);
    expect(detectInputs(shipped('solid-color'))).toEqual([
      {
        name: 'default_value_1',
        type: 'integer',
        required: false,
        default: 128,
        label: 'size',
        node_id: '1',
        parameter: 'default_value',
      },
    ]);
    expect(detectOutputs(shipped('invert-image'))).toEqual([
      {
        name: 'filename_prefix_3',
        type: 'image',
        node_id: '3',
        parameter: 'filename_prefix',
        label: 'inverted',
      },
    ]);
  });

  it('finds standard nodes (LoadImage, primitives) in numeric node order and skips linked widgets', () => {
    const graph: ComfyGraph = {
      '10': { class_type: 'PrimitiveBoolean', inputs: { value: true } },
      '2': { class_type: 'PrimitiveFloat', inputs: { value: 0.5 } },
      '1': { class_type: 'LoadImage', inputs: { image: 'example.png' } },
      '3': { class_type: 'PrimitiveString', inputs: { value: ['9', 0] } },
      '4': { class_type: 'PreviewAny', inputs: { source: ['2', 0] } },
    };
    expect(detectInputs(graph).map(({ name, type, required }) => ({ name, type, required }))).toEqual([
      { name: 'image_1', type: 'image', required: false },
      { name: 'value_2', type: 'number', required: false },
      { name: 'value_10', type: 'boolean', required: false },
    ]);
    expect(detectOutputs(graph)).toEqual([
      { name: 'source_4', type: 'string', node_id: '4', parameter: 'source' },
    ]);
  });

  it('reports malformed graphs', () => {
    expect(graphProblems([])).toHaveLength(1);
    expect(graphProblems({})).toEqual(['workflow has no nodes']);
    expect(graphProblems({ '1': { inputs: {} } })).toEqual(['node 1 has no class_type']);
    expect(graphProblems(shipped('text-echo'))).toEqual([]);
  });
});

describe('manifests', () => {
  const inputs = detectInputs(shipped('solid-color'));
  const outputs = detectOutputs(shipped('solid-color'));

  it('applies aliases, defaults and limits', () => {
    const manifest = { inputs: { default_value_1: { alias: 'size', min: 1, max: 512, default: 64 } } };
    expect(manifestProblems(manifest, inputs, outputs)).toEqual([]);
    expect(applyManifest(manifest, inputs, outputs).inputs[0]).toMatchObject({
      name: 'default_value_1',
      alias: 'size',
      min: 1,
      max: 512,
      default: 64,
      required: false,
    });
  });

  it('names what is wrong', () => {
    expect(manifestProblems({ inputs: { nope_9: {} } }, inputs, outputs)[0]).toContain('no such input');
    expect(manifestProblems({ inputs: { default_value_1: { min: 'x' } } }, inputs, outputs)[0]).toContain(
      'must be a number',
    );
    expect(manifestProblems('x', inputs, outputs)).toEqual(['manifest must be an object']);
  });
});

describe('workflow ids', () => {
  it('are stable RFC 4122 v5 UUIDs of the name', () => {
    expect(workflowIdFromName('text-echo')).toBe(workflowIdFromName('text-echo'));
    expect(workflowIdFromName('text-echo')).not.toBe(workflowIdFromName('text-echo2'));
    expect(workflowIdFromName('x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('class names from a workflow are only looked up as own entries', () => {
  it('a node named after an Object member is neither an input nor an output', () => {
    const graph = {
      '1': { class_type: 'constructor', inputs: { value: 1 } },
      '2': { class_type: 'toString', inputs: { filename_prefix: 'x' } },
      '3': { class_type: '__proto__', inputs: {} },
    } as unknown as ComfyGraph;
    expect(detectInputs(graph)).toEqual([]);
    expect(detectOutputs(graph)).toEqual([]);
  });
});
