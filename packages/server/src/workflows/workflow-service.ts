import fs from 'node:fs/promises';
import path from 'node:path';
import { invalidWorkflow, WorkflowNotFound } from '../http/errors';
import type { Storage, WorkflowRecord } from '../storage/types';
import { detectInputs, detectOutputs, graphProblems } from './detect';
import { WORKFLOW_NAME_PATTERN, workflowIdFromName } from './ids';
import { applyManifest, manifestProblems, type WorkflowManifest } from './manifest';
import type { ComfyGraph, Deployment, InputSpec, OutputSpec } from './types';

export interface DeployRequest {
  name: string;
  description?: string;
  workflow: unknown;
  manifest?: unknown;
  source: WorkflowRecord['source'];
}

/** What `getWorkflows` returns for one workflow: the FlowScale shape plus parsed schemas. */
export interface WorkflowView {
  id: string;
  name: string;
  description: string;
  inputs: string;
  outputs: string;
  input_schema: InputSpec[];
  output_schema: OutputSpec[];
  created_at: string;
  updated_at: string;
}

const toDeployment = (record: WorkflowRecord): Deployment => ({
  id: record.id,
  name: record.name,
  description: record.description,
  graph: record.graph,
  inputs: JSON.parse(record.inputsJson),
  outputs: JSON.parse(record.outputsJson),
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
});

export const toWorkflowView = (deployment: Deployment): WorkflowView => ({
  id: deployment.id,
  name: deployment.name,
  description: deployment.description,
  inputs: JSON.stringify(Object.fromEntries(deployment.inputs.map((input) => [input.name, input.type]))),
  outputs: JSON.stringify(Object.fromEntries(deployment.outputs.map((output) => [output.name, output.type]))),
  input_schema: deployment.inputs,
  output_schema: deployment.outputs,
  created_at: deployment.createdAt,
  updated_at: deployment.updatedAt,
});

/** Deploys workflows and finds them by id or name. Deployments are cached in memory; the store is the truth. */
export class WorkflowService {
  readonly #storage: Storage;
  readonly #byId = new Map<string, Deployment>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  async load(): Promise<void> {
    for (const record of await this.#storage.listWorkflows()) this.#byId.set(record.id, toDeployment(record));
  }

  list(): Deployment[] {
    return [...this.#byId.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  find(idOrName: string): Deployment | undefined {
    return this.#byId.get(idOrName) ?? this.list().find((deployment) => deployment.name === idOrName);
  }

  get(idOrName: string): Deployment {
    const deployment = this.find(idOrName);
    if (!deployment) throw new WorkflowNotFound(idOrName);
    return deployment;
  }

  async deploy(request: DeployRequest): Promise<Deployment> {
    const problems: { field: string; message: string }[] = [];
    if (typeof request.name !== 'string' || !WORKFLOW_NAME_PATTERN.test(request.name)) {
      problems.push({
        field: 'name',
        message: 'must be 1–100 characters of letters, digits, ".", "_" or "-"',
      });
    }
    for (const message of graphProblems(request.workflow)) problems.push({ field: 'workflow', message });
    if (problems.length > 0) throw invalidWorkflow(problems);

    const graph = request.workflow as ComfyGraph;
    const detectedInputs = detectInputs(graph);
    const detectedOutputs = detectOutputs(graph);
    for (const message of manifestProblems(request.manifest, detectedInputs, detectedOutputs)) {
      problems.push({ field: 'manifest', message });
    }
    if (detectedOutputs.length === 0) {
      problems.push({
        field: 'workflow',
        message: 'has no output node (e.g. SaveImage, FSSaveImage, FSSaveText)',
      });
    }
    if (problems.length > 0) throw invalidWorkflow(problems);

    const manifest = (request.manifest ?? null) as WorkflowManifest | null;
    const { inputs, outputs } = applyManifest(manifest, detectedInputs, detectedOutputs);
    const id = workflowIdFromName(request.name);
    const now = new Date().toISOString();
    const previous = this.#byId.get(id);
    const record = await this.#storage.upsertWorkflow({
      id,
      name: request.name,
      description: request.description ?? manifest?.description ?? '',
      graph,
      manifest,
      inputsJson: JSON.stringify(inputs),
      outputsJson: JSON.stringify(outputs),
      source: request.source,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    const deployment = toDeployment(record);
    this.#byId.set(id, deployment);
    return deployment;
  }

  async remove(idOrName: string): Promise<Deployment> {
    const deployment = this.get(idOrName);
    await this.#storage.deleteWorkflow(deployment.id);
    this.#byId.delete(deployment.id);
    return deployment;
  }

  /** Deploys every `<name>.json` in the folder (with its optional `<name>.manifest.json`). */
  async deployFolder(dir: string, warn: (message: string) => void): Promise<Deployment[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch {
      warn(`workflows folder ${dir} not found; nothing deployed from it`);
      return [];
    }
    const deployed: Deployment[] = [];
    for (const file of entries.sort()) {
      if (!file.endsWith('.json') || file.endsWith('.manifest.json')) continue;
      const name = file.slice(0, -'.json'.length);
      try {
        const workflow = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8'));
        const manifest = await readOptionalJson(path.join(dir, `${name}.manifest.json`));
        deployed.push(await this.deploy({ name, workflow, manifest, source: 'folder' }));
      } catch (error) {
        warn(`could not deploy ${file}: ${(error as Error).message}`);
      }
    }
    return deployed;
  }
}

async function readOptionalJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
