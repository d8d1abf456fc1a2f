/**
 * The parsed workflow schema as the server returns it (`GET /api/v1/comfy/workflows/{id|name}`, see
 * docs/architecture.md). Declared structurally here so the pure parts of the CLI (input parsing, the
 * types generator) don't depend on how the SDK spells its types.
 */
export interface SchemaField {
  name: string;
  type: string;
  required?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  choices?: readonly unknown[];
  description?: string;
  /** A friendlier name from the workflow's manifest; the server accepts it in place of `name`. */
  alias?: string;
  /** The I/O label set in the graph (FlowScale's "I/O Label"). */
  label?: string;
  node_id?: string;
  parameter?: string;
}

export interface WorkflowSchema {
  id: string;
  name: string;
  description?: string | null;
  input_schema: readonly SchemaField[];
  output_schema: readonly SchemaField[];
}

/** Input types whose value is uploaded as a file part rather than sent as text. */
export const FILE_TYPES: ReadonlySet<string> = new Set(['image', 'video', 'audio', 'file']);
