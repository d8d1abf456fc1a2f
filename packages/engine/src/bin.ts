#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEngine } from './engine';

const USAGE = `Usage: flowscale-engine [--port 8188] [--host 127.0.0.1] [--data-dir ./.data/engine] [--log-level info]
  [--models-dir DIR] [--cache classic|lru] [--model-load-ms 2000] [--warm-models 2] [--hide-fs-nodes]
Environment: FLOWSCALE_ENGINE_CACHE, FLOWSCALE_ENGINE_MODEL_LOAD_MS, FLOWSCALE_ENGINE_WARM_MODELS,
  FLOWSCALE_ENGINE_HIDE_FS_NODES, FLOWSCALE_ENGINE_TEST_NODES (flags win).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8188' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: './.data/engine' },
      'log-level': { type: 'string', default: 'info' },
      'models-dir': { type: 'string' },
      cache: { type: 'string' },
      'model-load-ms': { type: 'string' },
      'warm-models': { type: 'string' },
      'hide-fs-nodes': { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid --port "${values.port}"\n${USAGE}`);
    process.exit(2);
  }
  const count = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (Number.isInteger(n) && n >= 0) return n;
    console.error(`Invalid --${flag} "${text}"\n${USAGE}`);
    process.exit(2);
  };
  const engine = await startEngine({
    port,
    host: values.host,
    dataDir: values['data-dir'],
    logLevel: values['log-level'],
    modelsDir: values['models-dir'],
    cache: values.cache as 'classic' | 'lru' | undefined,
    modelLoadMs: count('model-load-ms', values['model-load-ms']),
    warmModels: count('warm-models', values['warm-models']),
    hideFlowscaleNodes: values['hide-fs-nodes'],
  });
  console.log(`flowscale-engine listening on ${engine.url} (data: ${engine.dataDir})`);
  const stop = () => {
    engine.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
