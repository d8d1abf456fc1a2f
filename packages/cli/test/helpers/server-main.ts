// Runs the real server (embedded engine) as its own process for the end-to-end tests. A separate process,
// not startServer() inside vitest: vitest starts its workers with `--conditions import`, which makes
// require('ws') inside @fastify/websocket load ws's ESM wrapper and crash.
import { startServer } from '@flowscale/server';

const [dataDir, apiKey] = process.argv.slice(2) as [string, string];
const server = await startServer({ port: 0, dataDir, apiKeys: [apiKey], logLevel: 'error' });
process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// If the test process dies, stdin closes: never leave an orphan server behind.
process.stdin.on('end', stop).resume();
