import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtPackage,
  consumerProject,
  PUBLISHED,
  type Published,
  root,
  run,
} from './support/built-packages';

// Every published package, built as it ships: publint and Are the Types Wrong find nothing, and require()
// and import both load it on the Node running this test (20 in the main pass, 22 in the second one).
// Packages with subpath exports, each checked as its own entry.
const ENTRIES: Partial<Record<Published['name'], string[]>> = {
  flowscale: ['flowscale', 'flowscale/node', 'flowscale/admin', 'flowscale/events', 'flowscale/webhooks'],
};
// What publint and attw report does not depend on the Node that runs them: the Node 22 pass
// (scripts/test-node22.mjs, which sets this) leaves them to the Node 20 one.
const NODE_INDEPENDENT_DONE = Boolean(process.env.FLOWSCALE_TEST_LIBRARIES);
const built = new Map<Published, string>();
let project = '';

describe('the published packages', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    // Two at a time: each build runs the TypeScript compiler for the declarations.
    const queue = [...PUBLISHED];
    const worker = async () => {
      for (let pkg = queue.shift(); pkg; pkg = queue.shift()) built.set(pkg, await builtPackage(pkg));
    };
    await Promise.all([worker(), worker()]);
    project = consumerProject(built);
  }, 900_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it.skipIf(NODE_INDEPENDENT_DONE).each(PUBLISHED)(
    '$name: publint finds nothing, not even a suggestion',
    async (pkg) => {
      const dir = built.get(pkg) as string;
      const { messages, pkg: manifest } = await publint({
        pkgDir: dir,
        level: 'suggestion',
        strict: true,
        pack: 'npm',
      });
      expect(messages.map((m) => `${m.type}: ${formatMessage(m, manifest)}`)).toEqual([]);
    },
  );

  it.skipIf(NODE_INDEPENDENT_DONE).each(PUBLISHED)(
    '$name: Are the Types Wrong finds no problem in any resolution mode',
    async (pkg) => {
      const attw = join(root, 'node_modules', '.bin', 'attw');
      const result = await run(attw, ['--pack', built.get(pkg) as string, '--format', 'json'], {
        maxBuffer: 64 * 1024 * 1024,
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }));
      const report = JSON.parse(result.stdout) as { analysis: { problems?: unknown[]; types?: unknown } };
      expect(report.analysis.types, 'the package ships types').toBeTruthy();
      expect(report.analysis.problems ?? []).toEqual([]);
    },
  );

  it('no CommonJS build loads a dependency through import(), which would bring in its ESM copy', () => {
    for (const [pkg, dir] of built) {
      const cjs = readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.cjs'));
      expect(cjs.length, pkg.name).toBeGreaterThan(0);
      for (const file of cjs) {
        const dynamic = readFileSync(join(dir, 'dist', file), 'utf8').match(
          /\bimport\(\s*["'][^"']+["']\s*\)/g,
        );
        expect(dynamic ?? [], `${pkg.name} dist/${file}`).toEqual([]);
      }
    }
  });

  it('require() and import give the same exports for every entry of every package', async () => {
    const entries = PUBLISHED.flatMap((p) => ENTRIES[p.name] ?? [p.name]);
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const out = {};
      for (const name of ${JSON.stringify(entries)}) {
        out[name] = {
          cjs: Object.keys(require(name)).sort(),
          esm: Object.keys(await import(name)).filter((k) => k !== 'default' && k !== 'module.exports').sort(),
          resolved: [require.resolve(name), import.meta.resolve(name)].map((f) => f.replace(/^.*\\/dist\\//, '')),
        };
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    const out = JSON.parse(stdout) as Record<string, { cjs: string[]; esm: string[]; resolved: string[] }>;
    for (const name of entries) {
      const entry = out[name];
      const file = name.includes('/') && !name.startsWith('@') ? name.split('/')[1] : 'index';
      expect(entry?.resolved, name).toEqual([`${file}.cjs`, `${file}.js`]);
      expect(entry?.cjs.length, name).toBeGreaterThan(0);
      expect(entry?.cjs, name).toEqual(entry?.esm);
    }
  });

  it('from CommonJS, the built server, SDK, engine and CLI library run workflows end to end', async () => {
    // The CJS builds have no import.meta.url of their own (the server finds its shipped workflows by it),
    // the embedded engine comes in through the server's dynamic import, and the CLI's file input and
    // download go through mime, which is ESM-only: each of these fails if its CJS build is wrong.
    const script = `
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const sharp = require('sharp');
      const { startServer } = require('@flowscale/server');
      const { FlowscaleAPI } = require('flowscale');
      const { runCli } = require('@flowscale/cli');
      (async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-cjs-data-'));
        const key = 'cjs-consumer-key-0123456789';
        const server = await startServer({ port: 0, dataDir, apiKeys: [key], logLevel: 'error' });
        try {
          const api = new FlowscaleAPI({ apiKey: key, baseUrl: server.url, enableLogging: false });
          const sdk = await api.executeWorkflowAsync('text-echo', { default_value_1: 'from require()' });
          const photo = path.join(dataDir, 'photo.png');
          await sharp({ create: { width: 8, height: 8, channels: 3, background: '#204080' } }).png().toFile(photo);
          const outDir = fs.mkdtempSync(path.join(dataDir, 'out-'));
          let stderr = '';
          const io = {
            stdout: { write: () => true },
            stderr: { write: (s) => { stderr += s; return true; } },
            env: { FLOWSCALE_API_URL: server.url, FLOWSCALE_API_KEY: key, XDG_CONFIG_HOME: dataDir },
            cwd: dataDir,
          };
          const code = await runCli(['run', 'invert-image', '-i', 'image_1=@' + photo, '-o', outDir], io);
          console.log(JSON.stringify({ sdk, cli: { code, files: fs.readdirSync(outDir), stderr } }));
        } finally {
          await server.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      })();`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: project });
    const { sdk, cli } = JSON.parse(stdout) as {
      sdk: { status: string; data: Array<{ file_content?: string }> };
      cli: { code: number; files: string[]; stderr: string };
    };
    expect(sdk.status).toBe('success');
    expect(sdk.data[0]?.file_content).toContain('from require()');
    expect(cli, cli.stderr).toMatchObject({ code: 0, files: [expect.stringMatching(/\.png$/)] });
  });

  it('the built bins start: flowscale, flowscale-server and flowscale-engine --help', async () => {
    const bins = [
      ['@flowscale/cli', 'dist/bin.js', /flowscale/],
      ['@flowscale/server', 'dist/bin.js', /flowscale-server \[options\]/],
      ['@flowscale/engine', 'dist/bin.js', /flowscale-engine/],
    ] as const;
    for (const [name, bin, expected] of bins) {
      const { stdout } = await run(process.execPath, [join(project, 'node_modules', name, bin), '--help'], {
        cwd: project,
      });
      expect(stdout, name).toMatch(expected);
    }
  });
});
