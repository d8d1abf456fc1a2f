/** ComfyUI's error shapes for POST /prompt. */
export interface PromptErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrorEntry {
  errors: PromptErrorItem[];
  dependent_outputs: string[];
  class_type: string;
}

export type NodeErrors = Record<string, NodeErrorEntry>;

export interface PromptErrorBody {
  error: PromptErrorItem;
  node_errors: NodeErrors;
}

export function promptError(
  type: string,
  message: string,
  details = '',
  nodeErrors: NodeErrors = {},
): PromptErrorBody {
  return { error: { type, message, details, extra_info: {} }, node_errors: nodeErrors };
}
