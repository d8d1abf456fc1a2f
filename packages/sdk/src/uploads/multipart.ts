import { randomId } from '../core/timing';
import {
  isBlob,
  isNodeReadable,
  isStreamInput,
  type NodeReadableLike,
  type WorkflowInput,
} from './uploadable';

export interface MultipartBody {
  body: Blob | ReadableStream<Uint8Array>;
  contentType: string;
}

type Binary = Blob | ArrayBuffer | ArrayBufferView;
type Piece = string | Binary | ReadableStream<Uint8Array> | NodeReadableLike;

/**
 * Encodes workflow inputs as multipart/form-data without reading any file into memory.
 *
 * Without stream inputs the body is a Blob composed of the parts: fetch streams it lazily, it can be
 * re-sent on retry, it has a Content-Length, and browsers can send it over HTTP/1.1. With a stream input
 * the body is a ReadableStream that pulls one chunk at a time (constant memory, but sent only once).
 */
export function encodeMultipart(inputs: WorkflowInput): MultipartBody {
  const boundary = `----flowscale${randomId()}`;
  const pieces: Piece[] = [];
  for (const [name, value] of Object.entries(inputs)) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item != null) pieces.push(...partOf(head, name, item));
    }
  }
  pieces.push(`--${boundary}--\r\n`);
  return {
    // Without streams every piece is a string or binary, which a Blob takes as is.
    body: pieces.some(isStreamInput) ? streamOf(pieces) : new Blob(pieces as BlobPart[]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

function partOf(head: string, name: string, value: unknown): Piece[] {
  const binary = value instanceof ArrayBuffer || ArrayBuffer.isView(value) || isBlob(value);
  if (!binary && !isStreamInput(value)) {
    return [`${head}\r\n\r\n${typeof value === 'object' ? JSON.stringify(value) : value}\r\n`];
  }
  // A File has a name and an fs.ReadStream a path: either names the part's file.
  const { name: file, path } = value as { name?: unknown; path?: unknown };
  const filename =
    (typeof file === 'string' && file) || (typeof path === 'string' && path.split(/[\\/]/).pop()) || name;
  const type = (isBlob(value) && value.type) || 'application/octet-stream';
  return [
    `${head}; filename="${escapeName(filename)}"\r\nContent-Type: ${type}\r\n\r\n`,
    value as Piece,
    '\r\n',
  ];
}

/** Per the HTML form encoding: quotes and line breaks in names are percent-encoded. */
const escapeName = (name: string) => name.replace(/["\r\n]/g, encodeURIComponent);

/** A pull-based stream: the next chunk is produced only when fetch asks for it (backpressure). */
function streamOf(pieces: Piece[]): ReadableStream<Uint8Array> {
  const chunks = chunksOf(pieces);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

async function* chunksOf(pieces: Piece[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    // Text and bytes go through a Blob's stream too, so every piece is read the same way.
    const source = isStreamInput(piece) ? piece : new Blob([piece as BlobPart]).stream();
    if (isNodeReadable(source)) {
      for await (const chunk of source)
        yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      continue;
    }
    // getReader rather than async iteration: Safari's ReadableStream is not async iterable.
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
    } finally {
      reader.releaseLock();
    }
  }
}
