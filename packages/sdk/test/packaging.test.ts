import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BUILTIN_OR_WS = /(from |require\()"(node:)?(fs|path|stream|http|https|net|ws)"/;
const root = join(import.meta.dirname, '..', '..', '..');
const source = join(root, 'packages/sdk');
// An install of the built package in a scratch project, so the repo's own dist (which other packages'
// processes may be reading) is never rebuilt under them, and resolution works like a real install.
const project = mkdtempSync(join(tmpdir(), 'flowscale-pack-'));
const pkg = join(project, 'node_modules/flowscale');
const node = (args: string[]) => run(process.execPath, args, { cwd: project }).then((r) => r.stdout.trim());

describe('the built package (dual ESM + CJS with types)', () => {
  beforeAll(async () => {
    await run(join(root, 'node_modules/.bin/tsup'), ['--out-dir', join(pkg, 'dist')], { cwd: source });
    copyFileSync(join(source, 'package.json'), join(pkg, 'package.json'));
    mkdirSync(join(project, 'node_modules/@types'));
    // No runtime dependencies; ws (an optional peer) is installed for the tests that open a socket.
    symlinkSync(join(root, 'node_modules/ws'), join(project, 'node_modules/ws'));
    symlinkSync(join(root, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
    symlinkSync(join(root, 'node_modules/undici-types'), join(project, 'node_modules/undici-types'));
    cpSync(join(import.meta.dirname, 'package-fixture'), project, { recursive: true });
  }, 120_000);

  it('require() and import work for every entry, and errors from both copies pass instanceof', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from 'flowscale';
      import * as esmNode from 'flowscale/node';
      import * as esmAdmin from 'flowscale/admin';
      import * as esmEvents from 'flowscale/events';
      import * as esmWebhooks from 'flowscale/webhooks';
      const require = createRequire(import.meta.url);
      const cjs = require('flowscale');
      const cjsNode = require('flowscale/node');
      const cjsAdmin = require('flowscale/admin');
      const cjsEvents = require('flowscale/events');
      const cjsWebhooks = require('flowscale/webhooks');
      const admin = new cjsAdmin.FlowscaleAdminAPI({ apiKey: 'k', enableLogging: false });
      console.log(JSON.stringify({
        esm: typeof esm.FlowscaleAPI, cjs: typeof cjs.FlowscaleAPI,
        esmNode: typeof esmNode.fileFromPath, cjsNode: typeof cjsNode.WebSocket,
        esmAdmin: typeof esmAdmin.FlowscaleAdminAPI,
        esmEvents: [esmEvents.TERMINAL_STATUSES, esmEvents.isTerminalEventType('run.failed')],
        cjsEvents: [cjsEvents.TERMINAL_EVENT_TYPES, cjsEvents.isTerminalStatus('running')],
        webhooks: [typeof esmWebhooks.verifyWebhook, typeof cjsWebhooks.WebhookVerificationError],
        coreHasNoWebhooks: !('verifyWebhook' in esm) && !('verifyWebhook' in cjs),
        coreHasNoEventValues: !('TERMINAL_STATUSES' in esm) && !('TERMINAL_STATUSES' in cjs),
        adminIsClient: admin instanceof cjs.FlowscaleAPI && typeof admin.listApiKeys,
        twoCopies: esm.FlowScaleError !== cjs.FlowScaleError,
        crossInstanceof: new cjs.ValidationError('x') instanceof esm.FlowScaleError && new esm.TimeoutError('y') instanceof cjs.TimeoutError,
        crossKindsDiffer: new cjs.TimeoutError('z') instanceof esm.NetworkError,
        plainErrorIsNot: new Error('w') instanceof esm.FlowScaleError,
        wsLoadedAtImport: Object.keys(require.cache).some((f) => f.includes('/node_modules/ws/')),
        socket: typeof new esmNode.WebSocket('ws://127.0.0.1:9/').close,
        cjsSocket: typeof new cjsNode.WebSocket('ws://127.0.0.1:9/').close,
      }));
      process.exit(0);`;
    const out = JSON.parse(await node(['--input-type=module', '-e', script]));
    expect(out).toEqual({
      esm: 'function',
      cjs: 'function',
      esmNode: 'function',
      cjsNode: 'function',
      esmAdmin: 'function',
      esmEvents: [['completed', 'failed', 'cancelled'], true],
      cjsEvents: [['run.completed', 'run.failed', 'run.cancelled'], false],
      webhooks: ['function', 'function'],
      coreHasNoWebhooks: true,
      coreHasNoEventValues: true,
      adminIsClient: 'function',
      twoCopies: true,
      crossInstanceof: true,
      crossKindsDiffer: false,
      plainErrorIsNot: false,
      wsLoadedAtImport: false,
      socket: 'function',
      cjsSocket: 'function',
    });
  });

  it('without ws installed, flowscale/node still loads, and opening a socket names the missing package', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'flowscale-no-ws-'));
    cpSync(pkg, join(bare, 'node_modules/flowscale'), { recursive: true });
    const script = `
      import { WebSocket, fileFromPath } from 'flowscale/node';
      import { FlowScaleError } from 'flowscale';
      let thrown;
      try { new WebSocket('ws://127.0.0.1:9/'); } catch (error) { thrown = error; }
      console.log(JSON.stringify({
        loaded: typeof fileFromPath,
        isFlowScaleError: thrown instanceof FlowScaleError,
        code: thrown?.code,
        message: thrown?.message,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: bare });
    expect(JSON.parse(stdout)).toEqual({
      loaded: 'function',
      isFlowScaleError: true,
      code: 'no_websocket',
      message: "WebSocket from 'flowscale/node' needs the ws package: npm install ws",
    });
  });

  it('TypeScript resolves the .d.ts and .d.cts declarations under node16 resolution', async () => {
    const tsc = join(root, 'node_modules/.bin/tsc');
    const result = await run(tsc, ['-p', join(project, 'tsconfig.json')], { cwd: project }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(result).toBe('');
  }, 90_000);

  it('the core build imports no Node built-ins; only the node entry does', () => {
    const entries = ['index', 'events', 'webhooks'];
    for (const file of entries.flatMap((entry) => [`dist/${entry}.js`, `dist/${entry}.cjs`])) {
      expect(readFileSync(join(pkg, file), 'utf8')).not.toMatch(BUILTIN_OR_WS);
    }
    expect(readFileSync(join(pkg, 'dist/node.js'), 'utf8')).toMatch(BUILTIN_OR_WS);
    // ws is required lazily, never imported at load time.
    expect(readFileSync(join(pkg, 'dist/node.js'), 'utf8')).not.toMatch(/from "ws"/);
  });

  it('the run-event contract is declared once per format, in a chunk the core and flowscale/events share', () => {
    for (const ext of ['.js', '.cjs']) {
      const files = readdirSync(join(pkg, 'dist')).filter((f) => f.endsWith(ext));
      const declaring = files.filter((f) =>
        readFileSync(join(pkg, 'dist', f), 'utf8').includes('["completed", "failed", "cancelled"]'),
      );
      expect(declaring).toHaveLength(1);
      expect(declaring[0]).toMatch(/^chunk-/);
    }
  });

  it('flowscale/otel loads with import and require; no other entry loads @opentelemetry/api', async () => {
    // An optional peer: installed here as an app that traces would have it.
    mkdirSync(join(project, 'node_modules/@opentelemetry'), { recursive: true });
    symlinkSync(
      join(root, 'node_modules/@opentelemetry/api'),
      join(project, 'node_modules/@opentelemetry/api'),
    );
    const script = `
      import { createRequire } from 'node:module';
      import { traceHeaders } from 'flowscale/otel';
      const require = createRequire(import.meta.url);
      console.log(JSON.stringify([traceHeaders(), require('flowscale/otel').traceHeaders()]));`;
    expect(JSON.parse(await node(['--input-type=module', '-e', script]))).toEqual([{}, {}]);
    for (const file of readdirSync(join(pkg, 'dist')).filter(
      (f) => /\.c?js$/.test(f) && !f.startsWith('otel.'),
    ))
      expect(readFileSync(join(pkg, 'dist', file), 'utf8')).not.toContain('@opentelemetry');
  });
});
