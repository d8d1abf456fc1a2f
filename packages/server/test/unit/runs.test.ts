import { describe, expect, it } from 'vitest';
import { producedItems, storedFilename } from '../../src/runs/output-files';
import { nodeIdOfOutputName, patchGraph, runToken } from '../../src/runs/patch-graph';
import { bindInputs } from '../../src/runs/validate-inputs';
import type { Deployment, InputSpec } from '../../src/workflows/types';

const specs: InputSpec[] = [
  {
    name: 'default_value_1',
    type: 'string',
    required: false,
    default: 'hi',
    node_id: '1',
    parameter: 'default_value',
  },
  {
    name: 'value_2',
    type: 'integer',
    required: true,
    node_id: '2',
    parameter: 'value',
    min: 1,
    max: 9,
    alias: 'n',
  },
  { name: 'value_3', type: 'number', required: false, default: 1, node_id: '3', parameter: 'value' },
  { name: 'value_4', type: 'boolean', required: false, default: false, node_id: '4', parameter: 'value' },
  {
    name: 'image_5',
    type: 'image',
    required: false,
    default: 'example.png',
    node_id: '5',
    parameter: 'image',
  },
];
const file = { sha256: 'ab', size: 3, filename: 'a.png', content_type: 'image/png' };

describe('bindInputs', () => {
  it('parses each type and accepts aliases', () => {
    const { bound, problems } = bindInputs(specs, {
      fields: new Map([
        ['n', '7'],
        ['value_3', '2.5'],
        ['value_4', 'true'],
      ]),
      files: new Map([['image_5', file]]),
    });
    expect(problems).toEqual([]);
    expect(bound.map(({ spec, value }) => [spec.name, value])).toEqual([
      ['value_2', 7],
      ['value_3', 2.5],
      ['value_4', true],
      ['image_5', file],
    ]);
  });

  it('lists every problem: type, range, unknown, duplicate alias, missing', () => {
    const { problems } = bindInputs(specs, {
      fields: new Map([
        ['value_3', 'abc'],
        ['value_4', 'maybe'],
        ['zzz', '1'],
      ]),
      files: new Map(),
    });
    expect(problems).toEqual([
      { field: 'value_3', message: 'expected a number, got "abc"' },
      { field: 'value_4', message: 'expected a boolean (true or false), got "maybe"' },
      { field: 'zzz', message: expect.stringContaining('unknown input') },
      { field: 'n', message: 'required integer input is missing' },
    ]);
    const range = bindInputs(specs, {
      fields: new Map([
        ['n', '10'],
        ['value_2', '3'],
      ]),
      files: new Map(),
    });
    expect(range.problems).toEqual([
      { field: 'n', message: 'must be at most 9' },
      { field: 'value_2', message: 'duplicates input "n"' },
    ]);
    expect(
      bindInputs(specs, { fields: new Map([['n', '1.5']]), files: new Map() }).problems[0]?.message,
    ).toContain('integer');
  });
});

describe('patchGraph', () => {
  const deployment: Deployment = {
    id: 'w',
    name: 'w',
    description: '',
    manifest: null,
    graph: {
      '1': { class_type: 'FSLoadText', inputs: { default_value: 'a' } },
      '3': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: 'FlowScale' } },
    },
    inputs: [specs[0]!],
    outputs: [{ name: 'filename_prefix_3', type: 'string', node_id: '3', parameter: 'filename_prefix' }],
    createdAt: '',
    updatedAt: '',
  };

  it('sets inputs and FlowScale output names without touching the deployment', () => {
    const { graph, outputNames } = patchGraph(
      deployment,
      [{ spec: specs[0]!, field: 'x', value: 'new' }],
      'ABCDEFGHIJ',
    );
    expect(outputNames).toEqual(['filename_prefix_3_ABCDEFGHIJ']);
    expect(graph['1']?.inputs.default_value).toBe('new');
    expect(graph['3']?.inputs.filename_prefix).toBe('filename_prefix_3_ABCDEFGHIJ');
    expect(deployment.graph['1']?.inputs.default_value).toBe('a');
    expect(nodeIdOfOutputName(outputNames[0]!)).toBe('3');
  });

  it('makes 10-character A–Z0–9 tokens', () => {
    const tokens = new Set(Array.from({ length: 50 }, runToken));
    for (const token of tokens) expect(token).toMatch(/^[A-Z0-9]{10}$/);
    expect(tokens.size).toBe(50);
  });
});

describe('output files', () => {
  it('reads files and inline text from a history entry', () => {
    const entry = {
      outputs: {
        '3': { images: [{ filename: 'a_00001_.png', subfolder: '', type: 'output' }, { filename: 'b.PNG' }] },
        '4': { text: ['hello', 'world'] },
        '5': { text: ['echo'], files: [{ filename: 'x.txt', type: 'output' }] },
      },
    };
    expect(producedItems(entry, '3').map((item) => item.kind === 'file' && item.extension)).toEqual([
      '.png',
      '.png',
    ]);
    // Every text and every file reference, each its own item in batch order (files first).
    expect(producedItems(entry, '4')).toEqual([
      { kind: 'text', text: 'hello', preview: false },
      { kind: 'text', text: 'world', preview: false },
    ]);
    // A text node's `files` (ComfyUI writes the same text to disk) is not a second output.
    expect(producedItems(entry, '5')).toEqual([{ kind: 'text', text: 'echo', preview: false }]);
    const captioned = { outputs: { '6': { text: ['caption'], images: [{ filename: 'c.png' }] } } };
    expect(producedItems(captioned, '6')).toEqual([
      { kind: 'file', ref: { filename: 'c.png' }, extension: '.png', preview: false },
      { kind: 'text', text: 'caption', preview: false },
    ]);
    expect(producedItems(entry, '9')).toEqual([]);
    expect(storedFilename('out_3_X', 0, '.png')).toBe('out_3_X.png');
    expect(storedFilename('out_3_X', 1, '.png')).toBe('out_3_X_2.png');
  });
});
