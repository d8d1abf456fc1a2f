import type { EngineLimits } from '../config/limits';
import type { DataDirs } from '../data/data-dir';
import type { PromptGraph } from '../graph/prompt';
import type { ModelStore } from './testing/model-store';

/** Input options exactly as ComfyUI's /object_info shows them (default, min, max, step, tooltip, ...). */
export type InputOptions = Record<string, unknown>;

/**
 * One input spec in ComfyUI's wire shape: `[TYPE]`, `[TYPE, {opts}]`, `[[choices], {opts}]` (V1 combo)
 * or `["COMBO", {options: [...]}]` (V3 combo). Keeping the wire shape means /object_info is the spec itself.
 */
export type InputSpec = readonly [string | readonly string[], InputOptions?];

export interface NodeInputSpecs {
  required?: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  hidden?: Record<string, string>;
}

export type UiOutput = Record<string, unknown[]>;

export interface NodeResult {
  outputs: unknown[];
  ui?: UiOutput;
}

export interface NodeEnv {
  dirs: DataDirs;
  limits: EngineLimits;
  /** Models held by the test checkpoint loader (absent when the test nodes are off). */
  models?: ModelStore;
}

export interface RunContext extends NodeEnv {
  promptId: string;
  nodeId: string;
  prompt: PromptGraph;
  extraPngInfo: Record<string, unknown> | undefined;
  /** True once an interrupt was requested for the running prompt. */
  isInterrupted(): boolean;
  /** Sends a `progress` message for this node. */
  progress(value: number, max: number): void;
  /** Sends a binary TEXT frame for this node (ComfyUI's send_progress_text). */
  progressText(text: string): void;
  /** The declared type of each linked input's source output (e.g. FLOAT for a PrimitiveFloat). */
  inputTypes: Record<string, string>;
  /** A stable random suffix per node, used by preview file names. */
  previewSuffix(): string;
}

export type Inputs = Record<string, unknown>;

export interface NodeDefinition {
  name: string;
  displayName: string | null;
  description?: string;
  category: string;
  pythonModule: string;
  /** 'v3' nodes carry ComfyUI's extra V3 keys in /object_info. */
  schema?: 'v1' | 'v3';
  outputNode?: boolean;
  input: NodeInputSpecs;
  outputs: readonly string[];
  outputNames?: readonly string[];
  /** V1 nodes that have them (e.g. loaders) list output tooltips after `output_node`. */
  outputTooltips?: readonly string[];
  /** COMBO inputs whose choices are the files of a model folder (input name → folder, e.g. checkpoints). */
  modelInputs?: Record<string, string>;
  /** Inputs checked by `validate` instead of the built-in type/range/choice checks (ComfyUI's VALIDATE_INPUTS). */
  validatedInputs?: readonly string[];
  /** Returns true, or a message that becomes a custom_validation_failed error. */
  validate?(inputs: Inputs, env: NodeEnv): Promise<true | string> | true | string;
  /** ComfyUI's IS_CHANGED: extra cache-key material (e.g. a file hash). `null` means never cache. */
  fingerprint?(inputs: Inputs, env: NodeEnv): Promise<string | null> | string | null;
  run(inputs: Inputs, ctx: RunContext): Promise<NodeResult> | NodeResult;
}

/** Thrown by nodes for an expected failure; becomes an execution_error with this message. */
export class NodeError extends Error {
  override name = 'Exception';
}

export class InterruptedError extends Error {
  override name = 'InterruptProcessingException';
}
