'use client';
import { useSyncExternalStore } from 'react';
import type { RunStore } from '../core/run-store';
import type { RunSnapshot } from '../core/types';

/** Subscribes to a run store. The server snapshot is the store's initial state: no stream opens during SSR. */
export function useRunSnapshot(store: RunStore): RunSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
