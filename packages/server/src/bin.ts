#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { ServerOptions } from './config/config';
import { startServer } from './server';

const USAGE = `flowscale-server [options]

  --port <n>            FLOWSCALE_PORT            (default 8787)
  --host <addr>         FLOWSCALE_HOST            (default 127.0.0.1)
  --data-dir <dir>      FLOWSCALE_DATA_DIR        (default ./.data)
  --api-key <key>       FLOWSCALE_API_KEY         (repeatable; env is comma-separated)
  --comfyui-url <url>   FLOWSCALE_COMFYUI_URLS    (repeatable; env is comma-separated; none = embedded engine)
  --workflows-dir <dir> FLOWSCALE_WORKFLOWS_DIR   (default: the shipped workflows)
  --public-url <url>    FLOWSCALE_PUBLIC_URL      (default: the listening address)
  --log-level <level>   FLOWSCALE_LOG_LEVEL       (default info)
  -h, --help
`;

function optionsFromArgs(argv: string[]): ServerOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'comfyui-url': { type: 'string', multiple: true },
      'workflows-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const options: ServerOptions = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port: not a port number: ${values.port}`);
    options.port = port;
  }
  if (values.host) options.host = values.host;
  if (values['data-dir']) options.dataDir = values['data-dir'];
  if (values['api-key']) options.apiKeys = values['api-key'].flatMap((key) => key.split(',')).filter(Boolean);
  if (values['comfyui-url']) {
    options.comfyuiUrls = values['comfyui-url'].flatMap((url) => url.split(',')).filter(Boolean);
  }
  if (values['workflows-dir']) options.workflowsDir = values['workflows-dir'];
  if (values['public-url']) options.publicUrl = values['public-url'];
  if (values['log-level']) options.logLevel = values['log-level'];
  return options;
}

async function main(): Promise<void> {
  let options: ServerOptions | undefined;
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  const server = await startServer(options);
  process.stdout.write(`FlowScale server listening on ${server.url}\n`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: shutting down\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`flowscale-server failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
