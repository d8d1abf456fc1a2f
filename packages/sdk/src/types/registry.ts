import type { WorkflowInput } from '../uploads/uploadable';

/**
 * Augment this interface (see docs/sdk-typed-workflows.md) to type workflow inputs by workflow id:
 *
 * ```ts
 * declare module 'flowscale' {
 *   interface WorkflowRegistry {
 *     'text-echo': { inputs: { default_value_1?: string }; outputs: { filename_prefix_3: 'string' } };
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, users augment it
export interface WorkflowRegistry {}

export type OutputType = 'string' | 'integer' | 'number' | 'boolean' | 'image' | 'video' | 'audio' | 'file';

export interface WorkflowDefinition {
  inputs: object;
  outputs: Record<string, OutputType | (string & {})>;
}

/**
 * The `data` type for a workflow id: the registered inputs when `Id` is a literal key of the registry,
 * otherwise the documented loose `WorkflowInput`. A conditional type (not overloads) so a known id can
 * never fall back to the loose signature.
 */
export type WorkflowInputsOf<Registry, Id extends string> = string extends Id
  ? WorkflowInput
  : Id extends keyof Registry
    ? Registry[Id] extends { inputs: infer Inputs }
      ? Inputs
      : WorkflowInput
    : WorkflowInput;
