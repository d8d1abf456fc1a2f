// Node-only helpers, kept out of the core entry so browser bundles never see node: built-ins.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import WS from 'ws';
import type { WebSocketConstructor } from '../core/options';

/**
 * The `ws` package as the SDK's WebSocket: unlike a browser socket it can send the `X-API-KEY` header,
 * so the key never travels as a subprotocol. Pass it as `webSocketImpl`.
 */
class HeaderWebSocket extends WS {
  static readonly acceptsHeaders = true;
}
export const WebSocket = HeaderWebSocket as unknown as WebSocketConstructor;

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
