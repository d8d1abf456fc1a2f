import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

describe('typed workflows', () => {
  it('a generated WorkflowRegistry augmentation type-checks good calls and rejects bad ones (tsc over a fixture)', async () => {
    // Every `@ts-expect-error` line must really be an error, else tsc reports an unused directive.
    const tsc = join(root, 'node_modules/.bin/tsc');
    const project = join(import.meta.dirname, 'type-fixtures/tsconfig.json');
    const result = await promisify(execFile)(tsc, ['-p', project], { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 90_000);
});
