import type { ComfyGraph } from '../workflows/types';

export interface ComfyFileRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

/** One `/queue` item: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export type ComfyQueueItem = [number, string, ComfyGraph, Record<string, unknown>, string[]];

export interface ComfyQueue {
  queue_running: ComfyQueueItem[];
  queue_pending: ComfyQueueItem[];
}

export interface ComfyHistoryEntry {
  outputs?: Record<string, Record<string, unknown>>;
  status?: {
    status_str?: string;
    completed?: boolean;
    messages?: Array<[string, Record<string, unknown>]>;
  };
}

export interface ComfyNodeError {
  errors?: Array<{ type?: string; message?: string; details?: string }>;
  class_type?: string;
}

export interface ComfyPromptRejection {
  error?: { type?: string; message?: string; details?: string };
  node_errors?: Record<string, ComfyNodeError>;
}

export interface ComfyMessage {
  type: string;
  data: Record<string, unknown>;
}
