import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend-pool';
import { apiInputKey, checkGraph } from '../../src/fleet/check-graph';
import type { KnownBackend } from '../../src/fleet/fleet';
import { type BackendInventory, findModelInputs, modelInputKey } from '../../src/fleet/inventory';
import type { ObjectInfo } from '../../src/fleet/object-info';
import { judgeGraph } from '../../src/fleet/runnability';
import { contentTypeFor, extensionForType } from '../../src/media/media-types';
import { producedItems } from '../../src/runs/output-files';
import { detectOutputs } from '../../src/workflows/detect';
import { structureProblems, uiFormatProblem } from '../../src/workflows/graph-structure';
import type { ComfyGraph } from '../../src/workflows/types';

// Pure functions only. The model-file and custom-output-node cases run end to end once the engine has a
// model-loader node and a custom output node (another branch); these shapes are ComfyUI 0.3.64's.
const NODES: ObjectInfo = {
  CheckpointLoaderSimple: {
    input: { required: { ckpt_name: [['base.safetensors', 'xl.safetensors'], { tooltip: 'checkpoint' }] } },
    output: ['MODEL', 'CLIP', 'VAE'],
    output_node: false,
  },
  LoraLoaderModelOnly: {
    input: {
      required: {
        model: ['MODEL', {}],
        lora_name: ['COMBO', { options: ['detail.safetensors'] }],
        strength_model: ['FLOAT', { default: 1, min: -100, max: 100 }],
      },
    },
    output: ['MODEL'],
  },
  KSamplerLike: {
    input: { required: { model: ['MODEL', {}], sampler_name: [['euler', 'dpmpp_2m'], {}] } },
    output: ['LATENT'],
  },
  SaveGLB: {
    input: { required: { mesh: ['MESH', {}], filename_prefix: ['STRING', { default: 'mesh/ComfyUI' }] } },
    output: [],
    output_node: true,
  },
};
const MODELS = {
  checkpoints: ['base.safetensors', 'xl.safetensors'],
  loras: ['detail.safetensors'],
  vae: [],
};

const inventory = (nodes: ObjectInfo, models: Record<string, string[]>): BackendInventory => ({
  readAt: '2026-01-01T00:00:00.000Z',
  nodes,
  system: {},
  devices: [],
  models,
  modelInputs: findModelInputs(nodes, models),
  fingerprint: 'x',
});

/** A backend as ComfyUI fills it: the checkpoint combo lists exactly the files in its checkpoints folder. */
const backendWith = (checkpoints: string[], nodes: ObjectInfo = NODES): BackendInventory =>
  inventory(
    {
      ...nodes,
      CheckpointLoaderSimple: {
        ...NODES.CheckpointLoaderSimple,
        input: { required: { ckpt_name: [checkpoints, {}] } },
      },
    },
    { ...MODELS, checkpoints },
  );

const fleetOf = (...backends: Array<[string, BackendInventory]>) => {
  const known: KnownBackend[] = backends.map(([name, inv]) => ({
    backend: { name } as Backend,
    inventory: inv,
  }));
  return {
    known: () => known,
    modelFolderOf: (classType: string, input: string) =>
      known.map((k) => k.inventory.modelInputs.get(modelInputKey(classType, input))).find(Boolean),
  };
};

const sampling = (ckpt: string): ComfyGraph => ({
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
  '2': {
    class_type: 'LoraLoaderModelOnly',
    inputs: { model: ['1', 0], lora_name: 'detail.safetensors', strength_model: 1 },
  },
  '3': { class_type: 'KSamplerLike', inputs: { model: ['2', 0], sampler_name: 'euler' } },
});

describe('model inputs', () => {
  it('are the combos whose options are files of one models folder, in either combo shape', () => {
    const found = findModelInputs(NODES, MODELS);
    expect(Object.fromEntries(found)).toEqual({
      [modelInputKey('CheckpointLoaderSimple', 'ckpt_name')]: 'checkpoints',
      [modelInputKey('LoraLoaderModelOnly', 'lora_name')]: 'loras',
    });
  });

  it('a model file no backend has; one only another backend has; one backend having all', () => {
    const fleet = fleetOf(
      ['container #1', backendWith(['base.safetensors'])],
      ['container #2', backendWith(['other.safetensors'])],
    );
    expect(judgeGraph(sampling('base.safetensors'), fleet, new Set())).toEqual({
      status: 'runnable',
      problems: [],
      backends: ['container #1'],
    });
    const missing = judgeGraph(sampling('gone.safetensors'), fleet, new Set());
    expect(missing.status).toBe('not_runnable');
    expect(missing.problems).toEqual([
      {
        kind: 'missing_model',
        node_id: '1',
        class_type: 'CheckpointLoaderSimple',
        input: 'ckpt_name',
        message:
          'node 1 (CheckpointLoaderSimple): input ckpt_name: no backend has model checkpoints/gone.safetensors',
      },
    ]);
  });

  it('no single backend: each has part of what the graph needs', () => {
    const { KSamplerLike: _gone, ...withoutSampler } = NODES;
    const fleet = fleetOf(
      ['container #1', backendWith(['base.safetensors'], withoutSampler)],
      ['container #2', backendWith(['other.safetensors'])],
    );
    const judged = judgeGraph(sampling('base.safetensors'), fleet, new Set());
    expect(judged.status).toBe('not_runnable');
    expect(judged.problems[0]).toMatchObject({ kind: 'no_single_backend' });
    expect(judged.problems.slice(1).map((problem) => problem.message)).toEqual([
      'node 3 (KSamplerLike): node KSamplerLike is missing on container #1',
      'node 1 (CheckpointLoaderSimple): input ckpt_name: model checkpoints/base.safetensors is missing on container #2',
    ]);
  });

  it('a file the folder lists but the combo does not yet (read a moment apart) is installed', () => {
    // `/models/checkpoints` was read just after the file appeared, `/object_info` just before.
    const torn = inventory(
      {
        ...NODES,
        CheckpointLoaderSimple: {
          ...NODES.CheckpointLoaderSimple,
          input: { required: { ckpt_name: [['base.safetensors'], {}] } },
        },
      },
      { ...MODELS, checkpoints: ['base.safetensors', 'new.safetensors'] },
    );
    const fleet = fleetOf(['container #1', torn]);
    expect(judgeGraph(sampling('new.safetensors'), fleet, new Set()).status).toBe('runnable');
    expect(judgeGraph(sampling('absent.safetensors'), fleet, new Set()).problems[0]).toMatchObject({
      kind: 'missing_model',
    });
  });

  it('an API input is checked for its type, not against the options of the moment', () => {
    const graph = sampling('');
    const inv = inventory(NODES, MODELS);
    const options = { modelFolderOf: () => undefined, apiInputs: new Set([apiInputKey('1', 'ckpt_name')]) };
    expect(checkGraph(graph, inv, options)).toEqual([]);
    expect(checkGraph(graph, inv, { ...options, apiInputs: new Set() })).toHaveLength(1);
  });
});

describe('graph structure', () => {
  it('finds links to missing nodes, malformed links and each cycle once', () => {
    const graph: ComfyGraph = {
      '1': { class_type: 'A', inputs: { x: ['3', 0] } },
      '2': { class_type: 'B', inputs: { x: ['1', 0], y: ['9', 0], z: ['1', 'a', 3] } },
      '3': { class_type: 'C', inputs: { x: ['2', 0] } },
    };
    const problems = structureProblems(graph);
    expect(problems.map((problem) => problem.kind).sort()).toEqual(['bad_link', 'cycle', 'missing_node']);
    expect(problems.find((problem) => problem.kind === 'cycle')?.message).toMatch(/cycle (\d → ){3}\d/);
  });

  it('recognises a UI-format save', () => {
    expect(uiFormatProblem({ nodes: [], links: [] })?.message).toContain('Save (API Format)');
    expect(uiFormatProblem({ '1': { class_type: 'A', inputs: {} } })).toBeUndefined();
  });
});

describe('output nodes and outputs', () => {
  it('a custom output node is found from output_node, with its type from what it takes', () => {
    const graph: ComfyGraph = {
      '1': { class_type: 'MeshFromSomething', inputs: {} },
      '2': { class_type: 'SaveGLB', inputs: { mesh: ['1', 0], filename_prefix: 'mesh' } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    };
    const lookup = (name: string) =>
      name === 'SaveImage'
        ? { output_node: false, input: { required: { images: ['IMAGE', {}] } } }
        : NODES[name];
    // SaveImage is an output node in the built-in list, but this fleet says it is not one: the fleet wins.
    expect(detectOutputs(graph, lookup as never)).toEqual([
      { name: 'filename_prefix_2', type: 'file', node_id: '2', parameter: 'filename_prefix' },
    ]);
    expect(detectOutputs(graph).map((spec) => spec.node_id)).toEqual(['3']);
  });

  it('collects every file under any key and every text, in batch order; temp files are previews', () => {
    const items = producedItems(
      {
        outputs: {
          '5': {
            gifs: [
              { filename: 'a.mp4', type: 'output' },
              { filename: 'b.mp4', type: 'output' },
            ],
            audio: [{ filename: 'c.flac', subfolder: 'x', type: 'output' }],
            '3d': [{ filename: 'd.glb', type: 'output' }],
            images: [{ filename: 'e.png', type: 'temp' }],
            animated: [true],
            text: ['first', 'second'],
          },
        },
      },
      '5',
    );
    expect(items.map((item) => (item.kind === 'file' ? item.ref.filename : item.text))).toEqual([
      'a.mp4',
      'b.mp4',
      'c.flac',
      'd.glb',
      'e.png',
      'first',
      'second',
    ]);
    expect(items.map((item) => item.preview)).toEqual([false, false, false, false, true, false, false]);
  });

  it('a saved text echoed inline is taken inline', () => {
    const items = producedItems(
      { outputs: { '3': { text: ['hi'], files: [{ filename: 'hi.txt', type: 'output' }] } } },
      '3',
    );
    expect(items).toEqual([{ kind: 'text', text: 'hi', preview: false }]);
  });

  it('media types come from the mime library', () => {
    expect(['a.webm', 'a.mp4', 'a.glb', 'a.wav', 'a.webp', 'a.txt', 'a.qqq'].map(contentTypeFor)).toEqual([
      'video/webm',
      'video/mp4',
      'model/gltf-binary',
      'audio/wav',
      'image/webp',
      'text/plain; charset=utf-8',
      'application/octet-stream',
    ]);
    expect(extensionForType('image/jpeg; q=1')).toBe('.jpg');
    expect(extensionForType('application/x-nothing')).toBeUndefined();
  });
});

describe('large graphs', () => {
  it('a chain of 50 000 nodes and a cycle at its end are checked without exhausting the stack', () => {
    const graph: ComfyGraph = { '0': { class_type: 'A', inputs: { x: ['49999', 0] } } };
    for (let i = 1; i < 50_000; i++)
      graph[String(i)] = { class_type: 'A', inputs: { x: [String(i - 1), 0] } };
    const problems = structureProblems(graph);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'cycle', input: 'x' });
  });
});
