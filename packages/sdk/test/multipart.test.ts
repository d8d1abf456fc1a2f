import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFromPath } from '../src/node/index';
import { clientFor } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer;
const dir = mkdtempSync(join(tmpdir(), 'flowscale-sdk-'));
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());

async function uploadedParts(inputs: Record<string, unknown>) {
  const api = clientFor(server);
  const { data } = await api.executeWorkflow('text-echo', inputs as never);
  return server.uploads.get(data.run_id)!;
}

describe('executeWorkflow multipart encoding (parsed by a real multipart parser)', () => {
  it('sends strings, numbers and booleans as text parts', async () => {
    const parts = await uploadedParts({ text_1: 'héllo "quoted"\nline', n_2: 42.5, b_3: true, off_4: false });
    expect(parts.map((p) => [p.name, p.text, p.filename])).toEqual([
      ['text_1', 'héllo "quoted"\nline', undefined],
      ['n_2', '42.5', undefined],
      ['b_3', 'true', undefined],
      ['off_4', 'false', undefined],
    ]);
  });

  it('sends URL and data-URL strings as text, not as downloaded files', async () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo=';
    const parts = await uploadedParts({ image_1: 'https://example.com/in.jpg', image_2: dataUrl });
    expect(parts.map((p) => [p.name, p.text, p.filename])).toEqual([
      ['image_1', 'https://example.com/in.jpg', undefined],
      ['image_2', dataUrl, undefined],
    ]);
  });

  it('sends File and Blob as file parts with name and type', async () => {
    const file = new File(['png-bytes'], 'cat.png', { type: 'image/png' });
    const blob = new Blob(['blob-bytes'], { type: 'text/plain' });
    const parts = await uploadedParts({ image_1: file, doc_2: blob });
    expect(parts).toMatchObject([
      { name: 'image_1', filename: 'cat.png', type: 'image/png', text: 'png-bytes' },
      { name: 'doc_2', filename: 'doc_2', type: 'text/plain', text: 'blob-bytes' },
    ]);
  });

  it('sends Buffer, Uint8Array (including a view into a larger buffer) and ArrayBuffer as bytes', async () => {
    const big = new TextEncoder().encode('xxMIDDLExx');
    const parts = await uploadedParts({
      buf_1: Buffer.from('buffer-bytes'),
      u8_2: new Uint8Array([104, 105]),
      view_3: big.subarray(2, 8),
      ab_4: new TextEncoder().encode('array-buffer').buffer,
    });
    expect(parts.map((p) => [p.name, p.text, p.filename, p.type])).toEqual([
      ['buf_1', 'buffer-bytes', 'buf_1', 'application/octet-stream'],
      ['u8_2', 'hi', 'u8_2', 'application/octet-stream'],
      ['view_3', 'MIDDLE', 'view_3', 'application/octet-stream'],
      ['ab_4', 'array-buffer', 'ab_4', 'application/octet-stream'],
    ]);
  });

  it('streams web ReadableStreams and Node Readables chunk by chunk', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web-'));
        controller.enqueue(new TextEncoder().encode('stream'));
        controller.close();
      },
    });
    const node = Readable.from([Buffer.from('node-'), 'readable']);
    const parts = await uploadedParts({ web_1: web, node_2: node, text_3: 'after' });
    expect(parts.map((p) => [p.name, p.text])).toEqual([
      ['web_1', 'web-stream'],
      ['node_2', 'node-readable'],
      ['text_3', 'after'],
    ]);
    const request = server.requestsTo('/api/v1/runs').at(-1)!;
    expect(request.headers['transfer-encoding']).toBe('chunked');
  });

  it('names a file part after an fs.ReadStream path, and fileFromPath gives a lazily read File', async () => {
    const path = join(dir, 'input photo.jpg');
    writeFileSync(path, 'jpeg-bytes-on-disk');
    const parts = await uploadedParts({
      a_1: createReadStream(path),
      b_2: await fileFromPath(path, { type: 'image/jpeg' }),
    });
    expect(parts).toMatchObject([
      { name: 'a_1', filename: 'input photo.jpg', text: 'jpeg-bytes-on-disk' },
      { name: 'b_2', filename: 'input photo.jpg', type: 'image/jpeg', text: 'jpeg-bytes-on-disk' },
    ]);
  });

  it('skips null and undefined, repeats array items, JSON-encodes plain objects, escapes quotes in names', async () => {
    const parts = await uploadedParts({
      a: null,
      b: undefined,
      list_1: ['x', 'y'],
      obj_2: { k: 1 },
      'we"ird': 'v',
    });
    expect(parts.map((p) => [p.name, p.text])).toEqual([
      ['list_1', 'x'],
      ['list_1', 'y'],
      ['obj_2', '{"k":1}'],
      ['we"ird', 'v'],
    ]);
  });

  it('a Blob body has a Content-Length and is replayable; the multipart boundary is in the content type', async () => {
    await uploadedParts({ text_1: 'x' });
    const request = server.requestsTo('/api/v1/runs').at(-1)!;
    expect(request.headers['content-type']).toMatch(
      /^multipart\/form-data; boundary=----flowscale[0-9a-f]{32}$/,
    );
    expect(Number(request.headers['content-length'])).toBeGreaterThan(0);
  });
});
