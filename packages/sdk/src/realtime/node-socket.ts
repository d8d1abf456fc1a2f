import { FlowScaleError } from '../core/errors';
import type { WebSocketConstructor } from '../core/options';

type WsConstructor = new (...args: unknown[]) => unknown;

/**
 * The `ws` package as the SDK's WebSocket, for runtimes without a global one (Node 20). A lazy chunk, so
 * browser bundles never load it; `ws` is an optional peer dependency. The specifier is a variable so that
 * bundlers do not try to resolve `ws` for the browser, where it is never needed.
 */
export async function loadWs(specifier = 'ws'): Promise<WebSocketConstructor> {
  let Ws: WsConstructor;
  try {
    const module = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as {
      default?: WsConstructor;
    };
    Ws = module.default ?? (module as unknown as WsConstructor);
  } catch (cause) {
    throw new FlowScaleError(
      'connectWebSocket: this runtime has no global WebSocket and the ws package is not installed. ' +
        'Run `npm install ws` (an optional peer dependency of flowscale), or pass webSocketImpl.',
      { code: 'no_websocket', cause },
    );
  }
  // `ws` can send request headers, so the key goes as X-API-KEY rather than as a subprotocol.
  return Object.assign(
    function HeaderWebSocket(...args: unknown[]) {
      return new Ws(...args);
    } as unknown as WebSocketConstructor,
    { acceptsHeaders: true },
  );
}
