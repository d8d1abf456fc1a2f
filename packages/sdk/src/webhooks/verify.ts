import type { WebhookPayload } from './types';

/** A webhook that is not authentic or not fresh; answer it with a 4xx and do not act on it. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** A Fetch `Headers`, or a plain object as Node's `req.headers` and Express give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way, in seconds. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time (tests). */
  now?: Date;
}

const PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((each) => each.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/** Compares in time independent of where the strings differ (they are signatures of equal length). */
function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a.charCodeAt(index) ^ b.charCodeAt(index);
  return difference === 0;
}

async function sign(secret: string, signed: Uint8Array): Promise<string> {
  let key: Uint8Array;
  try {
    key = fromBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
  } catch {
    throw new WebhookVerificationError('The secret is not a whsec_ base64 secret');
  }
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    key as BufferSource,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, signed as BufferSource)))}`;
}

/**
 * Checks a webhook from a FlowScale server (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, HMAC-SHA256) and returns its parsed body. Pass the body exactly as received (the raw
 * text or bytes, not re-serialized JSON). Several secrets may be given, e.g. during a rotation. Uses Web
 * Crypto, so it runs in Node 20+, browsers, workers and edge runtimes alike.
 * @throws WebhookVerificationError when a header is missing, the timestamp is more than 5 minutes away from
 * now, or no signature matches.
 */
export async function verifyWebhook<T = WebhookPayload>(
  body: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<T> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook headers');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp');
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const age = nowSeconds - Number(timestamp);
  if (age > tolerance) throw new WebhookVerificationError('Message timestamp too old');
  if (age < -tolerance) throw new WebhookVerificationError('Message timestamp too new');
  const bytes = bytesOf(body);
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  const given = signatures.split(' ');
  for (const each of typeof secret === 'string' ? [secret] : secret) {
    const expected = await sign(each, signed);
    if (given.some((signature) => equalInConstantTime(signature, expected))) {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    }
  }
  throw new WebhookVerificationError('No matching signature found');
}
