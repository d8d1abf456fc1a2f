import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startServer } from '@flowscale/server';
import { createBackend } from './app';

// One command for trying the example locally: the self-hosted FlowScale server (with its CPU engine)
// and the backend proxy in one process. The generated API key is only ever held here.
const apiKey = `fs-demo-${randomBytes(16).toString('hex')}`;
const server = await startServer({
  port: Number(process.env.FLOWSCALE_PORT ?? 0),
  dataDir: fileURLToPath(new URL('../../../.data/example-server', import.meta.url)),
  apiKeys: [apiKey],
});
const port = Number(process.env.PORT ?? 3000);
const app = createBackend({
  flowscaleUrl: server.url,
  flowscaleApiKey: apiKey,
  jwtSecret: process.env.JWT_SECRET ?? randomBytes(32).toString('hex'),
  staticDir: process.env.STATIC_DIR ?? fileURLToPath(new URL('../../react-app/dist', import.meta.url)),
});
const listener = app.listen(port, () => {
  console.log(`FlowScale server on ${server.url}`);
  console.log(`Example page on http://localhost:${port} (sign in as demo / demo)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    listener.close();
    void server.close().then(() => process.exit(0));
  });
}
