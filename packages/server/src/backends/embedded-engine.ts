import path from 'node:path';

export interface EmbeddedEngine {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts @flowscale/engine in-process on a free loopback port; the server then talks to it like any ComfyUI.
 * Imported lazily: with external backends configured, the engine (and its image library) is never loaded.
 */
export async function startEmbeddedEngine(
  dataDir: string,
  logLevel: string,
  maxUploadBytes: number,
): Promise<EmbeddedEngine> {
  const { startEngine } = await import('@flowscale/engine');
  const engine = await startEngine({
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(dataDir, 'engine'),
    logLevel: logLevel === 'info' ? 'warn' : logLevel,
    // The server checks every input against its own limit before storing it; the engine must then take
    // whatever the server accepted, or a run fails after its upload was stored.
    limits: { maxUploadBytes },
  });
  return { url: engine.url.replace(/\/+$/, ''), close: () => engine.close() };
}
