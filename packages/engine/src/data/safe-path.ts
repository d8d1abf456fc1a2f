import path from 'node:path';

/** True when `target` is `root` itself or lies inside it (after normalisation). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Joins user-supplied segments under root; returns null when the result would escape root. */
export function joinInside(root: string, ...segments: string[]): string | null {
  if (segments.some((s) => s.includes('\0'))) return null;
  const target = path.resolve(root, ...segments);
  return isInside(root, target) ? target : null;
}

/** ComfyUI's "name.png [output]" annotation: returns the bare name and the folder type, if any. */
export function splitAnnotation(name: string): { name: string; type?: 'input' | 'output' | 'temp' } {
  const match = /^(.*) \[(input|output|temp)\]$/.exec(name);
  if (!match) return { name };
  return { name: match[1] ?? '', type: match[2] as 'input' | 'output' | 'temp' };
}
