import type { Backend } from '../backends/backend-pool';
import type { OutputStorage } from '../outputs/output-storage';
import type { RunOutput, Storage } from '../storage/types';
import { contentTypeFor, type ProducedItem, storedFilename } from './output-files';

const SMALL_OUTPUT_BYTES = 1024 * 1024;

export interface OutputTarget {
  runId: string;
  /** The output name `<param>_<nodeId>_<token>`. */
  name: string;
  nodeId: string;
  /** Position among the files this output produced (0 = the first). */
  index: number;
}

/** Copies one produced item from the backend into output storage and records it as ready. */
export async function fetchOutput(
  deps: { storage: Storage; outputs: OutputStorage },
  backend: Backend,
  target: OutputTarget,
  item: ProducedItem,
): Promise<RunOutput> {
  const filename = storedFilename(target.name, target.index, item.kind === 'file' ? item.extension : '.txt');
  const contentType = contentTypeFor(filename);
  let size: number;
  if (item.kind === 'file') {
    const response = await backend.client.view(item.ref);
    // Small files are read whole (one write, cacheable); large ones stream to storage.
    const length = Number(response.headers['content-length'] ?? Number.NaN);
    const body = length <= SMALL_OUTPUT_BYTES ? await response.buffer() : response.stream;
    ({ size } = await deps.outputs.put(filename, body));
  } else {
    ({ size } = await deps.outputs.put(filename, Buffer.from(item.text, 'utf8')));
  }
  await deps.storage.saveOutputFile({
    filename,
    name: target.name,
    runId: target.runId,
    nodeId: target.nodeId,
    contentType,
    size,
    storageKey: filename,
    ready: true,
  });
  return { filename, name: target.name, content_type: contentType, size, node_id: target.nodeId };
}
