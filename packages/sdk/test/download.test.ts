import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlowScaleError, type OutputEntry, TimeoutError } from '../src/index';
import { downloadOutput, downloadOutputToFile } from '../src/node/index';
import { clientFor, recordDelays } from './support/client';
import { type ContractServer, fileBytes, startContractServer } from './support/contract-server';

let server: ContractServer;
let dir: string;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const downloads = (s: ContractServer) => s.requests.filter((r) => r.path.startsWith('/files/'));
const bytesOf = async (response: Response) => Buffer.from(await response.arrayBuffer());

/** A finished two-output run: its text entry and its file entry. */
async function twoOutputs(api = clientFor(server)) {
  const { data } = await api.executeWorkflowAsync('two-outputs', { default_value_1: 'dl' });
  const text = data.find((o) => o.file_content !== undefined)!;
  const file = data.find((o) => o.download_url !== undefined)!;
  return { text, file };
}

describe('downloadOutput', () => {
  it('downloads a file entry of executeWorkflowAsync without the API key or custom headers', async () => {
    const api = clientFor(server, { customHeaders: { Authorization: 'Bearer secret-jwt' } });
    const { file } = await twoOutputs(api);
    const before = downloads(server).length;
    const response = await downloadOutput(api, file);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(await bytesOf(response)).toEqual(fileBytes(file.filename));
    const sent = downloads(server).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-api-key']).toBeUndefined();
    expect(sent[0]!.headers.authorization).toBeUndefined();
    // The API calls of the same client did carry both.
    const apiCall = server.requestsTo('/api/v1/runs/output').at(-1)!;
    expect(apiCall.headers['x-api-key']).toBe(server.apiKey);
    expect(apiCall.headers.authorization).toBe('Bearer secret-jwt');
  });

  it('turns a text entry into a text/plain Response without any request', async () => {
    const api = clientFor(server);
    const { text } = await twoOutputs(api);
    const count = server.requests.length;
    const response = await downloadOutput(api, text);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;\s*charset=utf-8$/i);
    expect(await response.text()).toBe('dl from FlowScale');
    expect(server.requests.length).toBe(count);
  });

  it('downloads a signed URL given as a string, with the per-call headers only', async () => {
    const api = clientFor(server);
    const { file } = await twoOutputs(api);
    const response = await downloadOutput(api, file.download_url!, { headers: { 'X-Trace': 't1' } });
    expect(await bytesOf(response)).toEqual(fileBytes(file.filename));
    const sent = downloads(server).at(-1)!;
    expect(sent.headers['x-trace']).toBe('t1');
    expect(sent.headers['x-api-key']).toBeUndefined();
  });

  it('resolves an output name with getOutput (with the key), then downloads without it', async () => {
    const api = clientFor(server);
    const { data } = await api.executeWorkflowAsync('image-batch', { default_value_1: 'b' });
    const second = data[1]!; // the second file of the batch, asked for by its own name
    const name = second.filename.replace(/\.png$/, '');
    const reads = server.requestsTo('/api/v1/runs/output').length;
    const response = await downloadOutput(api, name);
    expect(await bytesOf(response)).toEqual(fileBytes(second.filename));
    const read = server.requestsTo('/api/v1/runs/output').slice(reads);
    expect(read.map((r) => new URL(r.url, server.url).searchParams.get('filename'))).toEqual([name]);
    expect(read[0]!.headers['x-api-key']).toBe(server.apiKey);
    expect(downloads(server).at(-1)!.headers['x-api-key']).toBeUndefined();
    // A text output by name is its content.
    const textName = data[3]!.filename.replace(/\.txt$/, '');
    expect(await (await downloadOutput(api, textName)).text()).toBe('b from FlowScale');
  });

  it('rejects clearly for an output that is not ready (204) and for an unknown name (404)', async () => {
    const api = clientFor(server);
    const started = await api.executeWorkflow('hang', {});
    const run = (await api.getRun(started.data.run_id)).data;
    const error = await downloadOutput(api, run.output_names![0]!).catch((e) => e);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error).toMatchObject({ code: 'output_not_ready' });
    expect(error.message).toContain('not ready yet');
    await api.cancelRun(started.data.run_id);
    await expect(downloadOutput(api, 'filename_prefix_9_NOPE')).rejects.toMatchObject({ status: 404 });
  });

  it('rejects with the status for a 404 or an expired URL, without retrying', async () => {
    const api = clientFor(server);
    const { file } = await twoOutputs(api);
    const path = new URL(file.download_url!).pathname;
    server.inject({
      path,
      status: 403,
      body: { errors: 'Download URL has expired; ask for the output again' },
    });
    const before = downloads(server).length;
    const expired = await downloadOutput(api, file).catch((e) => e);
    expect(expired).toBeInstanceOf(FlowScaleError);
    expect(expired.status).toBe(403);
    expect(expired.message).toContain('Download URL has expired');
    server.inject({ path, status: 404, body: { errors: 'No output file' } });
    await expect(downloadOutput(api, file)).rejects.toMatchObject({ status: 404 });
    expect(downloads(server).length - before).toBe(2);
  });

  it('retries a GET that failed with 503 or a dropped connection, like any API read', async () => {
    const api = clientFor(server, { retries: 2 });
    const { file } = await twoOutputs(api);
    const path = new URL(file.download_url!).pathname;
    server.inject({ path, status: 503, headers: { 'Retry-After': '0' } });
    server.inject({ path, destroy: true });
    const recorder = recordDelays();
    const before = downloads(server).length;
    const response = await downloadOutput(api, file).finally(() => recorder.restore());
    expect(await bytesOf(response)).toEqual(fileBytes(file.filename));
    expect(downloads(server).length - before).toBe(3);
    expect(recorder.delays).toHaveLength(2);
  });

  it('honours the per-call timeout and signal', async () => {
    const api = clientFor(server, { retries: 0 });
    const { file } = await twoOutputs(api);
    const path = new URL(file.download_url!).pathname;
    server.inject({ path, delayMs: 300 });
    await expect(downloadOutput(api, file, { timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    server.inject({ path, delayMs: 300 });
    const controller = new AbortController();
    const pending = downloadOutput(api, file, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 30);
    await expect(pending).rejects.toThrow('stop');
  });

  it('never sends the key to another host named by the download URL', async () => {
    const other = await startContractServer({ apiKey: 'other-key' });
    try {
      const api = clientFor(server);
      const url = `${other.url}/files/elsewhere.png?expires=1&signature=abc`;
      const response = await downloadOutput(api, { download_url: url });
      expect(await bytesOf(response)).toEqual(fileBytes('elsewhere.png'));
      expect(other.requests).toHaveLength(1);
      expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();
      expect(JSON.stringify(other.requests[0]!.headers)).not.toContain(server.apiKey);
    } finally {
      await other.close();
    }
  });
});

describe('downloadOutputToFile (flowscale/node)', () => {
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'fs-sdk-dl-'));
    return dir;
  };

  it('streams each target kind to disk and leaves no .part file', async () => {
    const client = clientFor(server);
    const { text, file } = await twoOutputs(client);
    const d = fresh();
    const saved = await downloadOutputToFile(file, join(d, 'a.png'), { client });
    expect(saved).toEqual({
      path: join(d, 'a.png'),
      size: fileBytes(file.filename).byteLength,
      contentType: 'image/png',
    });
    expect(readFileSync(join(d, 'a.png'))).toEqual(fileBytes(file.filename));
    await downloadOutputToFile(file.download_url!, join(d, 'b.png'), { client });
    await downloadOutputToFile(file.filename.replace(/\.png$/, ''), join(d, 'c.png'), { client });
    const t = await downloadOutputToFile(text, join(d, 'd.txt'), { client });
    expect(t.size).toBe(Buffer.byteLength('dl from FlowScale'));
    expect(readFileSync(join(d, 'd.txt'), 'utf8')).toBe('dl from FlowScale');
    await downloadOutputToFile(await downloadOutput(client, file), join(d, 'e.png'));
    expect(readFileSync(join(d, 'e.png'))).toEqual(fileBytes(file.filename));
    expect(readdirSync(d).sort()).toEqual(['a.png', 'b.png', 'c.png', 'd.txt', 'e.png']);
  });

  it('writes nothing when the download fails or breaks off, and needs a client for a non-Response', async () => {
    const client = clientFor(server);
    const { file } = await twoOutputs(client);
    const d = fresh();
    server.inject({ path: new URL(file.download_url!).pathname, status: 404 });
    await expect(downloadOutputToFile(file, join(d, 'x.png'), { client })).rejects.toMatchObject({
      status: 404,
    });
    // A body that errors halfway: the partial file is removed, nothing appears under the final name.
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(1024));
      },
      pull(c) {
        c.error(new Error('connection reset'));
      },
    });
    await expect(downloadOutputToFile(new Response(broken), join(d, 'y.png'))).rejects.toThrow(
      'connection reset',
    );
    await expect(downloadOutputToFile(file as OutputEntry, join(d, 'z.png'))).rejects.toMatchObject({
      code: 'no_client',
    });
    expect(readdirSync(d)).toEqual([]);
    expect(existsSync(join(d, 'y.png.part'))).toBe(false);
  });
});
