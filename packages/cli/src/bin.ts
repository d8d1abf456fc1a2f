#!/usr/bin/env node
import { processInterrupts } from './io';
import { runCli } from './program';

// `flowscale runs | head -1` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// A promise chain, not top-level await: the package also builds to CommonJS, where await cannot be top-level.
void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  onInterrupt: processInterrupts,
}).then((code) => {
  // Set rather than exit(): lets pending stdout writes flush when piped.
  process.exitCode = code;
});
