import path from 'node:path';

export interface EmbeddedEngine {
  url: string;
  close(): Promise<void>;
}

type StartEngine = (opts: {
  host?: string;
  port?: number;
  dataDir?: string;
  logLevel?: string;
}) => Promise<{ url: string; close(): Promise<void> }>;

/** Starts @flowscale/engine in-process on a free loopback port; the server then talks to it like any ComfyUI. */
export async function startEmbeddedEngine(dataDir: string, logLevel: string): Promise<EmbeddedEngine> {
  const engine = (await import('@flowscale/engine')) as unknown as { startEngine?: StartEngine };
  if (typeof engine.startEngine !== 'function') {
    throw new Error(
      '@flowscale/engine does not export startEngine; configure FLOWSCALE_COMFYUI_URLS instead',
    );
  }
  const started = await engine.startEngine({
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(dataDir, 'engine'),
    logLevel: logLevel === 'info' ? 'warn' : logLevel,
  });
  return { url: started.url.replace(/\/+$/, ''), close: () => started.close() };
}
