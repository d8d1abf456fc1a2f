import type { RunStatus } from './types';

/** Every run status, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

export const isRunStatus = (status: string): status is RunStatus =>
  (RUN_STATUSES as readonly string[]).includes(status);
