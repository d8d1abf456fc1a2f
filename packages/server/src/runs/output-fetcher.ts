import type { Readable } from 'node:stream';
import type { Backend } from '../backends/backend-pool';
import { type BlobStore, BlobStoreError } from '../blobs/blob-store';
import { contentTypeFor } from '../media/media-types';
import type { RunOutput } from '../storage/records';
import type { Stores } from '../storage/stores';
import { type ProducedItem, storedFilename } from './output-files';
import { untilStored } from './until-stored';

const SMALL_OUTPUT_BYTES = 1024 * 1024;

export interface OutputTarget {
  runId: string;
  /** The output name `<param>_<nodeId>_<token>`. */
  name: string;
  nodeId: string;
  /** Position among the files this output produced (0 = the first). */
  index: number;
}

/** Stores one output file; a storage failure says which output could not be stored, and why. */
async function store(
  outputs: BlobStore,
  filename: string,
  body: Readable | Buffer,
  contentType: string,
): Promise<number> {
  try {
    return (await outputs.put(filename, body, { contentType })).size;
  } catch (error) {
    throw new BlobStoreError(`could not store output ${filename} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** Copies one produced item from the backend into output storage and records it as ready. */
export async function fetchOutput(
  deps: { stores: Pick<Stores, 'outputs'>; outputs: BlobStore },
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
    size = await store(deps.outputs, filename, body, contentType);
  } else {
    size = await store(deps.outputs, filename, Buffer.from(item.text, 'utf8'), contentType);
  }
  const record = {
    filename,
    name: target.name,
    runId: target.runId,
    nodeId: target.nodeId,
    contentType,
    size,
    storageKey: filename,
    ready: true,
  };
  // The file is stored: a database restart now must not turn into a failed run (within a minute).
  const giveUpAt = Date.now() + 60_000;
  await untilStored(
    () => deps.stores.outputs.save(record),
    () => Date.now() > giveUpAt,
    () => undefined,
  );
  return { filename, name: target.name, content_type: contentType, size, node_id: target.nodeId };
}
