'use client';
import { useCallback, useEffect, useState } from 'react';
import { RunStore } from '../core/run-store';
import { isTerminal, type RunSnapshot } from '../core/types';
import { useFlowScaleClient } from './context';
import { useRunSnapshot } from './use-run-store';

export interface UseRunResult extends RunSnapshot {
  cancel: () => Promise<void>;
  isRunning: boolean;
}

/**
 * Follows a run that already exists, e.g. one whose id survived a page reload: the event stream is
 * replayed from the first event, so the state catches up and then continues live.
 */
export function useRun(runId: string | null | undefined): UseRunResult {
  const client = useFlowScaleClient();
  const [store] = useState(() => new RunStore(client, runId ?? null));
  useEffect(() => {
    store.follow(runId ?? null);
  }, [store, runId]);
  const snapshot = useRunSnapshot(store);
  const cancel = useCallback(() => store.cancel(), [store]);
  return { ...snapshot, cancel, isRunning: snapshot.runId !== null && !isTerminal(snapshot.status) };
}
