import type { ApiKeyRecord, KeyRole } from '../storage/records';

/**
 * Which projects' runs, outputs and events a caller may see: one project, or (an admin key) every one.
 * Everything that reads a run by id takes one, so a run of another project looks exactly like no run.
 */
export interface Scope {
  /** null: every project. */
  readonly projectId: string | null;
}

export const EVERY_PROJECT: Scope = Object.freeze({ projectId: null });

export const projectScope = (projectId: string): Scope => ({ projectId });

export const sees = (scope: Scope, projectId: string): boolean =>
  scope.projectId === null || scope.projectId === projectId;

/** An admin key sees every project; any other key, its own. Callers without a key (public routes) see none. */
export const scopeOfKey = (key: Pick<ApiKeyRecord, 'role' | 'projectId'>): Scope =>
  key.role === 'admin' ? EVERY_PROJECT : projectScope(key.projectId);

export const ROLES: readonly KeyRole[] = ['admin', 'member', 'viewer'];

/** `user` was the only non-admin role before projects; it still means `member` on input. */
export function parseRole(role: string): KeyRole | undefined {
  if (role === 'user') return 'member';
  return (ROLES as readonly string[]).includes(role) ? (role as KeyRole) : undefined;
}
