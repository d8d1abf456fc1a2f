import fs from 'node:fs';
import path from 'node:path';
import {
  FlowscaleAPI,
  type FlowscaleConfig,
  type GetAllOutputsResponse,
  type InputValue,
  type RunEventMessage,
  RunFailedError,
  TimeoutError,
  type WebSocketMessage,
} from 'flowscale';
import { fileFromPath, WebSocket } from 'flowscale/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';
import { type Origin, startOrigin } from '../support/origin';
import { type Relay, startRelay } from '../support/relay';

// The SDK's own test scenarios (packages/sdk/test runs them against a contract server), here against the
// real server and its embedded engine over real loopback sockets. A shared 2-core box: the limits below
// only stop hangs, nothing asserts speed.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

let server: TestServer;
let origin: Origin;
let files: string;
/** The User-Agent of every request the loopback image host received. */
const originAgents: string[] = [];
/** What the loopback image host serves at /photo.png (set by the URL test before submitting). */
let hosted: Buffer = Buffer.alloc(0);

beforeAll(async () => {
  // Private URLs are allowed so the server may fetch a URL input from the loopback image host below.
  server = await startTestServer({ allowPrivateUrls: true });
  origin = await startOrigin((request, response) => {
    originAgents.push(String(request.headers['user-agent']));
    if (request.url !== '/photo.png') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': hosted.length }).end(hosted);
  });
  files = tempDir('sdk-scenarios');
});
afterAll(async () => {
  await server?.close();
  await origin?.close();
  if (files) fs.rmSync(files, { recursive: true, force: true });
});

/** An SDK client of its own (usually pointed at a relay): quick retries, no log output. */
const clientOf = (baseUrl: string, extra: FlowscaleConfig = {}): FlowscaleAPI =>
  new FlowscaleAPI({ apiKey: server.key, baseUrl, enableLogging: false, retryDelay: 50, ...extra });

const serverPort = (): number => Number(new URL(server.url).port);

/** Runs `body` with a fresh relay in front of the server, closed whatever happens. */
async function withRelay<T>(body: (relay: Relay) => Promise<T>): Promise<T> {
  const relay = await startRelay(serverPort());
  try {
    return await body(relay);
  } finally {
    await relay.close();
  }
}

/** The id of the run an executeWorkflowAsync call started, caught from its workflow_submitted update. */
function runIdCatcher() {
  const caught = { runId: '' };
  return {
    caught,
    onIntermediateResponse: (update: { type: string; runId: string }) => {
      if (update.type === 'workflow_submitted') caught.runId = update.runId;
    },
  };
}

const statusOf = async (runId: string): Promise<string> => (await server.api.getRun(runId)).data.status;

/** Waits until the run has been submitted (its id caught) and the engine is executing it. */
const untilRunning = (caught: { runId: string }) =>
  waitFor(
    async () => (caught.runId ? statusOf(caught.runId) : 'not submitted'),
    (status) => status === 'running',
  );

/** Leaves the engine idle for the next test; a run that already ended answers 409, which is fine. */
const cancelQuietly = (runId: string) => server.api.cancelRun(runId).catch(() => undefined);

interface Picture {
  png: Buffer;
  /** The pixels, RGB, row by row. */
  rgb: Buffer;
  width: number;
  height: number;
}

/** A small PNG whose every byte differs by seed, so each upload's output can only come from its bytes. */
async function picture(seed: number): Promise<Picture> {
  const width = 5;
  const height = 4;
  const rgb = Buffer.alloc(width * height * 3);
  for (let index = 0; index < rgb.length; index++) rgb[index] = (seed * 53 + index * 29) % 256;
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { png, rgb, width, height };
}

/** The run's single output is the inverse of `source`, pixel for pixel. */
async function expectInverted(result: GetAllOutputsResponse, source: Picture): Promise<void> {
  expect(result.status).toBe('success');
  expect(result.data).toHaveLength(1);
  const entry = result.data[0]!;
  expect(entry.generation_status).toBe('success');
  expect(entry.download_url).toMatch(
    /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/files\/filename_prefix_3_\w+\.png\?/,
  );
  const download = await fetch(entry.download_url!);
  expect(download.status).toBe(200);
  const { data, info } = await sharp(Buffer.from(await download.arrayBuffer()))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([source.width, source.height, 3]);
  expect([...data]).toEqual([...source.rgb].map((value) => 255 - value));
}

/** The part headers the SDK wrote for form field `field`, read off the wire the relay saw. */
function partHeadOf(relay: Relay, field: string): string {
  const wire = relay.sent().join('');
  const start = wire.indexOf(`Content-Disposition: form-data; name="${field}"`);
  expect(start, `no part named ${field} on the wire`).toBeGreaterThanOrEqual(0);
  return wire.slice(start, wire.indexOf('\r\n\r\n', start));
}

/** The text value of form field `field` on the wire (empty when the field is absent). */
function partTextOf(relay: Relay, field: string): string {
  const wire = relay.sent().join('');
  const match = new RegExp(`name="${field}"\\r\\n\\r\\n([^\\r]*)\\r\\n`).exec(wire);
  return match?.[1] ?? '';
}

/**
 * Runs invert-image on `image` through a fresh relay and checks the output is `source` inverted (any byte
 * lost, added or reordered changes a pixel or fails the decode). Returns what the relay saw of the
 * image_1 part: its headers and, for a text part, its value.
 */
async function invertThroughRelay(
  image: InputValue,
  source: Picture,
): Promise<{ head: string; text: string }> {
  return withRelay(async (relay) => {
    const result = await clientOf(relay.url).executeWorkflowAsync(
      'invert-image',
      { image_1: image },
      undefined,
      100,
      30_000,
    );
    await expectInverted(result, source);
    return { head: partHeadOf(relay, 'image_1'), text: partTextOf(relay, 'image_1') };
  });
}

/** A web stream that hands the bytes over in small pieces, as a network or file stream would. */
function webStreamOf(bytes: Buffer, pieceSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + pieceSize)));
      offset += pieceSize;
    },
  });
}

interface UploadKind {
  label: string;
  /** Makes the input from the PNG's bytes and the path of a file holding them (streams are single-use). */
  make: (png: Buffer, file: string) => InputValue | Promise<InputValue>;
  /** The part headers the SDK must write for it. */
  head: (file: string) => string;
}

const fileHead = (filename: string, type: string) =>
  `Content-Disposition: form-data; name="image_1"; filename="${filename}"\r\nContent-Type: ${type}`;

const uploadKinds: UploadKind[] = [
  {
    label: 'a Blob',
    make: (png) => new Blob([new Uint8Array(png)], { type: 'image/png' }),
    head: () => fileHead('image_1', 'image/png'),
  },
  {
    label: 'a File (its name names the part)',
    make: (png) => new File([new Uint8Array(png)], 'holiday.png', { type: 'image/png' }),
    head: () => fileHead('holiday.png', 'image/png'),
  },
  {
    label: 'a Node Buffer',
    make: (png) => Buffer.from(png),
    head: () => fileHead('image_1', 'application/octet-stream'),
  },
  {
    label: 'a Uint8Array view into a larger buffer (byteOffset 32)',
    make: (png) => {
      // Garbage around the view: sending the whole backing buffer would not decode as a PNG.
      const backing = new Uint8Array(png.length + 64).fill(0xab);
      backing.set(png, 32);
      const view = backing.subarray(32, 32 + png.length);
      expect([view.byteOffset, view.buffer.byteLength]).toEqual([32, png.length + 64]);
      return view;
    },
    head: () => fileHead('image_1', 'application/octet-stream'),
  },
  {
    label: 'an ArrayBuffer',
    make: (png) => new Uint8Array(png).buffer,
    head: () => fileHead('image_1', 'application/octet-stream'),
  },
  {
    label: 'a web ReadableStream (7-byte pieces)',
    make: (png) => webStreamOf(png, 7),
    head: () => fileHead('image_1', 'application/octet-stream'),
  },
  {
    label: 'a Node Readable (fs.createReadStream, 16-byte chunks)',
    make: (_png, file) => fs.createReadStream(file, { highWaterMark: 16 }),
    head: (file) => fileHead(path.basename(file), 'application/octet-stream'),
  },
  {
    label: "fileFromPath from 'flowscale/node'",
    make: (_png, file) => fileFromPath(file, { type: 'image/png' }),
    head: (file) => fileHead(path.basename(file), 'image/png'),
  },
];

describe('multipart: every input kind reaches the real server byte for byte', () => {
  it.each(uploadKinds.map((kind, index) => [kind.label, kind, index] as const))(
    '%s',
    async (_label, kind, index) => {
      const source = await picture(index + 1);
      const file = path.join(files, `upload-${index}.png`);
      fs.writeFileSync(file, source.png);
      const sent = await invertThroughRelay(await kind.make(source.png, file), source);
      expect(sent.head).toBe(kind.head(file));
    },
  );

  it('executeWorkflow sends strings and numbers as text fields (0 is not dropped, unicode survives)', async () => {
    const text = 'naïve "quoted" ✓ text';
    await withRelay(async (relay) => {
      const client = clientOf(relay.url);
      const submitted = await client.executeWorkflow('slow-delay', { default_value_1: text, value_4: 0 });
      expect(partTextOf(relay, 'value_4')).toBe('0');
      expect(partHeadOf(relay, 'value_4')).toBe('Content-Disposition: form-data; name="value_4"');
      const runId = submitted.data.run_id;
      await waitFor(
        () => statusOf(runId),
        (status) => ['completed', 'failed'].includes(status),
      );
      const run = (await client.getRun(runId)).data;
      expect(run.status).toBe('completed');
      expect(run.inputs).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'default_value_1', value: text }),
          expect.objectContaining({ path: 'value_4', value: '0' }),
        ]),
      );
      const output = await client.getOutput(submitted.data.output_names![0]!);
      expect(output?.data.file_content).toBe(text);
    });
  });

  it('a URL string goes as text: the server, not the SDK, downloads it', async () => {
    const source = await picture(20);
    hosted = source.png;
    const url = `${origin.url}/photo.png`;
    const agentsBefore = originAgents.length;
    const sent = await invertThroughRelay(url, source);
    expect(sent).toEqual({ head: 'Content-Disposition: form-data; name="image_1"', text: url });
    // One fetch, by the server (its User-Agent), none by the SDK.
    expect(originAgents.slice(agentsBefore)).toEqual(['flowscale-server']);
  });

  it('a data: URL string goes as text and the server decodes it', async () => {
    const source = await picture(21);
    const dataUrl = `data:image/png;base64,${source.png.toString('base64')}`;
    const sent = await invertThroughRelay(dataUrl, source);
    expect(sent).toEqual({ head: 'Content-Disposition: form-data; name="image_1"', text: dataUrl });
  });
});

describe('waiting for a run', () => {
  it('a per-call timeout rejects with TimeoutError "Workflow execution timed out after <ms>ms"', async () => {
    const { caught, onIntermediateResponse } = runIdCatcher();
    const error = await server.api
      .executeWorkflowAsync('slow-delay', { default_value_1: 'late', value_4: 3 }, undefined, 100, 2000, {
        onIntermediateResponse,
      })
      .catch((caughtError: unknown) => caughtError);
    try {
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).message).toBe('Workflow execution timed out after 2000ms');
      expect((error as TimeoutError).code).toBe('timeout');
      expect(caught.runId).not.toBe('');
      // The run itself goes on: the SDK gave up because of its own deadline, not because the run ended.
      expect(['queued', 'running']).toContain(await statusOf(caught.runId));
    } finally {
      await cancelQuietly(caught.runId);
    }
  });

  it.each(['auto', 'poll'] as const)(
    'an AbortSignal stops executeWorkflowAsync (mode %s) at once with the signal reason',
    async (mode) => {
      const controller = new AbortController();
      const reason = new Error(`the caller gave up (${mode})`);
      const { caught, onIntermediateResponse } = runIdCatcher();
      // A poll interval far longer than the run: only an abort that interrupts the wait can end it early.
      const pending = server.api
        .executeWorkflowAsync(
          'slow-delay',
          { default_value_1: 'abort', value_4: 3 },
          undefined,
          20_000,
          30_000,
          {
            mode,
            signal: controller.signal,
            onIntermediateResponse,
          },
        )
        .catch((caughtError: unknown) => caughtError);
      try {
        await untilRunning(caught);
        controller.abort(reason);
        expect(await pending).toBe(reason);
        // Settled while the run was still executing, so it did not wait for the run or the poll interval.
        expect(await statusOf(caught.runId)).toBe('running');
      } finally {
        await cancelQuietly(caught.runId);
      }
    },
  );

  it('getOutput answers null (HTTP 204) while the run is pending, then the output', async () => {
    const submitted = await server.api.executeWorkflow('slow-delay', {
      default_value_1: 'eventually',
      value_4: 2,
    });
    const runId = submitted.data.run_id;
    const name = submitted.data.output_names![0]!;
    expect(name).toMatch(/^filename_prefix_3_[A-Z0-9]{10}$/);
    expect(await server.api.getOutput(name)).toBeNull();
    const raw = await server.request(`/api/v1/runs/output?filename=${name}`);
    expect(raw.status).toBe(204);
    expect(await raw.text()).toBe('');
    // Both reads came before the run ended, so "null" meant "not ready yet".
    expect(['queued', 'running']).toContain(await statusOf(runId));
    const ready = await waitFor(
      () => server.api.getOutput(name),
      (output) => output !== null,
    );
    expect(ready?.data).toMatchObject({ file_content: 'eventually', generation_status: 'success' });
    // The output is readable from its output.ready event on; run.completed is the next event.
    expect(
      await waitFor(
        () => statusOf(runId),
        (status) => status !== 'running',
      ),
    ).toBe('completed');
  });
});

/**
 * A graph the engine accepts but cannot finish: after a 1 s delay an image node receives a string. Deployed
 * through the admin API, so the failure happens at run time in the engine, not at validation.
 */
const FAILS_LATE = {
  '1': { class_type: 'PrimitiveString', inputs: { value: 'not an image' } },
  '2': { class_type: 'FSDelay', inputs: { value: ['1', 0], seconds: 1 } },
  '3': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
  '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'never' } },
};

describe('failing fast', () => {
  beforeAll(async () => {
    await server.api.deployWorkflow({ name: 'fails-late', workflow: FAILS_LATE });
  });

  it('an upload whose bytes are not an image: RunFailedError naming the engine node that failed', async () => {
    const { caught, onIntermediateResponse } = runIdCatcher();
    // The server stores any bytes as an image; only the engine's decoder finds they are not one.
    const error = await server.api
      .executeWorkflowAsync(
        'invert-image',
        { image_1: new Blob(['these bytes are not an image'], { type: 'image/png' }) },
        undefined,
        100,
        20_000,
        { onIntermediateResponse },
      )
      .catch((caughtError: unknown) => caughtError);
    // A RunFailedError and not the TimeoutError it would be had the SDK waited out the 20 s.
    expect(error).toBeInstanceOf(RunFailedError);
    expect(caught.runId).not.toBe('');
    expect(error).toMatchObject({
      runId: caught.runId,
      code: 'run_failed',
      details: { node_id: '1', node_type: 'FSLoadImage' },
    });
    expect((error as RunFailedError).message).toMatch(
      new RegExp(`^Run ${caught.runId} failed at node 1 \\(FSLoadImage\\): Cannot load image`),
    );
    expect((await server.api.getRun(caught.runId)).data).toMatchObject({
      status: 'failed',
      error: { node_id: '1', node_type: 'FSLoadImage' },
    });
  });

  it('a deployed workflow whose node fails mid-run: RunFailedError as soon as the run fails', async () => {
    const { caught, onIntermediateResponse } = runIdCatcher();
    const error = await server.api
      .executeWorkflowAsync('fails-late', {}, undefined, 100, 20_000, { onIntermediateResponse })
      .catch((caughtError: unknown) => caughtError);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({
      runId: caught.runId,
      code: 'run_failed',
      details: { node_id: '3', node_type: 'ImageInvert' },
    });
    expect((error as RunFailedError).message).toMatch(
      new RegExp(
        `^Run ${caught.runId} failed at node 3 \\(ImageInvert\\): Input "image" of ImageInvert must be of type IMAGE, got a string$`,
      ),
    );
    const run = (await server.api.getRun(caught.runId)).data;
    expect(run).toMatchObject({ status: 'failed', error: { node_id: '3' } });
    // The delay node ran first, so this failed during execution, not when the prompt was queued.
    expect(run.started_at).toBeTruthy();
  });

  it('a run cancelled by another client rejects the waiter with code run_cancelled', async () => {
    const { caught, onIntermediateResponse } = runIdCatcher();
    const pending = server.api
      .executeWorkflowAsync(
        'slow-delay',
        { default_value_1: 'cancel me', value_4: 3 },
        undefined,
        100,
        15_000,
        {
          onIntermediateResponse,
        },
      )
      .catch((caughtError: unknown) => caughtError);
    try {
      await untilRunning(caught);
      const elsewhere = clientOf(server.url);
      expect((await elsewhere.cancelRun(caught.runId)).data).toBe('Run cancelled successfully');
      const error = await pending;
      // Not the TimeoutError of a waiter that missed the cancel.
      expect(error).toBeInstanceOf(RunFailedError);
      expect(error).toMatchObject({
        runId: caught.runId,
        code: 'run_cancelled',
        message: `Run ${caught.runId} was cancelled`,
      });
    } finally {
      await cancelQuietly(caught.runId);
    }
  });

  // In polling mode the run can end between the SDK's getRun and its getOutput; the server then answers
  // that getOutput with 404 OUTPUT_NOT_FOUND. The SDK must still reject with RunFailedError. The relay holds
  // the getOutput request until the run has ended, so the race is hit every time.
  it.each([
    ['cancelled', 'run_cancelled'],
    ['failed', 'run_failed'],
  ] as const)(
    'polling: a run %s between getRun and getOutput rejects with RunFailedError %s',
    async (end, code) => {
      const { caught, onIntermediateResponse } = runIdCatcher();
      let armed = false;
      const relay = await startRelay(serverPort(), {
        beforeForward: async (chunk) => {
          if (!armed || !chunk.toString('latin1').startsWith('GET /api/v1/runs/output?')) return;
          armed = false;
          if (end === 'cancelled') await server.api.cancelRun(caught.runId);
          await waitFor(
            () => statusOf(caught.runId),
            (status) => status === end,
          );
        },
      });
      try {
        const [workflow, inputs] =
          end === 'cancelled'
            ? (['slow-delay', { default_value_1: 'race', value_4: 3 }] as const)
            : (['fails-late', {}] as const);
        const error = await clientOf(relay.url)
          .executeWorkflowAsync(workflow, inputs, undefined, 100, 20_000, {
            mode: 'poll',
            onIntermediateResponse: (update) => {
              onIntermediateResponse(update);
              // The SDK has just seen the run executing; its next request is the getOutput to hold.
              if (update.type === 'run_status' && update.status === 'running') armed = true;
            },
          })
          .catch((caughtError: unknown) => caughtError);
        expect(await statusOf(caught.runId)).toBe(end);
        expect(error).toBeInstanceOf(RunFailedError);
        expect(error).toMatchObject({ runId: caught.runId, code });
      } finally {
        await cancelQuietly(caught.runId);
        await relay.close();
      }
    },
  );
});

describe('resuming through a relay that drops every connection', () => {
  it('subscribeRunEvents: every event exactly once, in order, across two cuts', async () => {
    await withRelay(async (relay) => {
      const client = clientOf(relay.url, { retries: 5 });
      const runId = (
        await server.api.executeWorkflow('slow-delay', { default_value_1: 'resume', value_4: 2 })
      ).data.run_id;
      const received: RunEventMessage[] = [];
      const cuts: number[] = [];
      const errors: unknown[] = [];
      let opens = 0;
      const subscription = client.subscribeRunEvents(runId, {
        onOpen: () => {
          opens++;
        },
        onEvent: (event) => {
          received.push(event);
          // One cut per connection, twice, each while the delay node is streaming progress.
          if (event.data.type === 'node.progress' && cuts.length < Math.min(opens, 2))
            cuts.push(relay.cutAll());
        },
        onError: (error) => errors.push(error),
      });
      await subscription.done;
      expect(errors).toEqual([]);
      expect(cuts).toHaveLength(2);
      expect(cuts.every((pairs) => pairs >= 1)).toBe(true);
      // The SDK opened the stream three times, each time on a new connection.
      expect(opens).toBe(3);
      expect(relay.accepted).toBeGreaterThanOrEqual(3);
      // Compared with the server's own complete log of the run, read straight after it ended.
      const log: RunEventMessage[] = [];
      await server.api.subscribeRunEvents(runId, { onEvent: (event) => log.push(event) }).done;
      const seqs = received.map((event) => event.data.seq);
      expect(seqs).toEqual(log.map((_, index) => index + 1));
      expect(received.map((event) => event.data)).toEqual(log.map((event) => event.data));
      expect(received.at(-1)?.data).toMatchObject({ type: 'run.completed', status: 'completed' });
    });
  });

  it('executeWorkflowAsync (event-stream mode) still resolves with the outputs after a cut', async () => {
    await withRelay(async (relay) => {
      const client = clientOf(relay.url, { retries: 5 });
      let cut = 0;
      const seqs: number[] = [];
      const result = await client.executeWorkflowAsync(
        'slow-delay',
        { default_value_1: 'still here', value_4: 2 },
        undefined,
        100,
        30_000,
        {
          // 'sse': no falling back to polling, which would hide a stream that failed to resume.
          mode: 'sse',
          onIntermediateResponse: (update) => {
            if (update.type !== 'run_status') return;
            // Event-stream updates carry the event's seq; the final poll's run record has none.
            const { seq, type } = update.data as { seq?: unknown; type?: unknown };
            if (typeof seq !== 'number') return;
            seqs.push(seq);
            if (type === 'node.progress' && cut === 0) cut = relay.cutAll();
          },
        },
      );
      expect(cut).toBeGreaterThanOrEqual(1);
      expect(relay.accepted).toBeGreaterThanOrEqual(2);
      expect(result.data).toEqual([
        expect.objectContaining({ file_content: 'still here', generation_status: 'success' }),
      ]);
      // Status events came in order with none repeated.
      expect(seqs.length).toBeGreaterThan(3);
      expect(seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!)).toBe(true);
    });
  });

  it('connectWebSocket reconnects on its own, re-subscribes, and gets the final run_status_update', async () => {
    await withRelay(async (relay) => {
      const client = clientOf(relay.url, { webSocketImpl: WebSocket });
      const messages: Array<{ connection: number; message: WebSocketMessage }> = [];
      let opens = 0;
      const disconnect = client.connectWebSocket({
        reconnectInterval: 50,
        maxReconnectAttempts: 20,
        onOpen: () => {
          opens++;
        },
        onMessage: (message) => messages.push({ connection: opens, message }),
      });
      try {
        await waitFor(
          async () => client.isWebSocketConnected(),
          (connected) => connected,
        );
        const runId = (await server.api.executeWorkflow('slow-delay', { default_value_1: 'ws', value_4: 2 }))
          .data.run_id;
        expect(
          client.sendWebSocketMessage({ type: 'client_event', data: { action: 'subscribe', runId } }),
        ).toBe(true);
        const updatesOf = (status: string) =>
          messages.filter(
            ({ message }) =>
              message.type === 'run_status_update' &&
              (message.data as { run_id?: string; status?: string }).run_id === runId &&
              (message.data as { status?: string }).status === status,
          );
        // Cut once the first connection has seen the run executing.
        await waitFor(
          async () => updatesOf('running').length,
          (count) => count > 0,
        );
        expect(relay.cutAll()).toBeGreaterThanOrEqual(1);
        await waitFor(
          async () => opens >= 2 && client.isWebSocketConnected(),
          (reconnected) => reconnected,
        );
        const completed = await waitFor(
          async () => updatesOf('completed'),
          (updates) => updates.length > 0,
        );
        expect(completed).toHaveLength(1);
        // Delivered live on the second connection.
        expect(completed[0]).toMatchObject({
          connection: 2,
          message: { data: { run_id: runId, status: 'completed', event: 'run.completed' } },
        });
        // The server acknowledged the subscription on both connections: the SDK re-sent it unasked.
        const acks = messages.filter(
          ({ message }) =>
            message.type === 'subscribed' && (message.data as { runId?: string }).runId === runId,
        );
        expect(acks.map(({ connection }) => connection)).toEqual([1, 2]);
        expect(opens).toBe(2);
        expect(relay.accepted).toBe(2);
      } finally {
        disconnect();
      }
      expect(client.isWebSocketConnected()).toBe(false);
    });
  });
});
