import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, collect, runCli, spawnCli, waitForStderr } from './helpers/cli';
import { E2E_TIMEOUT, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, E2E_TIMEOUT);
afterAll(async () => {
  await server?.close();
}, E2E_TIMEOUT);

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { cwd: server.work, env: { ...server.env, ...env } });

async function runStatus(runId: string): Promise<string> {
  const r = await cli(['runs', 'show', runId, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).status;
}

async function waitForStatus(runId: string, wanted: string[], timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const status = await runStatus(runId);
    if (wanted.includes(status) || Date.now() > end) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('flowscale run', { timeout: E2E_TIMEOUT }, () => {
  it('runs a text workflow, shows progress and writes the text output as .txt', async () => {
    const r = await cli(['run', 'text-echo', '-i', 'default_value_1=hello cli', '--out', 'echo-out']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/running node \d+/);
    expect(r.stderr).toMatch(/completed in [\d.]+s/);
    // No TTY: plain text only, no escape codes.
    expect(r.stderr + r.stdout).not.toContain('\x1b[');
    const files = readdirSync(join(server.work, 'echo-out'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^filename_prefix_3_[A-Z0-9]{10}.*\.txt$/);
    expect(readFileSync(join(server.work, 'echo-out', files[0]!), 'utf8')).toBe('hello cli from FlowScale');
    expect(r.stdout).toContain(files[0]);
  });

  it('--json: coerces an integer input and downloads a PNG of that size', async () => {
    const r = await cli(['run', 'solid-color', '-i', 'default_value_1=24', '--out', 'solid', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // --json keeps progress quiet
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe('completed');
    expect(result.outputs).toHaveLength(1);
    const { path, size } = result.outputs[0];
    const bytes = readFileSync(path);
    expect(bytes.byteLength).toBe(size);
    expect(readdirSync(join(server.work, 'solid'))).toEqual([basename(path)]); // no leftover .part file
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 24, 24]);
    const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]]).toEqual([255, 0, 0]);
  });

  it('uploads a local image with @file and downloads the inverted result', async () => {
    await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 10, g: 100, b: 200 } } })
      .png()
      .toFile(join(server.work, 'in.png'));
    const r = await cli(['run', 'invert-image', '-i', 'image_1=@in.png', '--out', 'inv', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).outputs[0].path as string;
    expect(out).toMatch(/\.png$/);
    const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([8, 6]);
    expect([data[0], data[1], data[2]]).toEqual([245, 155, 55]);
  });

  it('passes a data: URL for an image input through to the server', async () => {
    const png = await sharp({
      create: { width: 2, height: 2, channels: 3, background: { r: 255, g: 255, b: 0 } },
    })
      .png()
      .toBuffer();
    const dataUrl = `data:image/png;base64,${png.toString('base64')}`;
    const r = await cli(['run', 'invert-image', '-i', `image_1=${dataUrl}`, '--out', 'dataurl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { data } = await sharp(JSON.parse(r.stdout).outputs[0].path)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]]).toEqual([0, 0, 255]);
  });

  it('reads an input from stdin with @-', async () => {
    const child = spawnCli(['run', 'invert-image', '-i', 'image_1=@-', '--out', 'piped', '--json'], {
      cwd: server.work,
      env: server.env,
    });
    const png = await sharp({
      create: { width: 3, height: 2, channels: 3, background: { r: 0, g: 50, b: 255 } },
    })
      .png()
      .toBuffer();
    child.stdin!.end(png);
    const r = await collect(child);
    expect(r.code, r.stderr).toBe(0);
    const { data, info } = await sharp(JSON.parse(r.stdout).outputs[0].path)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, data[0], data[1], data[2]]).toEqual([3, 2, 255, 205, 0]);
  });

  it('rejects a missing @file, an unknown input and a mistyped value before submitting (exit 2)', async () => {
    const missing = await cli(['run', 'invert-image', '-i', 'image_1=@nope.png']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: input "image_1": no such file: nope.png');

    const unknown = await cli(['run', 'text-echo', '-i', 'default_value=x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no input "default_value" (did you mean "default_value_1"?)');

    const typed = await cli(['run', 'solid-color', '-i', 'default_value_1=big']);
    expect(typed.code).toBe(2);
    expect(typed.stderr.trim()).toBe(
      'error: input "default_value_1" (integer) expects an integer, got "big"',
    );

    const required = await cli(['run', 'invert-image']);
    expect(required.code).toBe(2);
    expect(required.stderr).toContain('-i image_1=@file');

    const before = JSON.parse((await cli(['runs', '--json', '--page-size', '100'])).stdout).meta.total_count;
    expect(before).toBeGreaterThanOrEqual(0);
  });

  it('names the failing node when a run fails (exit 5)', async () => {
    writeFileSync(join(server.work, 'broken.png'), 'this is not a PNG');
    const r = await cli(['run', 'invert-image', '-i', 'image_1=@broken.png']);
    expect(r.code, r.stderr).toBe(5);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^error: run \S+ failed: node 1 \(FSLoadImage\) failed: .*image format/);

    const json = await cli(['run', 'invert-image', '-i', 'image_1=@broken.png', '--json']);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'failed',
      error: { node_id: '1', node_type: 'FSLoadImage', message: expect.stringContaining('image format') },
    });
    expect(JSON.parse(json.stderr)).toMatchObject({ exit_code: 5 });
  });

  it('--no-wait returns the run id; runs, runs show and output follow it', async () => {
    const r = await cli([
      'run',
      'text-echo',
      '-i',
      'default_value_1=later',
      '--no-wait',
      '--group',
      'grp-nowait',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const runId = r.stdout.trim();
    expect(runId).toMatch(/^\S+$/);
    expect(await waitForStatus(runId, ['completed'])).toBe('completed');

    const list = await cli(['runs', '--group', 'grp-nowait', '--json']);
    const page = JSON.parse(list.stdout);
    expect(page.runs.map((x: { _id: string }) => x._id)).toEqual([runId]);
    expect(page.meta).toMatchObject({ page: 1, total_count: 1 });
    const human = await cli(['runs', '--group', 'grp-nowait']);
    expect(human.stdout).toContain(runId);
    expect(human.stdout).toMatch(/page 1 of 1 \(1 runs\)/);

    const show = await cli(['runs', 'show', runId]);
    expect(show.stdout).toMatch(/status\s+completed/);
    expect(show.stdout).toContain('default_value_1 = "later"');

    const detail = JSON.parse((await cli(['runs', 'show', runId, '--json'])).stdout);
    const name = (detail.outputs[0].filename as string).replace(/\.[^.]+$/, '');
    const out = await cli(['output', name, '--out', 'single', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const saved = JSON.parse(out.stdout);
    expect(readFileSync(saved.path, 'utf8')).toBe('later from FlowScale');

    const unknownOutput = await cli(['output', 'filename_prefix_3_ZZZZZZZZZZ']);
    expect(unknownOutput.code).toBe(4);
    const unknownRun = await cli(['runs', 'show', 'no-such-run']);
    expect(unknownRun.code).toBe(4);
  });

  it('runs watch follows a run started with --no-wait and downloads its output', async () => {
    const r = await cli(['run', 'slow-delay', '-i', 'value_4=1.5', '--no-wait']);
    const runId = r.stdout.trim();
    const w = await cli(['runs', 'watch', runId, '--out', 'watched']);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain(`slow-delay run ${runId}`);
    expect(w.stderr).toMatch(/running node 2 \(FSDelay\)/);
    const [file] = readdirSync(join(server.work, 'watched'));
    expect(readFileSync(join(server.work, 'watched', file!), 'utf8')).toBe('done');

    // Watching a finished run replays its events and downloads again; an unknown run is exit 4.
    const again = await cli(['runs', 'watch', runId, '--out', 'watched-again', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ run_id: runId, status: 'completed' });
    expect((await cli(['runs', 'watch', 'no-such-run'])).code).toBe(4);
  });

  it('paginates runs', async () => {
    const page2 = await cli(['runs', '--page', '2', '--page-size', '1', '--json']);
    expect(page2.code).toBe(0);
    const parsed = JSON.parse(page2.stdout);
    expect(parsed.meta).toMatchObject({ page: 2, page_size: 1 });
    expect(parsed.runs).toHaveLength(1);
  });

  it('cancel stops a running run; cancelling it again is an error', async () => {
    const r = await cli(['run', 'slow-delay', '-i', 'value_4=30', '--no-wait']);
    const runId = r.stdout.trim();
    // Its output is named from the start but not ready while the run is going.
    const [outputName] = JSON.parse((await cli(['runs', 'show', runId, '--json'])).stdout).output_names;
    const early = await cli(['output', outputName]);
    expect(early.code).toBe(1);
    expect(early.stderr.trim()).toBe(
      `error: output "${outputName}" is not ready yet; try again when the run has finished`,
    );
    const c = await cli(['cancel', runId]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe(`cancelled run ${runId}`);
    expect(await waitForStatus(runId, ['cancelled'])).toBe('cancelled');
    const again = await cli(['cancel', runId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already finished');
  });

  it('--timeout gives up waiting with exit 6 and leaves the run alone', async () => {
    const r = await cli(['run', 'slow-delay', '-i', 'value_4=30', '--timeout', '1', '--json']);
    expect(r.code, r.stderr).toBe(6);
    const runId = JSON.parse(r.stdout).run_id as string;
    expect(r.stderr).toContain(`flowscale runs watch ${runId}`);
    expect(['queued', 'running']).toContain(await runStatus(runId));
    await cli(['cancel', runId]);
  });

  it('Ctrl-C without a TTY cancels the run on the server (exit 130)', async () => {
    const child = spawnCli(['run', 'slow-delay', '-i', 'value_4=30'], { cwd: server.work, env: server.env });
    child.stdin!.end();
    const done = collect(child);
    const seen = await waitForStderr(child, /running node/);
    const runId = /run (\S+)/.exec(seen)![1]!;
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain(`cancelling run ${runId}`);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`error: cancelled run ${runId}`);
    expect(await waitForStatus(runId, ['cancelled'])).toBe('cancelled');
  });
});

// Built from a string so the pattern holds no literal control character.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
const hasScript = spawnSync('script', ['--version']).status === 0;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// util-linux `script` gives the CLI a real pseudo-terminal, so this is the interactive path a person sees.
describe.skipIf(!hasScript)('on a terminal', { timeout: E2E_TIMEOUT }, () => {
  it('draws a coloured progress bar, and Ctrl-C asks before cancelling', async () => {
    const command = cliCommand(['run', 'slow-delay', '-i', 'value_4=30']).map(shellQuote).join(' ');
    const env: Record<string, string | undefined> = { ...process.env, ...server.env, COLUMNS: '100' };
    delete env.NO_COLOR;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: server.work,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    const plain = () => screen.replace(ANSI, '');
    const waitFor = async (done: () => boolean, what: string) => {
      const end = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > end) throw new Error(`never saw ${what}; screen: ${plain()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));

    await waitFor(() => plain().includes('node 2 (FSDelay)'), 'the running node');
    const runId = /run (\S+)/.exec(plain())![1]!;
    expect(plain()).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running [█░]{24}/);
    expect(screen).toContain('\u001b[36m'); // the cyan spinner: colours are on at a terminal

    const prompts = () => plain().split(`Cancel run ${runId} on the server? [y/N]`).length - 1;
    child.stdin!.write('\u0003'); // Ctrl-C, turned into SIGINT by the terminal
    await waitFor(() => prompts() === 1, 'the first prompt');
    // "n" keeps waiting: the run must still be going.
    child.stdin!.write('n\r');
    await new Promise((r) => setTimeout(r, 500));
    expect(await runStatus(runId)).toBe('running');

    child.stdin!.write('\u0003');
    await waitFor(() => prompts() === 2, 'the second prompt');
    child.stdin!.write('y\r');
    expect(await exited).toBe(130);
    expect(plain()).toContain(`cancelled run ${runId}`);
    expect(await waitForStatus(runId, ['cancelled'])).toBe('cancelled');
  });
});
