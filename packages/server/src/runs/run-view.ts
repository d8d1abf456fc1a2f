import type { UrlSigner } from '../outputs/signed-urls';
import type { Run, RunError, RunInput, RunPriority, RunStatus } from '../storage/records';

/** The run record as the FlowScale API returns it. */
export interface RunView {
  _id: string;
  id: string;
  workflow_id: string;
  group_id: string | null;
  status: RunStatus;
  inputs: Array<Pick<RunInput, 'path' | 'value' | 'url'>>;
  output_names: string[];
  outputs: Array<{
    filename: string;
    url: string;
    content_type: string;
    size: number;
    node_id: string;
    name: string;
  }>;
  progress: number;
  error: RunError | null;
  prompt_id: string;
  container: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
  /** Why a queued run is not placed yet, e.g. "waiting for a backend: none reachable". */
  waiting?: string;
  metadata: Record<string, unknown> | null;
  project_id: string;
  priority: RunPriority;
  /** The execution limit sent with the run, in ms; null for none. */
  timeout_ms: number | null;
}

export const WAITING_NONE_REACHABLE = 'waiting for a backend: none reachable';

export type DownloadUrl = (filename: string) => Promise<string>;

/** Our own signed URL (the server streams the file), or, given `presign`, a presigned URL of the blob store. */
export function downloadUrlBuilder(
  publicUrl: () => string,
  signer: UrlSigner,
  presign?: (filename: string) => Promise<string>,
): DownloadUrl {
  if (presign) return presign;
  return async (filename) => {
    const { expires, signature } = signer.sign(filename);
    return `${publicUrl()}/api/v1/files/${encodeURIComponent(filename)}?expires=${expires}&signature=${signature}`;
  };
}

export async function toRunView(
  run: Run,
  downloadUrl: DownloadUrl,
  containerName: string | null,
  waiting?: string,
): Promise<RunView> {
  const urls = await Promise.all(run.outputs.map((output) => downloadUrl(output.filename)));
  return {
    _id: run.id,
    id: run.id,
    workflow_id: run.workflowId,
    group_id: run.groupId,
    status: run.status,
    inputs: run.inputs.map((input) => ({ path: input.path, value: input.value })),
    output_names: run.outputNames,
    outputs: run.outputs.map((output, index) => ({
      filename: output.filename,
      name: output.name,
      url: urls[index] as string,
      content_type: output.content_type,
      size: output.size,
      node_id: output.node_id,
    })),
    progress: run.progress,
    error: run.error,
    prompt_id: run.promptId,
    container: containerName,
    created_at: run.createdAt,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    updated_at: run.updatedAt,
    ...(waiting ? { waiting } : {}),
    metadata: run.metadata,
    project_id: run.projectId,
    priority: run.priority,
    timeout_ms: run.timeoutMs,
  };
}
