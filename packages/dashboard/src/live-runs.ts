import type { RunRecord } from 'flowscale';
import { isTerminalStatus } from 'flowscale/events';
import { useEffect, useRef } from 'react';
import type { DashboardAPI } from './api';

/** What a `run_status_update` WebSocket message carries (the run event's data). */
export interface StatusUpdate {
  run_id: string;
  event: string;
  status: string;
  progress?: number;
  ts?: string;
}

/** A run row with what a status update says about it applied. */
export function applyUpdate(run: RunRecord, update: StatusUpdate): RunRecord {
  const next: RunRecord = { ...run, status: update.status };
  if (typeof update.progress === 'number') next.progress = Math.max(run.progress ?? 0, update.progress);
  if (update.event === 'run.started' && update.ts) next.started_at = update.ts;
  if (isTerminalStatus(update.status) && update.ts) next.completed_at ??= update.ts;
  return next;
}

/**
 * Every run's status updates over the server's WebSocket (`/api/v1/ws` with no subscription sends all of
 * them). The key travels as a subprotocol, never in the URL.
 */
export function useRunUpdates(
  client: DashboardAPI,
  enabled: boolean,
  onUpdate: (update: StatusUpdate) => void,
  onConnected: (connected: boolean) => void,
): void {
  const handler = useRef(onUpdate);
  handler.current = onUpdate;
  const connection = useRef(onConnected);
  connection.current = onConnected;
  useEffect(() => {
    if (!enabled) return;
    const disconnect = client.connectWebSocket({
      maxReconnectAttempts: 1000,
      onOpen: () => connection.current(true),
      onClose: () => connection.current(false),
      onMessage: (message) => {
        if (message.type !== 'run_status_update') return;
        const data = message.data as StatusUpdate | undefined;
        if (data && typeof data.run_id === 'string' && typeof data.status === 'string') handler.current(data);
      },
    });
    return () => {
      disconnect();
      connection.current(false);
    };
  }, [client, enabled]);
}
