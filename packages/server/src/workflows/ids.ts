import { createHash } from 'node:crypto';

// A fixed namespace so the same workflow name always yields the same id on every install.
const NAMESPACE = Buffer.from('6f1c2b9e4a7d4c3e9b8a1d2e3f405162', 'hex');

/** RFC 4122 version-5 UUID of the workflow name: stable across restarts and re-deploys. */
export function workflowIdFromName(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const WORKFLOW_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
