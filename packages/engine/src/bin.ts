#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEngine } from './engine';

const USAGE = `Usage: flowscale-engine [--port 8188] [--host 127.0.0.1] [--data-dir ./.data/engine] [--log-level info]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8188' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: './.data/engine' },
      'log-level': { type: 'string', default: 'info' },
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
  const engine = await startEngine({
    port,
    host: values.host,
    dataDir: values['data-dir'],
    logLevel: values['log-level'],
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
