import { CommanderError } from 'commander';
import { FlowScaleError, NetworkError, type RunEvent, TimeoutError, ValidationError } from 'flowscale';
import { describe, expect, it } from 'vitest';
import { defaultWorkflowName } from '../src/commands/deploy';
import { describeType } from '../src/commands/workflows';
import type { ResolvedConfig } from '../src/config';
import { safeFileName } from '../src/download';
import { toCliError } from '../src/errors';
import { CliError, ExitCode } from '../src/exit-codes';
import { colorEnabled } from '../src/output';
import { describeEvent, failureMessage, renderBar } from '../src/progress';

const config: ResolvedConfig = {
  apiUrl: 'http://127.0.0.1:9',
  apiKey: 'secret-key-value',
  sources: { apiUrl: 'env', apiKey: 'env' },
};
// As the SDK builds them (core/transport.ts): "HTTP Error <status> <text> - <server message>".
const httpError = (status: number, text: string, message: string) =>
  new FlowScaleError(`HTTP Error ${status} ${text} - ${message}`, { status, code: 'x' });

describe('toCliError', () => {
  it('maps a 401 to the auth exit code, naming the env var but never the key', () => {
    const e = toCliError(httpError(401, 'Unauthorized', 'Invalid API key'), config);
    expect(e.exitCode).toBe(ExitCode.auth);
    expect(e.message).toContain('FLOWSCALE_API_KEY');
    expect(e.message).not.toContain('secret-key-value');
  });
  it('says how to set a key when none was given', () => {
    const e = toCliError(httpError(401, 'Unauthorized', 'x'), {
      ...config,
      apiKey: undefined,
      sources: { apiUrl: 'default' },
    });
    expect(e.message).toMatch(/^no API key: run "flowscale login", or set FLOWSCALE_API_KEY/);
  });
  it('maps 404, 422 (with details) and connection failures', () => {
    expect(toCliError(httpError(404, 'Not Found', 'Run not found'), config)).toMatchObject({
      exitCode: ExitCode.notFound,
      message: 'Run not found',
    });
    const v = toCliError(
      new ValidationError('HTTP Error 422 Unprocessable Entity - Invalid input', {
        status: 422,
        details: [{ field: 'a', message: 'bad' }],
      }),
      config,
    );
    expect(v).toMatchObject({ exitCode: ExitCode.usage, message: 'Invalid input (a: bad)' });
    const refused = new NetworkError('Network error on GET /api/v1/runs/r: fetch failed', {
      code: 'network_error',
      cause: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
    });
    const u = toCliError(refused, config);
    expect(u.exitCode).toBe(ExitCode.unreachable);
    expect(u.message).toContain('http://127.0.0.1:9');
    expect(u.message).toContain('FLOWSCALE_API_URL');
  });
  it('explains rate limiting', () => {
    const e = toCliError(httpError(429, 'Too Many Requests', 'Rate limit exceeded'), config);
    expect(e).toMatchObject({
      exitCode: ExitCode.generic,
      message:
        'the server is rate limiting this key (HTTP 429: Rate limit exceeded); wait a moment and try again',
    });
  });

  it('classifies by SDK error class, status and code, never by what a message says', () => {
    const timeout = new TimeoutError('Request timed out after 50ms', { code: 'timeout' });
    expect(toCliError(timeout, config)).toMatchObject({
      exitCode: ExitCode.timeout,
      message: timeout.message,
    });
    // An event stream that closed early reached the server: not "cannot reach".
    const closed = new NetworkError('Run r event stream closed before the run ended', {
      code: 'stream_closed',
    });
    expect(toCliError(closed, config)).toMatchObject({ exitCode: ExitCode.generic, message: closed.message });
    // A status or a telling message on some other error is not an SDK HTTP error.
    const lookalike = Object.assign(new Error('HTTP Error 401 Unauthorized - timed out: fetch failed'), {
      status: 401,
      name: 'NetworkError',
    });
    expect(toCliError(lookalike, config)).toMatchObject({
      exitCode: ExitCode.generic,
      message: 'HTTP Error 401 Unauthorized - timed out: fetch failed',
    });
  });

  it('keeps messages on one line and passes CliErrors through', () => {
    expect(toCliError(new Error('first\n    at stack (x.ts:1)')).message).toBe('first');
    const own = new CliError('mine', ExitCode.runFailed);
    expect(toCliError(own)).toBe(own);
    expect(
      toCliError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'")),
    ).toMatchObject({
      exitCode: ExitCode.usage,
    });
  });
});

describe('progress text', () => {
  const at = { seq: 1, run_id: 'r', progress: 0, ts: '2026-01-01T00:00:00.000Z' };
  it('describes events in one line each', () => {
    const queued = (n: number): RunEvent => ({
      ...at,
      type: 'run.queued',
      status: 'queued',
      queue_position: n,
    });
    expect(describeEvent(queued(2))).toBe('queued (2 ahead)');
    expect(describeEvent(queued(0))).toBe('queued');
    expect(
      describeEvent({
        ...at,
        type: 'node.executing',
        status: 'running',
        node_id: '3',
        node_type: 'ImageBlur',
      }),
    ).toBe('running node 3 (ImageBlur)');
    expect(
      describeEvent({
        ...at,
        type: 'output.ready',
        status: 'running',
        output: { filename: 'o.png', name: 'o', content_type: 'image/png', size: 2048 },
      }),
    ).toBe('output ready: o.png (image/png, 2.0 KiB)');
    expect(
      describeEvent({ ...at, type: 'node.progress', status: 'running', node_id: '3', value: 1, max: 4 }),
    ).toBeUndefined();
  });
  it('names the failing node', () => {
    expect(failureMessage({ message: 'boom\ntrace', node_id: '2', node_type: 'FSDelay' })).toBe(
      'node 2 (FSDelay) failed: boom',
    );
    expect(failureMessage({ message: 'no node' })).toBe('no node');
  });
  it('draws a clamped bar', () => {
    expect(renderBar(50, 10)).toBe('█████░░░░░');
    expect(renderBar(250, 4)).toBe('████');
    expect(renderBar(Number.NaN, 4)).toBe('░░░░');
  });
});

describe('file names', () => {
  it('never escapes the output directory', () => {
    expect(safeFileName('../../etc/passwd', false)).toBe('passwd');
    expect(safeFileName('..', false)).toBe('output');
    expect(safeFileName('filename_prefix_3_ABC', true)).toBe('filename_prefix_3_ABC.txt');
    expect(safeFileName('a b.png', false)).toBe('a_b.png');
  });
  it('derives a workflow name from an API-format export', () => {
    expect(defaultWorkflowName('/x/my_flow_api.json')).toBe('my_flow');
    expect(defaultWorkflowName('upscale.json')).toBe('upscale');
  });
});

describe('colorEnabled', () => {
  it('colours only a terminal, and NO_COLOR always wins', () => {
    expect(colorEnabled({ write() {}, isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ write() {} }, {})).toBe(false);
    expect(colorEnabled({ write() {}, isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ write() {}, isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ write() {} }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ write() {}, isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('describeType', () => {
  it('shows limits and choices next to the type', () => {
    expect(describeType({ name: 'a', type: 'integer', min: 1, max: 64 })).toBe('integer 1..64');
    expect(describeType({ name: 'a', type: 'number', min: 0 })).toBe('number 0..');
    expect(describeType({ name: 'a', type: 'string', choices: ['a', 'b'] })).toBe('string a|b');
    expect(describeType({ name: 'a', type: 'image' })).toBe('image');
  });
});
