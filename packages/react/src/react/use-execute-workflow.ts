'use client';
import { useCallback, useState } from 'react';
import { RunStore } from '../core/run-store';
import type { RunSnapshot } from '../core/types';
import { useFlowScaleClient } from './context';
import { useRunSnapshot } from './use-run-store';

export interface ExecuteWorkflowResult extends RunSnapshot {
  /** Starts a run (replacing the one shown); resolves to its id, or null on failure (see `error`). */
  submit: (
    inputs: Record<string, unknown>,
    options?: { workflowId?: string; groupId?: string },
  ) => Promise<string | null>;
  cancel: () => Promise<void>;
  /** Stops following the run and returns to `idle`. */
  reset: () => void;
  /** True from submit until the run finishes. */
  isRunning: boolean;
}

export interface ExecuteWorkflowHookOptions {
  /**
   * Report the inputs' upload in `upload` ({ loaded, total }) while submitting. In browsers the request is
   * then sent with XMLHttpRequest (fetch cannot report upload progress). @default false
   */
  uploadProgress?: boolean;
}

/** Submits runs of a workflow and follows each one live: status, progress, current node, outputs. */
export function useExecuteWorkflow(
  workflowId?: string,
  hookOptions: ExecuteWorkflowHookOptions = {},
): ExecuteWorkflowResult {
  const { uploadProgress = false } = hookOptions;
  const client = useFlowScaleClient();
  const [store] = useState(() => new RunStore(client, null));
  const snapshot = useRunSnapshot(store);

  const submit = useCallback<ExecuteWorkflowResult['submit']>(
    (inputs, opts = {}) => {
      const id = opts.workflowId ?? workflowId;
      if (!id) return Promise.reject(new TypeError('useExecuteWorkflow: no workflowId given'));
      return store.submit(id, inputs, opts.groupId, uploadProgress);
    },
    [store, workflowId, uploadProgress],
  );
  const cancel = useCallback(() => store.cancel(), [store]);
  const reset = useCallback(() => store.follow(null), [store]);

  return {
    ...snapshot,
    submit,
    cancel,
    reset,
    isRunning:
      snapshot.status === 'submitting' || snapshot.status === 'queued' || snapshot.status === 'running',
  };
}
