import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FlowScaleError,
  FlowscaleAPI,
  NetworkError,
  RunFailedError,
  TimeoutError,
  ValidationError,
} from '../src/index';

const root = join(import.meta.dirname, '..', '..', '..');

describe('error classes', () => {
  it('keep their fields, names and hierarchy', () => {
    const error = new ValidationError('bad', {
      status: 422,
      code: 'validation_error',
      details: [{ field: 'a', message: 'b' }],
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error).not.toBeInstanceOf(NetworkError);
    expect([error.name, error.status, error.code, error.details]).toEqual([
      'ValidationError',
      422,
      'validation_error',
      [{ field: 'a', message: 'b' }],
    ]);
    expect(new TimeoutError('x')).not.toBeInstanceOf(NetworkError);
    expect(new RunFailedError('y', 'run-1').runId).toBe('run-1');
    expect({}).not.toBeInstanceOf(FlowScaleError);
    expect(null).not.toBeInstanceOf(FlowScaleError);
  });

  it('instanceof holds across a duplicate install (a second, separately bundled copy of the SDK)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowscale-dup-'));
    const out = join(dir, 'copy.mjs');
    execFileSync(
      join(root, 'node_modules/.bin/esbuild'),
      [
        join(root, 'packages/sdk/src/index.ts'),
        '--bundle',
        '--format=esm',
        '--platform=neutral',
        `--outfile=${out}`,
      ],
      { stdio: 'pipe' },
    );
    const copy = (await import(out)) as typeof import('../src/index');
    expect(copy.FlowScaleError).not.toBe(FlowScaleError);
    const foreign = new copy.ValidationError('from the other copy', { status: 400 });
    expect(foreign).toBeInstanceOf(FlowScaleError);
    expect(foreign).toBeInstanceOf(ValidationError);
    expect(foreign).not.toBeInstanceOf(NetworkError);
    expect(new NetworkError('ours')).toBeInstanceOf(copy.FlowScaleError);
    expect(new NetworkError('ours')).not.toBeInstanceOf(copy.TimeoutError);
  });
});

describe('browser guard', () => {
  const g = globalThis as Record<string, unknown>;
  afterEach(() => {
    delete g.window;
    delete g.document;
  });

  it('in a browser, an apiKey without allowDangerouslyExposeApiKey throws an error that explains proxy mode', () => {
    g.window = {};
    g.document = {};
    const create = () => new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://x' });
    expect(create).toThrow(FlowScaleError);
    expect(create).toThrow(/proxyMode: true/);
    expect(create).toThrow(/allowDangerouslyExposeApiKey: true/);
    expect(
      () =>
        new FlowscaleAPI({
          apiKey: 'k',
          baseUrl: 'http://x',
          allowDangerouslyExposeApiKey: true,
          enableLogging: false,
        }),
    ).not.toThrow();
    expect(() => new FlowscaleAPI({ baseUrl: 'http://x', proxyMode: true })).not.toThrow();
  });

  it('does not fire outside a browser', () => {
    expect(() => new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://x' })).not.toThrow();
  });
});
