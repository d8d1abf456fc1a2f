import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const SDK_SOURCE = join(REPO, 'packages/sdk/src/index.ts');

const GREETER_GRAPH = {
  '1': { class_type: 'FSLoadText', inputs: { default_value: 'hey', label: 'text' } },
  '3': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: 'FlowScale' } },
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
}, E2E_TIMEOUT);

/** Runs the repo's tsc on a project and returns its diagnostics grouped by file name. */
async function typecheck(dir: string): Promise<{ code: number; byFile: Map<string, string[]> }> {
  let stdout = '';
  let code = 0;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, [
      TSC,
      '--noEmit',
      '-p',
      dir,
      '--pretty',
      'false',
    ]));
  } catch (err) {
    const e = err as { stdout: string; code: number };
    stdout = e.stdout;
    code = e.code;
  }
  const byFile = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const m = /^(.*?)\(\d+,\d+\): error (TS\d+: .*)$/.exec(line);
    if (!m) continue;
    const file = m[1]!.split('/').pop()!;
    byFile.set(file, [...(byFile.get(file) ?? []), m[2]!]);
  }
  return { code, byFile };
}

describe('flowscale types', { timeout: E2E_TIMEOUT }, () => {
  it('generates types that make the SDK reject wrong input names and types at compile time', async () => {
    const dir = join(server.work, 'typed-app');
    mkdirSync(dir, { recursive: true });
    // A workflow whose input has a manifest alias: the server takes either name.
    writeFileSync(join(server.work, 'greeter.json'), JSON.stringify(GREETER_GRAPH));
    writeFileSync(
      join(server.work, 'greeter.manifest.json'),
      JSON.stringify({ inputs: { default_value_1: { alias: 'greeting' } } }),
    );
    const deployed = await runCli(['deploy', 'greeter.json', '--manifest', 'greeter.manifest.json'], {
      cwd: server.work,
      env: server.env,
    });
    expect(deployed.code, deployed.stderr).toBe(0);
    const gen = await runCli(['types', '--out', 'typed-app/flowscale-workflows.gen.ts', '--json'], {
      cwd: server.work,
      env: server.env,
    });
    expect(gen.code, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout).workflows).toEqual(
      expect.arrayContaining(['text-echo', 'invert-image', 'solid-color', 'blur-image', 'slow-delay']),
    );
    const generated = readFileSync(join(dir, 'flowscale-workflows.gen.ts'), 'utf8');
    expect(generated).toContain("declare module 'flowscale'");

    const solidId = JSON.parse(
      (await runCli(['workflows', 'show', 'solid-color', '--json'], { cwd: server.work, env: server.env }))
        .stdout,
    ).id;

    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO, 'tsconfig.base.json'),
        compilerOptions: {
          noEmit: true,
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: [],
          // The temp dir is outside the repo, so point the bare specifier at the SDK source.
          paths: { flowscale: [SDK_SOURCE] },
        },
        files: [
          'flowscale-workflows.gen.ts',
          'correct.ts',
          'misspelled.ts',
          'wrong-type.ts',
          'missing.ts',
          'aliases.ts',
        ],
      }),
    );
    const header =
      "import { FlowscaleAPI } from 'flowscale';\nconst api = new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://x' });\n";
    writeFileSync(
      join(dir, 'correct.ts'),
      `${header}export async function main(photo: Blob) {
  await api.executeWorkflow('text-echo', { default_value_1: 'hi' });
  await api.executeWorkflow('text-echo', {});
  await api.executeWorkflow('invert-image', { image_1: photo });
  await api.executeWorkflow('blur-image', { image_1: 'https://example.com/a.png', value_2: 5 });
  await api.executeWorkflow('${solidId}', { default_value_1: 64 });
  await api.executeWorkflow('greeter', { greeting: 'by alias' });
  await api.executeWorkflow('greeter', { default_value_1: 'by name' });
  await api.executeWorkflow('greeter', {});
  const loose: string = 'anything';
  await api.executeWorkflow(loose, { whatever: 1 });
}\n`,
    );
    writeFileSync(
      join(dir, 'misspelled.ts'),
      `${header}export const p = api.executeWorkflow('text-echo', { default_valeu_1: 'hi' });\n`,
    );
    writeFileSync(
      join(dir, 'wrong-type.ts'),
      `${header}export const p = api.executeWorkflow('solid-color', { default_value_1: 'big' });\nexport const q = api.executeWorkflow('${solidId}', { default_value_1: true });\n`,
    );
    writeFileSync(
      join(dir, 'missing.ts'),
      `${header}export const p = api.executeWorkflow('invert-image', {});\n`,
    );

    writeFileSync(
      join(dir, 'aliases.ts'),
      `${header}export const both = api.executeWorkflow('greeter', { greeting: 'a', default_value_1: 'b' });\nexport const wrong = api.executeWorkflow('greeter', { greeting: 5 });\n`,
    );

    const { code, byFile } = await typecheck(dir);
    expect(code).not.toBe(0);
    expect(byFile.get('correct.ts')).toBeUndefined();
    expect(byFile.get('flowscale-workflows.gen.ts')).toBeUndefined();

    const misspelled = byFile.get('misspelled.ts') ?? [];
    expect(misspelled).toHaveLength(1);
    // TS2561 when tsc also has a "did you mean", TS2353 otherwise: both say the property is unknown.
    expect(misspelled[0]).toMatch(/^TS(2353|2561): .*'default_valeu_1' does not exist in type/);

    const wrongType = byFile.get('wrong-type.ts') ?? [];
    expect(wrongType).toHaveLength(2);
    expect(wrongType[0]).toMatch(/^TS2322: Type 'string' is not assignable to type 'number'/);
    expect(wrongType[1]).toMatch(/^TS2322: Type 'boolean' is not assignable to type 'number'/);

    // Either name of an aliased input, never both, and the alias keeps the input's type.
    const aliases = byFile.get('aliases.ts') ?? [];
    expect(aliases).toHaveLength(2);
    expect(aliases[0]).toMatch(
      /^TS2345: Argument of type '\{ greeting: string; default_value_1: string; \}' is not assignable/,
    );
    expect(aliases[1]).toMatch(/^TS2322: Type 'number' is not assignable to type 'string'/);

    const missing = byFile.get('missing.ts') ?? [];
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(
      /^TS2345: Argument of type '\{\}' is not assignable to parameter of type '\{ image_1: /,
    );
  });

  it('--check passes on a fresh file and fails on a stale or missing one', async () => {
    const env = server.env;
    expect((await runCli(['types', '--out', 'check/types.gen.ts'], { cwd: server.work, env })).code).toBe(0);
    const ok = await runCli(['types', '--out', 'check/types.gen.ts', '--check'], { cwd: server.work, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('check/types.gen.ts is up to date');
    writeFileSync(join(server.work, 'check/types.gen.ts'), '// stale\n');
    const stale = await runCli(['types', '--out', 'check/types.gen.ts', '--check'], {
      cwd: server.work,
      env,
    });
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toBe(
      'error: check/types.gen.ts is out of date: run "flowscale types --out check/types.gen.ts"',
    );
    expect(readFileSync(join(server.work, 'check/types.gen.ts'), 'utf8')).toBe('// stale\n');
    const missing = await runCli(['types', '--out', 'check/none.gen.ts', '--check'], {
      cwd: server.work,
      env,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('is missing');
  });

  it('prints to stdout with --out -', async () => {
    const r = await runCli(['types', '--out', '-'], { cwd: server.work, env: server.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ Generated by `flowscale types`/);
    expect(r.stdout).toContain("'slow-delay': SlowDelayWorkflow;");
  });
});
