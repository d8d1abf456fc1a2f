import fs from 'node:fs/promises';
import path from 'node:path';
import { type FieldProblem, invalidWorkflow, WorkflowNotFound, workflowNotRunnable } from '../errors';
import { type Scope, sees } from '../projects/scope';
import type { WorkflowRecord } from '../storage/records';
import type { WorkflowStore } from '../storage/stores';
import { detectInputs, detectOutputs, graphProblems, type NodeInfoLookup } from './detect';
import { structureProblems, uiFormatProblem } from './graph-structure';
import { WORKFLOW_NAME_PATTERN, workflowIdFromName } from './ids';
import { applyManifest, manifestProblems, type WorkflowManifest } from './manifest';
import type {
  ComfyGraph,
  Deployment,
  GraphProblem,
  InputSpec,
  OutputSpec,
  Runnability,
  WorkflowStatus,
} from './types';

export interface DeployRequest {
  name: string;
  description?: string;
  workflow: unknown;
  manifest?: unknown;
  source: WorkflowRecord['source'];
  /** Project ids that may use it; absent or null: shared with every project. */
  projects?: string[] | null;
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
  /** Whether some backend can run it now (see Runnability); not in FlowScale's shape. */
  status: WorkflowStatus;
  status_reasons: GraphProblem[];
  runnable_on: string[];
}

/** What the fleet says about graphs: its node classes, and whether some backend can run a graph. */
export interface FleetChecks {
  nodeInfo: NodeInfoLookup;
  /** `apiInputs`: `nodeId\0parameter` of the graph's API inputs, whose values come per run. */
  judge(graph: ComfyGraph, apiInputs: ReadonlySet<string>): Runnability;
}

/** Without a fleet (unit use): structure only, and every graph's status unknown. */
const NO_FLEET: FleetChecks = {
  nodeInfo: () => undefined,
  judge: (graph) => {
    const problems = structureProblems(graph);
    return { status: problems.length > 0 ? 'not_runnable' : 'unknown', problems, backends: [] };
  },
};

const apiInputsOf = (inputs: InputSpec[]): Set<string> =>
  new Set(inputs.map((input) => `${input.node_id}\0${input.parameter}`));

const asField = (problem: GraphProblem): FieldProblem => ({ field: 'workflow', ...problem });

const toDeployment = (record: WorkflowRecord): Deployment => ({
  id: record.id,
  name: record.name,
  description: record.description,
  graph: record.graph,
  manifest: (record.manifest ?? null) as WorkflowManifest | null,
  inputs: JSON.parse(record.inputsJson),
  outputs: JSON.parse(record.outputsJson),
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
  projects: record.projects,
});

/** Shared workflows are everyone's; a restricted one is visible to its projects (and admins) only. */
const visibleTo = (deployment: Deployment, scope: Scope): boolean =>
  !deployment.projects ||
  scope.projectId === null ||
  deployment.projects.some((projectId) => sees(scope, projectId));

const toWorkflowView = (deployment: Deployment, runnability: Runnability): WorkflowView => ({
  id: deployment.id,
  name: deployment.name,
  description: deployment.description,
  inputs: JSON.stringify(Object.fromEntries(deployment.inputs.map((input) => [input.name, input.type]))),
  outputs: JSON.stringify(Object.fromEntries(deployment.outputs.map((output) => [output.name, output.type]))),
  input_schema: deployment.inputs,
  output_schema: deployment.outputs,
  created_at: deployment.createdAt,
  updated_at: deployment.updatedAt,
  status: runnability.status,
  status_reasons: runnability.problems,
  runnable_on: runnability.backends,
});

/** Deploys workflows and finds them by id or name. Deployments are cached in memory; the store is the truth. */
export class WorkflowService {
  readonly #store: WorkflowStore;
  readonly #byId = new Map<string, Deployment>();
  readonly #status = new Map<string, Runnability>();
  #checks: FleetChecks = NO_FLEET;

  constructor(store: WorkflowStore) {
    this.#store = store;
  }

  /** From now on, deploys and re-checks judge workflows against this fleet. */
  useFleet(checks: FleetChecks): void {
    this.#checks = checks;
  }

  view(deployment: Deployment): WorkflowView {
    return toWorkflowView(deployment, this.statusOf(deployment));
  }

  statusOf(deployment: Deployment): Runnability {
    let status = this.#status.get(deployment.id);
    if (!status) {
      status = this.#checks.judge(deployment.graph, apiInputsOf(deployment.inputs));
      this.#status.set(deployment.id, status);
    }
    return status;
  }

  /** Refuses a run no backend can run, rather than queueing it forever; `unknown` is let through. */
  assertRunnable(deployment: Deployment): void {
    const status = this.statusOf(deployment);
    if (status.status === 'not_runnable')
      throw workflowNotRunnable(deployment.name, status.problems.map(asField));
  }

  /**
   * After the fleet changed: judges every workflow again and, now that more node classes may be known,
   * detects its outputs again (a custom output node deployed before any inventory was read).
   */
  async recheck(): Promise<void> {
    this.#status.clear();
    for (const deployment of this.#byId.values()) {
      this.statusOf(deployment);
      const detected = detectOutputs(deployment.graph, this.#checks.nodeInfo);
      if (detected.length === 0) continue;
      const { outputs } = applyManifest(deployment.manifest, [], detected);
      if (JSON.stringify(outputs) === JSON.stringify(deployment.outputs)) continue;
      const record = await this.#store.get(deployment.id);
      if (!record) continue;
      const updated = await this.#store.upsert({ ...record, outputsJson: JSON.stringify(outputs) });
      this.#byId.set(deployment.id, toDeployment(updated));
    }
  }

  async load(): Promise<void> {
    for (const record of await this.#store.list()) this.#byId.set(record.id, toDeployment(record));
  }

  /** The workflows this scope may see, by name. */
  list(scope: Scope): Deployment[] {
    return [...this.#byId.values()]
      .filter((deployment) => visibleTo(deployment, scope))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Any workflow, whoever may see it (for admin operations). */
  find(idOrName: string): Deployment | undefined {
    return (
      this.#byId.get(idOrName) ?? [...this.#byId.values()].find((deployment) => deployment.name === idOrName)
    );
  }

  /** A workflow this scope may see; another project's restricted workflow is as unknown as a missing one. */
  get(idOrName: string, scope: Scope): Deployment {
    const deployment = this.find(idOrName);
    if (!deployment || !visibleTo(deployment, scope)) throw new WorkflowNotFound(idOrName);
    return deployment;
  }

  async deploy(request: DeployRequest): Promise<Deployment> {
    const ui = uiFormatProblem(request.workflow);
    if (ui) throw invalidWorkflow([asField(ui)]);
    const problems: FieldProblem[] = [];
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
    const detectedOutputs = detectOutputs(graph, this.#checks.nodeInfo);
    for (const message of manifestProblems(request.manifest, detectedInputs, detectedOutputs)) {
      problems.push({ field: 'manifest', message });
    }
    const runnability = this.#checks.judge(graph, apiInputsOf(detectedInputs));
    if (runnability.status === 'not_runnable') problems.push(...runnability.problems.map(asField));
    if (detectedOutputs.length === 0) {
      problems.push({
        field: 'workflow',
        message:
          runnability.status === 'unknown'
            ? 'has no output node this server knows yet (e.g. SaveImage); no backend inventory has been read'
            : 'has no output node (no node in it has output_node: true on any backend)',
      });
    }
    if (problems.length > 0) throw invalidWorkflow(problems);

    const manifest = (request.manifest ?? null) as WorkflowManifest | null;
    const { inputs, outputs } = applyManifest(manifest, detectedInputs, detectedOutputs);
    const id = workflowIdFromName(request.name);
    const now = new Date().toISOString();
    const previous = this.#byId.get(id);
    const record = await this.#store.upsert({
      id,
      name: request.name,
      description: request.description ?? manifest?.description ?? '',
      graph,
      manifest,
      inputsJson: JSON.stringify(inputs),
      outputsJson: JSON.stringify(outputs),
      source: request.source,
      projects: request.projects ?? null,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    const deployment = toDeployment(record);
    this.#byId.set(id, deployment);
    this.#status.set(id, runnability);
    return deployment;
  }

  async remove(idOrName: string): Promise<Deployment> {
    const deployment = this.find(idOrName);
    if (!deployment) throw new WorkflowNotFound(idOrName);
    await this.#store.delete(deployment.id);
    this.#byId.delete(deployment.id);
    this.#status.delete(deployment.id);
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
