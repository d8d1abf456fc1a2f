import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend-pool';
import { apiInputKey, checkGraph } from '../../src/fleet/check-graph';
import type { BackendInventory } from '../../src/fleet/inventory';
import { lowerFsNodes } from '../../src/fleet/lowering';
import type { ObjectInfo } from '../../src/fleet/object-info';
import { judgeGraph } from '../../src/fleet/runnability';
import type { ComfyGraph } from '../../src/workflows/types';

// ComfyUI 0.3.64's /object_info for the core nodes the FS nodes lower to (captured from the real server).
const STOCK: ObjectInfo = {
  LoadImage: {
    input: { required: { image: [['example.png'], { image_upload: true }] } },
    output: ['IMAGE', 'MASK'],
    output_node: false,
  },
  SaveImage: {
    input: {
      required: { images: ['IMAGE', { tooltip: 'The images to save.' }], filename_prefix: ['STRING', {}] },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
    },
    output: [],
    output_node: true,
  },
  PreviewAny: { input: { required: { source: ['*', {}] } }, output: [], output_node: true },
  PrimitiveString: { input: { required: { value: ['STRING', { multiline: false }] } }, output: ['STRING'] },
  PrimitiveStringMultiline: {
    input: { required: { value: ['STRING', { multiline: true }] } },
    output: ['STRING'],
  },
  PrimitiveInt: {
    // ±9223372036854775807 in ComfyUI's JSON, which reads back as ±2^63.
    input: { required: { value: ['INT', { min: -(2 ** 63), max: 2 ** 63 }] } },
    output: ['INT'],
  },
  ImageInvert: { input: { required: { image: ['IMAGE'] } }, output: ['IMAGE'] },
  StringConcatenate: {
    input: {
      required: {
        string_a: ['STRING', { multiline: true }],
        string_b: ['STRING', { multiline: true }],
        delimiter: ['STRING', { default: '', multiline: false }],
      },
    },
    output: ['STRING'],
  },
};

const FS_NODES: ObjectInfo = {
  FSLoadImage: { input: { required: { image: [[], { image_upload: true }] } }, output: ['IMAGE', 'MASK'] },
  FSSaveImage: { input: { required: { images: ['IMAGE'] } }, output: [], output_node: true },
};

const inventory = (nodes: ObjectInfo): BackendInventory => ({
  readAt: '2026-01-01T00:00:00.000Z',
  nodes,
  system: {},
  devices: [],
  models: {},
  modelInputs: new Map(),
  fingerprint: 'x',
});

const hasIn = (nodes: ObjectInfo) => (classType: string) => Object.hasOwn(nodes, classType);

// packages/server/workflows/invert-image.json, as shipped.
const INVERT: ComfyGraph = {
  '1': { class_type: 'FSLoadImage', inputs: { image: 'in.png', label: 'image' }, _meta: { title: 'In' } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  '3': {
    class_type: 'FSSaveImage',
    inputs: {
      images: ['2', 0],
      filename_prefix: 'filename_prefix_3_ABCDEFGHIJ',
      format: 'png',
      quality: 90,
      lossless: false,
      label: 'inverted',
    },
  },
};

const textGraph = (save: 'FSSaveText' | 'FSSaveInteger'): ComfyGraph => ({
  '1': {
    class_type: save === 'FSSaveText' ? 'FSLoadText' : 'FSLoadInteger',
    inputs: { default_value: save === 'FSSaveText' ? 'hi' : 7, label: 'in' },
  },
  '2': {
    class_type: save,
    inputs: { [save === 'FSSaveText' ? 'text' : 'integer']: ['1', 0], filename_prefix: 'p', label: 'out' },
  },
});

describe('lowering FS nodes to core nodes', () => {
  it('leaves the graph alone (the same object) on a backend that has the FS nodes', () => {
    const result = lowerFsNodes(INVERT, hasIn({ ...STOCK, ...FS_NODES }));
    expect(result).toEqual({ graph: INVERT, lowered: [], unlowerable: [] });
    expect(result.graph).toBe(INVERT);
  });

  it('image in and out: LoadImage and SaveImage, same ids, links and prefix; the input is not modified', () => {
    const before = structuredClone(INVERT);
    const { graph, lowered } = lowerFsNodes(INVERT, hasIn(STOCK));
    expect(graph).toEqual({
      '1': { class_type: 'LoadImage', inputs: { image: 'in.png' }, _meta: { title: 'In' } },
      '2': INVERT['2'],
      '3': {
        class_type: 'SaveImage',
        inputs: { images: ['2', 0], filename_prefix: 'filename_prefix_3_ABCDEFGHIJ' },
      },
    });
    expect(lowered.map(({ node_id, from, to }) => [node_id, from, to])).toEqual([
      ['1', 'FSLoadImage', 'LoadImage'],
      ['3', 'FSSaveImage', 'SaveImage'],
    ]);
    expect(INVERT).toEqual(before);
  });

  it('text and integer: PrimitiveString / PrimitiveInt in, PreviewAny out (read back as text)', () => {
    expect(lowerFsNodes(textGraph('FSSaveText'), hasIn(STOCK)).graph).toEqual({
      '1': { class_type: 'PrimitiveString', inputs: { value: 'hi' } },
      '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
    });
    expect(lowerFsNodes(textGraph('FSSaveInteger'), hasIn(STOCK)).graph).toEqual({
      '1': { class_type: 'PrimitiveInt', inputs: { value: 7 } },
      '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
    });
  });

  it('takes the next core equivalent when the preferred one is missing', () => {
    const { PrimitiveString: _gone, ...withoutString } = STOCK;
    const { graph } = lowerFsNodes(textGraph('FSSaveText'), hasIn(withoutString));
    expect(graph['1']?.class_type).toBe('PrimitiveStringMultiline');
  });

  it('a class named like an Object property is just an unknown class', () => {
    const graph: ComfyGraph = { '1': { class_type: 'constructor', inputs: {} } };
    expect(lowerFsNodes(graph, hasIn(STOCK))).toEqual({ graph, lowered: [], unlowerable: [] });
    expect(
      checkGraph(graph, inventory(STOCK), { modelFolderOf: () => undefined, apiInputs: new Set() }),
    ).toEqual([expect.objectContaining({ kind: 'unknown_class', missing: 'node constructor' })]);
  });

  it('says why a node cannot be lowered; a node with no core equivalent is left for the check', () => {
    const graph: ComfyGraph = {
      ...INVERT,
      '3': { class_type: 'FSSaveImage', inputs: { images: ['2', 0], filename_prefix: 'x', format: 'jpg' } },
      '4': { class_type: 'FSDelay', inputs: { seconds: 1, value: ['2', 0] } },
    };
    const { PreviewAny: _gone, LoadImage: _alsoGone, ...bare } = STOCK;
    const result = lowerFsNodes(graph, hasIn(bare));
    expect(result.unlowerable).toEqual([
      { node_id: '1', class_type: 'FSLoadImage', reason: 'nor its core equivalent LoadImage' },
      { node_id: '3', class_type: 'FSSaveImage', reason: 'format "jpg": core SaveImage writes only png' },
    ]);
    expect(result.graph).toBe(graph);
  });
});

describe('checking a graph against a backend without FS nodes', () => {
  const noApiInputs = { modelFolderOf: () => undefined, apiInputs: new Set<string>() };

  it('the shipped FS workflows are runnable where the core equivalents exist', () => {
    for (const graph of [INVERT, textGraph('FSSaveText'), textGraph('FSSaveInteger')])
      expect(checkGraph(graph, inventory(STOCK), noApiInputs)).toEqual([]);
    const fleet = {
      known: () => [{ backend: { name: 'stock' } as Backend, inventory: inventory(STOCK) }],
      modelFolderOf: () => undefined,
    };
    expect(judgeGraph(INVERT, fleet, new Set())).toEqual({
      status: 'runnable',
      problems: [],
      backends: ['stock'],
    });
  });

  it('an FS node that cannot be lowered is named with the reason', () => {
    const graph = { ...INVERT, '3': { ...INVERT['3']!, inputs: { ...INVERT['3']!.inputs, format: 'webp' } } };
    expect(checkGraph(graph, inventory(STOCK), noApiInputs)).toEqual([
      expect.objectContaining({
        kind: 'unknown_class',
        node_id: '3',
        class_type: 'FSSaveImage',
        missing: 'node FSSaveImage (format "webp": core SaveImage writes only png)',
      }),
    ]);
  });

  it("a lowered node's problem names the workflow's own class and input", () => {
    const graph: ComfyGraph = {
      '1': { class_type: 'FSLoadInteger', inputs: { default_value: 'many' } },
      '2': { class_type: 'FSSaveInteger', inputs: { integer: ['1', 0] } },
    };
    expect(checkGraph(graph, inventory(STOCK), noApiInputs)).toEqual([
      {
        kind: 'bad_value',
        node_id: '1',
        class_type: 'FSLoadInteger',
        input: 'default_value',
        detail: 'expects an integer, not "many" (as core PrimitiveInt)',
      },
    ]);
  });

  it("an API input's placeholder is judged under the core input's name", () => {
    const graph: ComfyGraph = {
      '1': { class_type: 'FSLoadInteger', inputs: { default_value: '' } },
      '2': { class_type: 'FSSaveInteger', inputs: { integer: ['1', 0] } },
    };
    const apiInputs = new Set([apiInputKey('1', 'default_value')]);
    expect(checkGraph(graph, inventory(STOCK), { ...noApiInputs, apiInputs })).toEqual([]);
    expect(checkGraph(graph, inventory(STOCK), noApiInputs)).toHaveLength(1);
  });
});
