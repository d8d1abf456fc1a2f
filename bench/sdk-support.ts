import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/** Starts bench/sdk-loopback-server.mjs in a child process and returns its URL. */
export async function startLoopbackServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(join(import.meta.dirname, 'sdk-loopback-server.mjs'), [], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, child };
}
