export { reduceRunEvent } from './core/reduce';
export { RunStore } from './core/run-store';
export {
  type FlowScaleClient,
  IDLE_RUN,
  isTerminal,
  type RunOutput,
  type RunPhase,
  type RunSnapshot,
} from './core/types';
export { type WorkflowsSnapshot, WorkflowsStore } from './core/workflows-store';
export { FlowScaleProvider, type FlowScaleProviderProps, useFlowScaleClient } from './react/context';
export {
  type ExecuteWorkflowHookOptions,
  type ExecuteWorkflowResult,
  useExecuteWorkflow,
} from './react/use-execute-workflow';
export { useFlowScale } from './react/use-flowscale';
export { type UseRunResult, useRun } from './react/use-run';
export { useWorkflows } from './react/use-workflows';
