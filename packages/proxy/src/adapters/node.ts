import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlowScaleProxyHandler } from '../core/proxy';

type NodeRequest = IncomingMessage & { originalUrl?: string };

/**
 * Serves the proxy from Node's `http` server or as Express/Connect middleware:
 * `http.createServer(toNodeHandler(proxy))` or `app.use('/api/v1', toNodeHandler(proxy))`.
 * Mount it before any body parser: the body is streamed to the upstream untouched.
 */
export function toNodeHandler(handler: FlowScaleProxyHandler) {
  return (req: NodeRequest, res: ServerResponse, next?: (error?: unknown) => void): void => {
    serve(handler, req, res).catch((error) => {
      if (next) next(error);
      else if (!res.headersSent) res.writeHead(500).end();
      else res.destroy(error as Error);
    });
  };
}

async function serve(handler: FlowScaleProxyHandler, req: NodeRequest, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  // The client went away (e.g. a closed event stream): stop the upstream request too.
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const response = await handler(toWebRequest(req, abort.signal), {
    clientAddress: req.socket.remoteAddress,
  });
  await writeWebResponse(response, res, abort.signal);
}

export function toWebRequest(req: NodeRequest, signal: AbortSignal): Request {
  const host = req.headers.host ?? 'localhost';
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const url = new URL(req.originalUrl ?? req.url ?? '/', `${scheme}://${host}`);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    // HTTP/2 pseudo-headers are not valid header names for Headers.
    if (!name.startsWith(':')) headers.append(name, req.rawHeaders[i + 1]!);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? nodeBodyStream(req) : null,
    signal,
    duplex: 'half',
  } as RequestInit);
}

/** A pull-based stream, so a rejected request (401, 413...) reads no more than one chunk of its body. */
function nodeBodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.pause();
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => controller.close());
        req.on('error', (error) => controller.error(error));
      },
      pull() {
        req.resume();
      },
      cancel() {
        // Stop reading but keep the socket: the client still needs our reply (e.g. a 413).
        req.pause();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Writes a Web Response to Node, streaming the body with backpressure. `gone` is aborted once the
 * client has disconnected; from then on the body is cancelled, which ends the upstream request
 * (it may have disconnected before we got here, when no 'close' event would come any more).
 */
export async function writeWebResponse(
  response: Response,
  res: ServerResponse,
  gone: AbortSignal,
): Promise<void> {
  if (gone.aborted) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!response.body) {
    res.end();
    return;
  }
  // Send headers now: an event stream may not produce its first byte for a while.
  res.flushHeaders();
  const reader = response.body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  gone.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (gone.aborted) return;
      if (!res.write(value)) await drained(res, gone);
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error);
  } finally {
    gone.removeEventListener('abort', cancel);
  }
}

function drained(res: ServerResponse, gone: AbortSignal): Promise<void> {
  if (gone.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      gone.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    gone.addEventListener('abort', done, { once: true });
  });
}
