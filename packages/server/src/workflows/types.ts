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
  inputs: InputSpec[];
  outputs: OutputSpec[];
  createdAt: string;
  updatedAt: string;
}
