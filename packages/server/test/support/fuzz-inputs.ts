/** Deterministic malformed inputs for the fuzz test: the same seed gives the same requests and frames. */

/** mulberry32: small, fast, and the same sequence on every platform for a given seed. */
export function prng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    chance: (p: number): boolean => next() < p,
    bytes: (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
}

export const ID_TRICKS = [
  '..%2f..%2fetc%2fpasswd',
  '..%252f..%252f',
  '%2e%2e',
  '..',
  '.',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%ff%fe',
  '%C0%AE%C0%AE%2F',
  'ünï',
  '%F0%9F%99%82',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(300),
  'y'.repeat(5000),
  '9'.repeat(400),
  '1e308',
  '-1',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%20',
  '+',
  ';',
  'a;b=c',
  '%3Cscript%3E',
  "'%20OR%201=1--",
  'filename_prefix_3_AAAAAAAAAA.png',
];

export const NUMBERS = [
  '0',
  '-1',
  '1',
  '1.5',
  '1e308',
  '1e400',
  '-1e400',
  'Infinity',
  'NaN',
  '9007199254740993',
  '99999999999999999999999999',
  '2147483648',
  '0x7fffffff',
  '',
  'abc',
  '١',
];

export const QUERY_NAMES = [
  'page',
  'page_size',
  'from_seq',
  'limit',
  'offset',
  'expires',
  'signature',
  'workflow_id',
  'group_id',
  'sort_by',
  'sort_order',
  'filename',
  'api_key',
  '__proto__[polluted]',
  'constructor[prototype][x]',
  'page[]',
  'a'.repeat(200),
];

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-16',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=xyz',
  'multipart/mixed; boundary=xyz',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  '*/*',
  'garbage',
  ';;;',
  'application/json; boundary=xyz',
];

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO'];

const JSON_BODIES = [
  '{',
  '}',
  '{"name": ',
  'null',
  '[]',
  '0',
  '"x"',
  '{"name": 1, "workflow": "x"}',
  '{"name": "x", "workflow": null}',
  '{"name": "x", "workflow": {"1": {"class_type": 5}}}',
  '{"name": "x", "workflow": {"1": {"class_type": "SaveImage", "inputs": {"images": ["9", 0]}}}}',
  '{"name": "", "role": "root"}',
  '{"name": "k", "role": "admin", "extra": true}',
  '{"__proto__": {"admin": true}, "name": "x"}',
  `{"deep": ${'['.repeat(2000)}${']'.repeat(2000)}}`,
  `{"name": "${'n'.repeat(10_000)}"}`,
  '\uFEFF{}',
];

/** A multipart body that is broken in one of many ways. */
export function brokenMultipart(rng: Rng): { body: Buffer; boundary: string } {
  const boundary = rng.pick(['xyz', 'a'.repeat(70), '--', '"q"', 'x'.repeat(200)]);
  const field = rng.pick([
    'default_value_1',
    'image_1',
    '',
    '__proto__',
    'a'.repeat(5000),
    'name"; x="',
    '\u0000',
  ]);
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\nvalue\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="image_1"; filename="../../x.png"\r\nContent-Type: image/png\r\n\r\n${rng.bytes(64).toString('latin1')}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data\r\n\r\nno name\r\n`,
    `--${boundary}\r\nbroken header line\r\n\r\nx\r\n`,
  ];
  const chosen = parts.filter(() => rng.chance(0.6)).join('');
  const ending = rng.pick([
    `--${boundary}--\r\n`,
    `--${boundary}`,
    '',
    '--wrong--\r\n',
    `--${boundary}--garbage`,
  ]);
  return { body: Buffer.from(chosen + ending, 'latin1'), boundary };
}

export function randomBody(rng: Rng): Buffer {
  switch (rng.int(4)) {
    case 0:
      return Buffer.from(rng.pick(JSON_BODIES));
    case 1:
      return rng.bytes(rng.int(2048));
    case 2:
      return Buffer.alloc(0);
    default:
      return Buffer.from(JSON.stringify({ name: rng.pick(ID_TRICKS), workflow: rng.pick([{}, [], 'x', 1]) }));
  }
}

/** Frames for /api/v1/ws: JSON of every shape, broken JSON, odd ids, binary noise. */
export function randomFrame(rng: Rng): { data: string | Buffer; binary: boolean } {
  const action = rng.pick(['subscribe', 'unsubscribe', 'SUBSCRIBE', '', null, 1, ['subscribe'], { a: 1 }]);
  const runId = rng.pick<unknown>([
    ...ID_TRICKS,
    1e308,
    -1,
    null,
    true,
    [],
    {},
    'ok-run-id',
    'a'.repeat(128),
    'a'.repeat(129),
  ]);
  switch (rng.int(7)) {
    case 0:
      return { data: JSON.stringify({ type: 'client_event', data: { action, runId } }), binary: false };
    case 1:
      return {
        data: JSON.stringify({ type: rng.pick(['client_event', 'x', null, 5]), data: runId }),
        binary: false,
      };
    case 2:
      return {
        data: rng.pick(['null', '[]', '0', '""', 'true', '{}', '{', '1e400', '-0', ' ']),
        binary: false,
      };
    case 3:
      return { data: rng.bytes(1 + rng.int(512)), binary: true };
    case 4:
      return {
        data: JSON.stringify({ type: 'client_event', data: { action, run_id: runId } }),
        binary: false,
      };
    case 5: {
      const depth = 1 + rng.int(3000);
      return { data: `${'['.repeat(depth)}${']'.repeat(depth)}`, binary: false };
    }
    default:
      return { data: 'x'.repeat(rng.int(60_000)), binary: rng.chance(0.5) };
  }
}
