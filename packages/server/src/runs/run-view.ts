import type { UrlSigner } from '../outputs/signed-urls';
import type { Run, RunError, RunInput, RunStatus } from '../storage/types';

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
}

export type DownloadUrl = (filename: string) => string;

export function downloadUrlBuilder(publicUrl: () => string, signer: UrlSigner): DownloadUrl {
  return (filename) => {
    const { expires, signature } = signer.sign(filename);
    return `${publicUrl()}/api/v1/files/${encodeURIComponent(filename)}?expires=${expires}&signature=${signature}`;
  };
}

export function toRunView(run: Run, downloadUrl: DownloadUrl, containerName: string | null): RunView {
  return {
    _id: run.id,
    id: run.id,
    workflow_id: run.workflowId,
    group_id: run.groupId,
    status: run.status,
    inputs: run.inputs.map((input) => ({ path: input.path, value: input.value })),
    output_names: run.outputNames,
    outputs: run.outputs.map((output) => ({
      filename: output.filename,
      name: output.name,
      url: downloadUrl(output.filename),
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
  };
}
