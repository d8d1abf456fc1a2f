// Node-only helpers, kept out of the core entry so browser bundles never see node: built-ins.
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import type { DownloadTarget, FlowscaleAPI } from '../client';
import { FlowScaleError } from '../core/errors';
import type { RequestOptions, WebSocketConstructor } from '../core/options';

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

export interface DownloadToFileOptions extends RequestOptions {
  /** The client that downloads `target` (needed for anything but a Response). */
  client?: FlowscaleAPI;
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
 * `target` is anything `client.downloadOutput` accepts (pass `options.client`), or a Response it returned.
 */
export async function downloadOutputToFile(
  target: DownloadTarget | Response,
  path: string,
  options: DownloadToFileOptions = {},
): Promise<DownloadedFile> {
  const { client, ...request } = options;
  let response: Response;
  if (typeof target === 'object' && 'ok' in target) response = target;
  else if (client) response = await client.downloadOutput(target, request);
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
