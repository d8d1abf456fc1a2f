/** A link in API format: [source node id, output index]. */
export type Link = [string, number];

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: unknown;
}

export type PromptGraph = Record<string, PromptNode>;

export function isLink(value: unknown): value is Link {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || typeof value[0] === 'number') &&
    typeof value[1] === 'number'
  );
}

/** Numeric-aware descending order. ComfyUI runs outputs in Python set order; this reproduces the captures. */
export function compareNodeIdsDesc(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return nb - na;
  return a < b ? 1 : a > b ? -1 : 0;
}
