// Node-only helpers, kept out of the core entry so browser bundles never see node: built-ins.
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { type FlowscaleAPI, transportOf } from '../client';
import { FlowScaleError } from '../core/errors';
import type { RequestOptions, WebSocketConstructor } from '../core/options';
import type { OutputData } from '../types/api';

/**
 * The `ws` package as the SDK's WebSocket: unlike a browser socket it can send the `X-API-KEY` header,
 * so the key never travels as a subprotocol. Pass it as `webSocketImpl`. `ws` (an optional peer
 * dependency) is loaded when the first socket opens, so programs that never open one need not install it.
 */
export const WebSocket: WebSocketConstructor = Object.assign(
  function HeaderWebSocket(...args: unknown[]) {
    return new (loadWs())(...args);
  } as unknown as WebSocketConstructor,
  { acceptsHeaders: true },
);

type WsConstructor = new (...args: unknown[]) => unknown;
let ws: WsConstructor | undefined;

function loadWs(): WsConstructor {
  try {
    // createRequire works from the ESM and the CJS build alike (tsup shims import.meta.url in CJS).
    ws ??= createRequire(import.meta.url)('ws') as WsConstructor;
    return ws;
  } catch (cause) {
    throw new FlowScaleError("WebSocket from 'flowscale/node' needs the ws package: npm install ws", {
      code: 'no_websocket',
      cause,
    });
  }
}

/**
 * A File backed by a file on disk: read lazily in chunks while uploading (constant memory) and, unlike a
 * stream, readable again if the upload is retried.
 */
export async function fileFromPath(
  path: string,
  options: { type?: string; name?: string } = {},
): Promise<File> {
  const blob = await openAsBlob(path, { type: options.type });
  return new File([blob], options.name ?? basename(path), { type: options.type ?? blob.type });
}

/** What `downloadOutput` accepts: an output entry, a signed download URL or an output name. */
export type DownloadTarget = string | Pick<OutputData, 'download_url' | 'file_content'>;

/**
 * Downloads an output through `client`. `target` is an entry of `executeWorkflowAsync`'s result
 * (`{ download_url }` or `{ file_content }`), a signed download URL, or an output name (read with
 * `getOutput` first; an output that is not ready rejects with code `output_not_ready`). Resolves to the
 * fetch `Response` with its body unread (stream it to keep memory flat); a text output becomes a
 * `text/plain` Response. The download is a GET with this call's options (signal, timeout until the headers
 * arrive, headers) and the client's retries, but never the API key or the client's custom headers.
 * Non-2xx rejects with a FlowScaleError.
 */
export async function downloadOutput(
  client: FlowscaleAPI<object>,
  target: DownloadTarget,
  options: RequestOptions = {},
): Promise<Response> {
  const output =
    typeof target !== 'string'
      ? target
      : /^https?:\/\//i.test(target)
        ? { download_url: target }
        : (await client.getOutput(target, options))?.data;
  if (!output) throw new FlowScaleError(`Output ${target} is not ready yet`, { code: 'output_not_ready' });
  const { file_content: text, download_url: link } = output;
  // A string body makes the Response `text/plain;charset=UTF-8`.
  if (typeof text === 'string') return new Response(text);
  if (!link) throw new FlowScaleError('Output has no download_url', { code: 'no_output' });
  const transport = transportOf(client);
  const url = new URL(link, transport.config.baseUrl).href;
  // `path` (the URL without the signature in its query) is what log lines and errors show.
  return (await transport.open({ ...options, method: 'GET', path: url.split('?')[0]!, url })).response;
}

export interface DownloadToFileOptions extends RequestOptions {
  /** The client that downloads `target` (needed for anything but a Response). */
  client?: FlowscaleAPI<object>;
}

export interface DownloadedFile {
  path: string;
  /** Bytes written. */
  size: number;
  /** The response's Content-Type, if any. */
  contentType: string | null;
}

/**
 * Streams an output to `path` in constant memory: written to `<path>.part`, renamed to `path` once complete
 * (an interrupted download never leaves a truncated file under the final name; the .part is removed).
 * `target` is anything `downloadOutput` accepts (pass `options.client`), or a Response it returned.
 */
export async function downloadOutputToFile(
  target: DownloadTarget | Response,
  path: string,
  options: DownloadToFileOptions = {},
): Promise<DownloadedFile> {
  const { client, ...request } = options;
  let response: Response;
  if (typeof target === 'object' && 'ok' in target) response = target;
  else if (client) response = await downloadOutput(client, target, request);
  else
    throw new FlowScaleError('downloadOutputToFile needs options.client to download this target', {
      code: 'no_client',
    });
  const partial = `${path}.part`;
  let size = 0;
  const body = response.body ?? new ReadableStream();
  const source = 'getReader' in body ? Readable.fromWeb(body as NodeWebStream) : body;
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          size += chunk.byteLength;
          yield chunk;
        }
      },
      createWriteStream(partial),
      { signal: request.signal },
    );
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { path, size, contentType: response.headers.get('content-type') };
}
