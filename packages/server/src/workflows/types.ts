import type { WorkflowManifest } from './manifest';

export type ComfyInputValue =
  | string
  | number
  | boolean
  | null
  | [string, number]
  | unknown[]
  | Record<string, unknown>;

export interface ComfyNode {
  class_type: string;
  inputs: Record<string, ComfyInputValue>;
  _meta?: { title?: string };
}

/** A ComfyUI API-format graph: node id → node. */
export type ComfyGraph = Record<string, ComfyNode>;

export type InputType = 'string' | 'integer' | 'number' | 'boolean' | 'image' | 'video' | 'audio' | 'file';
export type OutputType = 'string' | 'integer' | 'image' | 'video' | 'audio' | 'file';

export const FILE_INPUT_TYPES: ReadonlySet<InputType> = new Set(['image', 'video', 'audio', 'file']);

export interface InputSpec {
  /** FlowScale name `<parameter>_<nodeId>`. */
  name: string;
  type: InputType;
  required: boolean;
  default?: string | number | boolean;
  min?: number;
  max?: number;
  choices?: Array<string | number>;
  description?: string;
  alias?: string;
  label?: string;
  max_file_size?: number;
  node_id: string;
  parameter: string;
}

export interface OutputSpec {
  /** FlowScale base name `<parameter>_<nodeId>`; each run appends its token. */
  name: string;
  type: OutputType;
  node_id: string;
  parameter: string;
  label?: string;
  description?: string;
}

export interface Deployment {
  id: string;
  name: string;
  description: string;
  graph: ComfyGraph;
  manifest: WorkflowManifest | null;
  inputs: InputSpec[];
  outputs: OutputSpec[];
  createdAt: string;
  updatedAt: string;
  /** The projects that may see and run it; null or absent: every project. */
  projects?: string[] | null;
}

/** What kind of problem a graph has; `details[].kind` in a 422 or a workflow's `status_reasons`. */
export type GraphProblemKind =
  | 'ui_format'
  | 'bad_link'
  | 'missing_node'
  | 'missing_slot'
  | 'cycle'
  | 'unknown_class'
  | 'missing_model'
  | 'missing_input'
  | 'type_mismatch'
  | 'not_in_options'
  | 'out_of_range'
  | 'bad_value'
  | 'no_single_backend';

/** One problem of a graph, naming the node, its class and the input concerned. */
export interface GraphProblem {
  kind: GraphProblemKind;
  message: string;
  node_id?: string;
  class_type?: string;
  input?: string;
}

/**
 * Whether the fleet can run a workflow: `runnable` on at least one backend, `not_runnable` (with the
 * reasons), or `unknown` while no backend's inventory has been read.
 */
export type WorkflowStatus = 'runnable' | 'not_runnable' | 'unknown';

export interface Runnability {
  status: WorkflowStatus;
  problems: GraphProblem[];
  /** Names of the backends that can run it. */
  backends: string[];
}
