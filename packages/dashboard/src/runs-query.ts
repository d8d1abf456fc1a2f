import type { ApiResponse, RunsPage } from 'flowscale';
import { createClient, type RunsQuery } from './api';
import { parse } from './route';
import { savedKey } from './session';

export const PAGE_SIZES = [25, 50, 100];
export const FILTER_KEYS = ['status', 'workflow', 'group', 'from', 'to', 'size'] as const;

const pageSize = (params: URLSearchParams): number => {
  const size = Number(params.get('size'));
  return PAGE_SIZES.includes(size) ? size : (PAGE_SIZES[0] as number);
};

/** The URL's filter (shareable) as the list endpoint's query. Dates are whole local days. */
export function toQuery(params: URLSearchParams): RunsQuery {
  const day = (value: string | null, offsetDays: number) => {
    if (!value) return undefined;
    const date = new Date(`${value}T00:00:00`);
    if (Number.isNaN(date.getTime())) return undefined;
    date.setDate(date.getDate() + offsetDays);
    return date.toISOString();
  };
  return {
    page: Math.max(1, Number(params.get('page')) || 1),
    page_size: pageSize(params),
    status: params.get('status') ?? undefined,
    workflow_id: params.get('workflow') ?? undefined,
    group_id: params.get('group') ?? undefined,
    created_after: day(params.get('from'), 0),
    created_before: day(params.get('to'), 1),
  };
}

let early: { queryKey: string; response: Promise<ApiResponse<RunsPage>> } | null = null;

/**
 * Asks for the runs page's list as soon as the script runs, when the tab is signed in and opens on that
 * page: otherwise the request waits for React's first render and paint, its effects, and only then leaves.
 */
export function prefetchRuns(): void {
  const key = savedKey();
  const { path, params } = parse();
  if (!key || (path[0] ?? 'runs') !== 'runs' || path[1]) return;
  // Any failure (a 401 included) is left to the page's own request, which reports it.
  const response = createClient(key, () => undefined).listRuns(toQuery(params));
  response.catch(() => undefined);
  early = { queryKey: params.toString(), response };
}

/** The prefetched list, once, when it is for this query. */
export function takePrefetched(queryKey: string): Promise<ApiResponse<RunsPage>> | undefined {
  const taken = early?.queryKey === queryKey ? early.response : undefined;
  early = null;
  return taken;
}
