import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../support/child-server';
import { startTestServer, type TestServer, tempDir } from '../support/harness';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const PUBLIC_URL = 'https://flowscale.example.test';
let server: TestServer;
let doc: {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<
    string,
    Record<string, { operationId?: string; security?: unknown[]; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, unknown> };
};
const work = tempDir('openapi-client');

beforeAll(async () => {
  server = await startTestServer({ publicUrl: PUBLIC_URL });
  doc = (await (await server.request('/openapi.json', { key: null })).json()) as typeof doc;
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([route, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${route}`, op })),
  );

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1: no errors, no warnings', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    const errors = 'errors' in result ? result.errors : [];
    expect(errors, JSON.stringify(errors)).toEqual([]);
    expect(result.warnings ?? [], JSON.stringify(result.warnings)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('names every operation, every body schema, and says which routes need no key', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(doc.components.schemas).filter((name) => name.startsWith('def-'))).toEqual([]);
    const byKey = Object.fromEntries(operations().map(({ key, op }) => [key, op]));
    for (const open of ['GET /healthz', 'GET /readyz', 'GET /api/v1/files/{filename}'])
      expect(byKey[open]?.security, open).toEqual([]);
    expect(byKey['GET /api/v1/runs/{id}']?.security).toEqual([{ APIKeyHeader: [] }]);
    expect(JSON.stringify(byKey['POST /api/v1/runs']?.responses['201'])).toContain(
      '#/components/schemas/RunSubmitted',
    );
    expect(JSON.stringify(byKey['GET /api/v1/runs/{id}']?.responses['200'])).toContain('RunEnvelope');
    expect(JSON.stringify(byKey['POST /api/v1/runs/{id}/cancel']?.responses['200'])).toContain(
      'RunCancelled',
    );
    expect(JSON.stringify(byKey['POST /api/v1/runs']?.responses['422'])).toContain('ErrorEnvelope');
    expect(byKey['GET /api/v1/usage']?.operationId).toBe('getUsage');
    expect(JSON.stringify(byKey['GET /api/v1/usage']?.responses['200'])).toContain('UsageReport');
    expect(JSON.stringify(byKey['GET /api/v1/usage']?.responses['400'])).toContain('ErrorEnvelope');
    for (const name of ['UsageReport', 'ProjectUsage', 'UsageDay', 'UsageCounts'])
      expect(doc.components.schemas[name], name).toBeDefined();
    expect(doc.servers).toEqual([{ url: PUBLIC_URL, description: 'This server' }]);
  });

  it('/docs is titled as ours', async () => {
    const page = await (await server.request('/docs/', { key: null })).text();
    expect(page).toContain('<title>FlowScale server API</title>');
  });

  it('generates a typed client with openapi-typescript that type-checks a real call (tsc)', async () => {
    const types = astToString(await openapiTS(doc as never));
    fs.writeFileSync(path.join(work, 'api.d.ts'), types);
    fs.writeFileSync(
      path.join(work, 'call.ts'),
      `import type { paths } from './api';
type Op<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];
type Created = Op<'/api/v1/runs', 'post'> extends { responses: { 201: { content: { 'application/json': infer B } } } } ? B : never;
type Run = Op<'/api/v1/runs/{id}', 'get'> extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;
export async function submitAndRead(base: string, key: string, form: FormData): Promise<string> {
  const created = (await (await fetch(\`\${base}/api/v1/runs?workflow_id=text-echo\`, { method: 'POST', headers: { 'x-api-key': key }, body: form })).json()) as Created;
  const runId: string = created.data.run_id;
  const run = (await (await fetch(\`\${base}/api/v1/runs/\${runId}\`, { headers: { 'x-api-key': key } })).json()) as Run;
  const status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' = run.data.status;
  // @ts-expect-error run_id is a string, not a number
  const wrong: number = created.data.run_id;
  return \`\${status}\${wrong}\`;
}
`,
    );
    fs.writeFileSync(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM'],
          skipLibCheck: false,
        },
        files: ['call.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules/.bin/tsc');
    const result = await promisify(execFile)(tsc, ['-p', path.join(work, 'tsconfig.json')], {
      cwd: work,
    }).then(
      () => ({ code: 0, out: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
