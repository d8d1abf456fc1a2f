/** What `onUploadProgress` receives: bytes of the request body sent so far, of `total`. */
export interface UploadProgress {
  loaded: number;
  /**
   * The body's size; undefined while it is unknown (a stream input), and equal to `loaded` in the last
   * call, which every upload gets.
   */
  total: number | undefined;
}

export type UploadProgressHandler = (progress: UploadProgress) => void;

const PIECE = 64 * 1024;

type Init = RequestInit & { headers: Record<string, string> } & Record<string, unknown>;
type Send = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Sends one request reporting upload progress. A lazy chunk: only calls with `onUploadProgress` load it.
 * Browsers: fetch cannot report upload progress over HTTP/1.1, so the request goes through XMLHttpRequest
 * (unless the client has its own fetchImpl).
 * Elsewhere (Node): the body is streamed through a counter, each chunk counted as fetch pulls it.
 */
export function sendWithProgress(
  send: Send,
  url: string,
  init: Init,
  report: UploadProgressHandler,
  customFetch: boolean,
) {
  const body = init.body as Blob | ReadableStream<Uint8Array>;
  // A fetchImpl the caller chose is used, counted like Node's.
  if (typeof XMLHttpRequest === 'function' && body instanceof Blob && !customFetch)
    return viaXhr(url, init, body, report);
  const total = body instanceof Blob ? body.size : undefined;
  // A Blob reads again on each attempt, so a retried request is counted afresh from 0.
  const reader = (body instanceof Blob ? body.stream() : body).getReader();
  let loaded = 0;
  let chunk: Uint8Array = new Uint8Array(0);
  let offset = 0;
  init.body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= chunk.byteLength) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          report({ loaded, total: loaded });
          return;
        }
        chunk = value;
        offset = 0;
      }
      // At most 64 KiB at a time: a Blob in memory may come out as one chunk, which would be one callback.
      const piece = chunk.subarray(offset, offset + PIECE);
      offset += PIECE;
      loaded += piece.byteLength;
      controller.enqueue(piece);
      if (loaded !== total) report({ loaded, total });
    },
    cancel: (reason) => reader.cancel(reason),
  });
  if (total !== undefined) init.headers['Content-Length'] = String(total);
  // Node's fetch sends a streamed body only half-duplex, and would keep a copy of it to follow redirects.
  init.duplex = 'half';
  init.redirect = 'error';
  return send(url, init);
}

function viaXhr(url: string, init: Init, body: Blob, report: UploadProgressHandler): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    const xhr = new XMLHttpRequest();
    const abort = () => {
      xhr.abort();
      reject(signal!.reason);
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    xhr.open(init.method ?? 'GET', url);
    for (const [name, value] of Object.entries(init.headers)) xhr.setRequestHeader(name, value);
    xhr.responseType = 'blob';
    let last = -1;
    const progress = (loaded: number) => {
      // Monotonic, and the last call is exactly the body's size.
      if (loaded <= last || loaded > body.size) return;
      last = loaded;
      report({ loaded, total: body.size });
    };
    xhr.upload.onprogress = (event) => progress(event.loaded);
    xhr.upload.onload = () => progress(body.size);
    xhr.onload = () => {
      signal?.removeEventListener('abort', abort);
      progress(body.size);
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
      resolve(
        new Response(empty ? null : xhr.response, {
          status: xhr.status,
          statusText: xhr.statusText,
          headers,
        }),
      );
    };
    xhr.onerror = xhr.ontimeout = () => {
      signal?.removeEventListener('abort', abort);
      reject(new TypeError(`XMLHttpRequest to ${url.split('?')[0]} failed`));
    };
    xhr.send(body);
  });
}
