/**
 * A Node `Readable` (or any async iterable of bytes with `pipe`), typed by shape so the core never
 * imports `node:stream`. An `fs.ReadStream` also carries its `path`, used as the part's file name.
 */
export interface NodeReadableLike {
  pipe: (...args: never[]) => unknown;
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array | string>;
  path?: string | Uint8Array;
}

/** Anything `executeWorkflow` sends as a file part. `Buffer` is a `Uint8Array`. */
export type Uploadable = Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | NodeReadableLike;

export type InputValue = string | number | boolean | Uploadable;

/** The documented loose input map: one entry per workflow input, named `<parameter>_<nodeId>`. */
export interface WorkflowInput {
  [key: string]: InputValue | null | undefined;
}

// Every supported runtime (browsers, Node >= 20, Deno, Bun, workers) has a global Blob.
export const isBlob = (v: unknown): v is Blob => v instanceof Blob;

export const isWebStream = (v: unknown): v is ReadableStream<Uint8Array> =>
  typeof (v as ReadableStream | null)?.getReader === 'function';

export const isNodeReadable = (v: unknown): v is NodeReadableLike =>
  typeof (v as NodeReadableLike | null)?.pipe === 'function' &&
  typeof (v as NodeReadableLike)[Symbol.asyncIterator] === 'function';

/** Stream inputs can be read only once, so a request carrying one cannot be replayed on retry. */
export const isStreamInput = (v: unknown): boolean => isWebStream(v) || isNodeReadable(v);
