#!/usr/bin/env node
import { processInterrupts } from './io';
import { runCli } from './program';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  onInterrupt: processInterrupts,
});
// Set rather than exit(): lets pending stdout writes flush when piped.
process.exitCode = code;
