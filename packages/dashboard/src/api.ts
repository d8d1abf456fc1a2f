import type { ApiResponse, RunListFilter, RunRecord, RunsPage } from 'flowscale';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { apiBase } from './session';

export interface RunsQuery extends RunListFilter {
  page: number;
  page_size: number;
}

/** The admin client plus the self-hosted server's reads the SDK's core leaves out. */
export class DashboardAPI extends FlowscaleAdminAPI {
  listRuns(query: RunsQuery, signal?: AbortSignal): Promise<ApiResponse<RunsPage>> {
    const clean = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''));
    return this.call('GET', 'runs', { ...(signal ? { signal } : {}) }, { query: clean });
  }

  /** Any JSON read under `/api/v1/` (endpoints the server may or may not have yet). */
  getJson<T>(path: string, signal?: AbortSignal): Promise<ApiResponse<T>> {
    return this.call('GET', path, signal ? { signal } : undefined);
  }

  runRecord(runId: string): Promise<ApiResponse<RunRecord>> {
    return this.getRun(runId);
  }
}

/**
 * A client that sends the key as `X-API-KEY` and reports any 401 (a revoked or wrong key) so the app can
 * return to sign-in. The key is the user's own, typed into their own server's page, hence the opt-in.
 */
export function createClient(apiKey: string, onUnauthorized: (message: string) => void): DashboardAPI {
  const fetchImpl = async (input: string, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    if (response.status === 401) {
      const body = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { errors?: string };
      onUnauthorized(body.errors ?? 'Your API key was refused');
    }
    return response;
  };
  return new DashboardAPI({
    apiKey,
    baseUrl: apiBase(),
    allowDangerouslyExposeApiKey: true,
    enableLogging: false,
    retries: 1,
    timeout: 60_000,
    fetchImpl,
  });
}

/** A file input's bytes for a preview or a re-run, fetched with the key (an `<img src>` cannot send it). */
export async function fetchRunInput(apiKey: string, runId: string, name: string): Promise<Blob | null> {
  const url = `${apiBase()}/api/v1/runs/${encodeURIComponent(runId)}/inputs/${encodeURIComponent(name)}`;
  const response = await fetch(url, { headers: { 'X-API-KEY': apiKey } });
  return response.ok ? response.blob() : null;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * Starts a run with multipart inputs through XMLHttpRequest: fetch cannot report upload progress over
 * HTTP/1.1. Resolves to the new run id.
 */
export function submitRun(
  apiKey: string,
  workflowId: string,
  inputs: FormData,
  onProgress: (progress: UploadProgress) => void,
  onUnauthorized: (message: string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${apiBase()}/api/v1/runs?workflow_id=${encodeURIComponent(workflowId)}`);
    xhr.setRequestHeader('X-API-KEY', apiKey);
    xhr.setRequestHeader('Idempotency-Key', crypto.randomUUID());
    xhr.upload.onprogress = (event) => onProgress({ loaded: event.loaded, total: event.total });
    xhr.onerror = () => reject(new Error('Network error while submitting the run'));
    xhr.onload = () => {
      let body: {
        data?: { run_id?: string };
        errors?: string;
        details?: Array<{ field: string; message: string }>;
      };
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = {};
      }
      if (xhr.status === 401) onUnauthorized(body.errors ?? 'Your API key was refused');
      if (xhr.status >= 200 && xhr.status < 300 && body.data?.run_id) return resolve(body.data.run_id);
      const details = body.details?.map((d) => `${d.field}: ${d.message}`).join('; ');
      reject(new Error([body.errors ?? `HTTP ${xhr.status}`, details].filter(Boolean).join(' — ')));
    };
    xhr.send(inputs);
  });
}
