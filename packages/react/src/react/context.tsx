'use client';
import { FlowscaleAPI, type FlowscaleConfig } from 'flowscale';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import type { FlowScaleClient } from '../core/types';
import { WorkflowsStore } from '../core/workflows-store';

interface FlowScaleContextValue {
  client: FlowScaleClient;
  workflows: WorkflowsStore;
}

const FlowScaleContext = createContext<FlowScaleContextValue | null>(null);

export type FlowScaleProviderProps = { children?: ReactNode } & (
  | { client: FlowScaleClient; config?: never }
  | { config: FlowscaleConfig; client?: never }
);

/**
 * Makes a FlowScale client available to the hooks. In a browser pass a client (or config) in
 * `proxyMode`, pointing at your backend proxy; the API key stays on the server.
 */
export function FlowScaleProvider({ client, config, children }: FlowScaleProviderProps) {
  // A config object literal is new on every render; key the client on its content instead.
  const configKey = config ? JSON.stringify(config) : '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: configKey stands for config
  const value = useMemo<FlowScaleContextValue>(() => {
    const c = client ?? new FlowscaleAPI(config as FlowscaleConfig);
    return { client: c, workflows: new WorkflowsStore(c) };
  }, [client, configKey]);
  return <FlowScaleContext.Provider value={value}>{children}</FlowScaleContext.Provider>;
}

export function useFlowScaleContext(): FlowScaleContextValue {
  const value = useContext(FlowScaleContext);
  if (!value) throw new Error('FlowScale hooks must be used inside <FlowScaleProvider>');
  return value;
}

/** The provider's SDK client, for calls the hooks don't cover. */
export function useFlowScaleClient(): FlowScaleClient {
  return useFlowScaleContext().client;
}
