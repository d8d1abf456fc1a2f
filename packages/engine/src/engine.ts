import os from 'node:os';
import path from 'node:path';
import { type Logger, pino } from 'pino';
import { type EngineFeatures, resolveFeatures } from './config/features';
import { defaultLimits, type EngineLimits } from './config/limits';
import { prepareDataDirs, resolveDataDirs } from './data/data-dir';
import { buildApp } from './http/app';
import type { EngineState } from './http/state';
import { createRegistry, nodesFor } from './nodes/registry';
import { ModelStore } from './nodes/testing/model-store';
import { OutputCache } from './run/cache';
import { History } from './run/history';
import { PromptQueue } from './run/queue';
import { PromptWorker } from './run/worker';
import { SocketHub } from './ws/hub';
import { createUpgradeHandler } from './ws/upgrade';

export interface EngineOptions extends Partial<EngineFeatures> {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Holds input/, output/ and temp/. Defaults to a fresh folder under the OS temp dir. */
  dataDir?: string;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel?: string;
  /** Overrides for the documented resource limits. */
  limits?: Partial<EngineLimits>;
  /** Model folders (checkpoints/, loras/, ...). Defaults to `<dataDir>/models`. */
  modelsDir?: string;
}

export interface RunningEngine {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

function createState(
  dirs: EngineState['dirs'],
  limits: EngineLimits,
  features: EngineFeatures,
  log: Logger,
): EngineState {
  const queue = new PromptQueue();
  const hub = new SocketHub(() => queue.remaining());
  const models = features.testNodes ? new ModelStore(features.modelLoadMs, features.warmModels) : undefined;
  const env = { dirs, limits, ...(models ? { models } : {}) };
  const registry = createRegistry(nodesFor(features));
  const history = new History(limits.maxHistoryEntries, limits.maxHistoryBytes);
  const cache = new OutputCache(limits.maxCacheEntries, limits.maxCacheBytes, features.cache);
  const worker = new PromptWorker({
    registry,
    cache,
    env,
    queue,
    history,
    events: hub,
    broadcastStatus: () => hub.broadcastStatus(),
    log,
  });
  return {
    dirs,
    limits,
    env,
    registry,
    queue,
    history,
    cache,
    worker,
    hub,
    nextNumber: 0,
    argv: process.argv.slice(1),
    features,
  };
}

/** Starts a ComfyUI-protocol server running the engine's CPU nodes. */
export async function startEngine(opts: EngineOptions = {}): Promise<RunningEngine> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = path.resolve(
    opts.dataDir ?? path.join(os.tmpdir(), `flowscale-engine-${process.pid}-${Date.now()}`),
  );
  const limits = { ...defaultLimits, ...opts.limits };
  const features = resolveFeatures(opts);
  const log = pino({ level: opts.logLevel ?? 'warn' });
  const state = createState(resolveDataDirs(dataDir, opts.modelsDir), limits, features, log);
  await prepareDataDirs(state.dirs);
  const app = await buildApp(state, log);
  const { wss, onUpgrade } = createUpgradeHandler(state.hub, state.worker);
  app.server.on('upgrade', onUpgrade);
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    dataDir,
    close() {
      closing ??= (async () => {
        state.queue.clear();
        await state.worker.close();
        state.hub.closeAll();
        // A socket whose client already sent its close frame has left the hub but may not have closed
        // its TCP connection yet; the listener would wait for it forever.
        for (const socket of wss.clients) socket.terminate();
        wss.close();
        await app.close();
      })();
      return closing;
    },
  };
}
