'use client';
import type { GetAllOutputsResponse, WorkflowInput } from 'flowscale';
import { useCallback, useRef, useState } from 'react';
import { useFlowScaleClient } from './context';

/**
 * The hook from the FlowScale docs: `executeWorkflow` runs a workflow to completion
 * (`executeWorkflowAsync`) and resolves to its outputs, with `loading` and `error` alongside.
 */
export function useFlowScale() {
  const client = useFlowScaleClient();
  const [pending, setPending] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const latest = useRef(0);

  const executeWorkflow = useCallback(
    async (
      workflowId: string,
      inputs: Record<string, unknown>,
      groupId?: string,
    ): Promise<GetAllOutputsResponse> => {
      const call = ++latest.current;
      setPending((n) => n + 1);
      setError(null);
      try {
        return await client.executeWorkflowAsync(workflowId, inputs as WorkflowInput, groupId);
      } catch (err) {
        // Only the most recent call decides what the component shows.
        if (call === latest.current) setError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      } finally {
        setPending((n) => n - 1);
      }
    },
    [client],
  );

  return { executeWorkflow, loading: pending > 0, error };
}
