import http from 'node:http';
import type { FlowScaleProxyHandler } from '../../src/index';

/** Where a call is dropped: what the proxy is doing upstream at that moment. */
export type DropPoint = 'upload' | 'before-headers' | 'mid-body' | 'mid-stream';

export interface DroppedCall {
  method: 'GET' | 'POST';
  path: string;
  point: DropPoint;
}

export const BOUNDARY = 'leakboundary';
/** The start of a multipart upload whose rest never comes: the upstream waits, sending no headers. */
export const MULTIPART_HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="default_value_1"\r\n\r\n`;

const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(resolve, ms));

/**
 * A browser through a Node server: it drops its TCP connection. Uploads stall and are dropped mid-upload;
 * `before-headers` calls are dropped after `ms`; `mid-body` and `mid-stream` calls `ms` after the first
 * body bytes arrived. Resolves once the connection is gone.
 */
export function dropNodeCall(port: number, call: DroppedCall, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const upload = call.method === 'POST';
    const request = http.request({
      port,
      host: '127.0.0.1',
      method: call.method,
      path: call.path,
      agent: false,
      headers: upload ? { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } : {},
    });
    const drop = () => request.destroy();
    request.on('error', () => undefined);
    request.on('close', () => resolve());
    request.on('response', (response) => {
      response.on('error', () => undefined);
      if (call.point === 'mid-body' || call.point === 'mid-stream') {
        response.once('data', () => setTimeout(drop, ms));
      }
      response.resume();
    });
    if (upload) request.write(MULTIPART_HEAD);
    else request.end();
    if (call.point === 'upload' || call.point === 'before-headers') setTimeout(drop, ms);
    // Anything that has not gone by then (a reply that came fast and ended) is over anyway.
    setTimeout(drop, 5000);
  });
}

/**
 * A caller of the proxy's Web handler that goes away the way a framework tells it: it aborts the
 * request's signal, and never reads or cancels the Response again. Its upload stalls and is never
 * ended or errored. So only the proxy's own reaction to the abort can free the upstream socket.
 */
export async function dropWebCall(
  proxy: FlowScaleProxyHandler,
  origin: string,
  call: DroppedCall,
  ms: number,
): Promise<void> {
  const abort = new AbortController();
  const upload = call.method === 'POST';
  const body = upload
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(MULTIPART_HEAD));
        },
      })
    : null;
  const request = new Request(`${origin}${call.path}`, {
    method: call.method,
    headers: upload ? { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } : {},
    body,
    signal: abort.signal,
    duplex: 'half',
  } as RequestInit);
  const reply = proxy(request).catch(() => undefined);
  if (call.point === 'upload' || call.point === 'before-headers') {
    await sleep(ms);
  } else {
    // Wait for the headers and the first bytes, but never longer than a second.
    const response = await Promise.race([reply, sleep(1000)]);
    const reader = response?.body?.getReader();
    if (reader) await Promise.race([reader.read().catch(() => undefined), sleep(1000)]);
    await sleep(ms);
  }
  abort.abort();
}
