'use client';
import { useSyncExternalStore } from 'react';
import type { WorkflowsSnapshot } from '../core/workflows-store';
import { useFlowScaleContext } from './context';

/** The workflows the caller may run (through a proxy: only the allow-listed ones). */
export function useWorkflows(): WorkflowsSnapshot & { refetch: () => Promise<void> } {
  const { workflows } = useFlowScaleContext();
  const snapshot = useSyncExternalStore(workflows.subscribe, workflows.getSnapshot, workflows.getSnapshot);
  return { ...snapshot, refetch: workflows.refetch };
}
