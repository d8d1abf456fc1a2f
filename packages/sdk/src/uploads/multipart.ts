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

type Piece = string | Blob | Uint8Array | ReadableStream<Uint8Array> | NodeReadableLike;

const encoder = new TextEncoder();

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
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item == null) continue;
      pieces.push(...partOf(boundary, name, item));
    }
  }
  pieces.push(`--${boundary}--\r\n`);
  const contentType = `multipart/form-data; boundary=${boundary}`;
  if (!pieces.some(isStreamInput)) {
    // Here every piece is a string, Blob or Uint8Array (streams were ruled out just above).
    return { body: new Blob(pieces as BlobPart[]), contentType };
  }
  return { body: streamOf(pieces), contentType };
}

function partOf(boundary: string, name: string, value: unknown): Piece[] {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
  const file = fileOf(value);
  if (!file) {
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return [`${head}\r\n\r\n${text}\r\n`];
  }
  const filename = escapeName(file.name || name);
  return [`${head}; filename="${filename}"\r\nContent-Type: ${file.type}\r\n\r\n`, file.content, '\r\n'];
}

interface FilePart {
  name: string;
  type: string;
  content: Blob | Uint8Array | ReadableStream<Uint8Array> | NodeReadableLike;
}

function fileOf(value: unknown): FilePart | undefined {
  const binary = value instanceof ArrayBuffer || ArrayBuffer.isView(value);
  if (!binary && !isBlob(value) && !isStreamInput(value)) return undefined;
  // A File has a name and an fs.ReadStream a path: either names the part's file.
  const { name, path } = value as { name?: unknown; path?: unknown };
  return {
    name: typeof name === 'string' ? name : typeof path === 'string' ? (path.split(/[\\/]/).pop() ?? '') : '',
    type: (isBlob(value) && value.type) || 'application/octet-stream',
    content: binary ? toBytes(value) : (value as FilePart['content']),
  };
}

/** A Uint8Array over the same memory (no copy). */
const toBytes = (value: ArrayBuffer | ArrayBufferView) =>
  value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);

/** Per the HTML form encoding: quotes and line breaks in names are percent-encoded. */
const escapeName = (name: string) => name.replace(/["\r\n]/g, encodeURIComponent);

function streamOf(pieces: Piece[]): ReadableStream<Uint8Array> {
  return iterableToStream(chunksOf(pieces));
}

async function* chunksOf(pieces: Piece[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    if (typeof piece === 'string') yield encoder.encode(piece);
    else if (piece instanceof Uint8Array) yield piece;
    else yield* bytesOf(isBlob(piece) ? piece.stream() : piece);
  }
}

async function* bytesOf(source: ReadableStream<Uint8Array> | NodeReadableLike): AsyncGenerator<Uint8Array> {
  if (isNodeReadable(source)) {
    for await (const chunk of source) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    return;
  }
  // getReader rather than async iteration: Safari's ReadableStream is not async iterable.
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A pull-based stream: the next chunk is produced only when fetch asks for it (backpressure). */
export function iterableToStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
