// A tiny loopback server for the SDK benches, run as a child process so its CPU and memory are not the
// client's. It answers the health call with a fixed envelope and swallows uploads, counting their bytes.
import { createServer } from 'node:http';

const health = JSON.stringify({ status: 'success', data: [{ container: 'container #1', status: 'idle' }] });
const server = createServer((req, res) => {
  if (req.method === 'POST') {
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { run_id: 'bench', workflow_id: 'bench', received: bytes },
        }),
      );
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(health) });
  res.end(health);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
