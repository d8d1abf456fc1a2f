#!/usr/bin/env node
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { S3Downloads, ServerOptions } from './config/config';
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
  --database-url <url>  FLOWSCALE_DATABASE_URL    (postgres://…; default: SQLite in the data dir;
                        prefer the variable: a flag's password shows in ps)
  --database-pool-size <n>
                        FLOWSCALE_DATABASE_POOL_SIZE (Postgres connections per process, default 10)
                        With Postgres and FLOWSCALE_COMFYUI_URLS, replicas share the fleet (docs/scale-out.md):
                        FLOWSCALE_LEASE_TTL_MS          a dead replica's backends are taken over after this (10000)
                        FLOWSCALE_MAX_RUNS_PER_BACKEND  runs placed on one backend; the rest wait in the queue (64)

Placement (among the backends able to run a run: its nodes and models):
                        FLOWSCALE_PLACEMENT         model-affinity (default: warm models first) or least-queue
                        FLOWSCALE_AFFINITY_WAIT_MS  longest wait for a busy warm backend while a cold one idles (1500)

S3-compatible storage for input and output files (off unless a bucket is set):
  --s3-bucket <name>    FLOWSCALE_S3_BUCKET       (turns S3 on)
  --s3-endpoint <url>   FLOWSCALE_S3_ENDPOINT     (MinIO, R2, …; default AWS)
  --s3-region <region>  FLOWSCALE_S3_REGION       (default us-east-1)
  --s3-prefix <prefix>  FLOWSCALE_S3_PREFIX       (object key prefix; default none)
  --s3-force-path-style FLOWSCALE_S3_FORCE_PATH_STYLE=true (MinIO, s3rver)
  --s3-downloads <mode> FLOWSCALE_S3_DOWNLOADS    (proxy: through this server, the default; presigned: from S3)
                        FLOWSCALE_S3_ACCESS_KEY_ID, FLOWSCALE_S3_SECRET_ACCESS_KEY (environment only;
                        without them the AWS default credential chain applies)
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
      's3-bucket': { type: 'string' },
      's3-endpoint': { type: 'string' },
      's3-region': { type: 'string' },
      's3-prefix': { type: 'string' },
      's3-force-path-style': { type: 'boolean' },
      's3-downloads': { type: 'string' },
      'database-url': { type: 'string' },
      'database-pool-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const options: ServerOptions = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port ${JSON.stringify(values.port)}: not a port number (0–65535)`);
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
  const s3Downloads = values['s3-downloads'];
  if (s3Downloads !== undefined && s3Downloads !== 'presigned' && s3Downloads !== 'proxy')
    throw new Error(`--s3-downloads: "presigned" or "proxy", not ${JSON.stringify(s3Downloads)}`);
  // Each flag overrides its own FLOWSCALE_S3_* variable; the rest still come from the environment.
  const s3 = {
    ...(values['s3-bucket'] ? { bucket: values['s3-bucket'] } : {}),
    ...(values['s3-endpoint'] ? { endpoint: values['s3-endpoint'] } : {}),
    ...(values['s3-region'] ? { region: values['s3-region'] } : {}),
    ...(values['s3-prefix'] !== undefined ? { prefix: values['s3-prefix'] } : {}),
    ...(values['s3-force-path-style'] ? { forcePathStyle: true } : {}),
    ...(s3Downloads ? { downloads: s3Downloads as S3Downloads } : {}),
  };
  if (Object.keys(s3).length > 0) options.s3 = s3;
  if (values['database-url']) options.databaseUrl = values['database-url'];
  if (values['database-pool-size'] !== undefined) {
    const size = Number(values['database-pool-size']);
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`--database-pool-size: not a positive integer: ${values['database-pool-size']}`);
    options.databasePoolSize = size;
  }
  return options;
}

/** Like the CLI: a .env in the working directory fills in variables the environment does not set. */
function loadDotEnv(): void {
  if (!fs.existsSync('.env')) return;
  try {
    process.loadEnvFile('.env');
  } catch (error) {
    throw new Error(`.env: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  loadDotEnv();
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
  // Banners go to stderr: stdout carries only log lines, so a pipe into a log shipper stays pure JSON.
  process.stderr.write(`FlowScale server listening on ${server.url}\n`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
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
  // Exit 1: the configuration (or the machine) stops the start. The message says what to fix; a stack
  // trace only helps when debugging, so it is shown only then.
  const debug = (process.env.FLOWSCALE_LOG_LEVEL ?? logLevelArg()) === 'debug';
  const message = error instanceof Error ? error.message : String(error);
  const detail = debug && error instanceof Error && error.stack ? error.stack : message;
  process.stderr.write(`flowscale-server failed to start: ${detail}\n`);
  process.exit(1);
});

function logLevelArg(): string | undefined {
  const index = process.argv.indexOf('--log-level');
  return index >= 0 ? process.argv[index + 1] : undefined;
}
