import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { WebhookSecret } from '../storage/webhook-records';

const PREFIX = 'whsec_';
/** A new secret's overlap with the one it replaces, unless the caller says otherwise: a day. */
export const DEFAULT_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** 24 random bytes, base64, with the Standard Webhooks prefix. */
export const newSecret = (): string => `${PREFIX}${randomBytes(24).toString('base64')}`;

/** Why a caller-chosen secret is unusable, or undefined: `whsec_` then base64 of 24 to 64 bytes. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(PREFIX)) return 'must start with whsec_';
  const body = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return 'must be whsec_ followed by base64';
  const size = Buffer.from(body, 'base64').length;
  if (size < 24 || size > 64) return 'must encode 24 to 64 bytes';
  return undefined;
}

/** The secrets that still sign: unexpired ones, newest first. */
export const activeSecrets = (secrets: readonly WebhookSecret[], nowMs: number): WebhookSecret[] =>
  secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > nowMs);

/** Puts `fresh` first; the still-active older ones keep signing until the overlap ends, then drop out. */
export function rotate(
  secrets: readonly WebhookSecret[],
  fresh: string,
  nowMs: number,
  overlapMs: number,
): WebhookSecret[] {
  const until = new Date(nowMs + overlapMs).toISOString();
  const older = activeSecrets(secrets, nowMs)
    .filter(() => overlapMs > 0)
    .map((s) => ({ ...s, expiresAt: s.expiresAt !== null && s.expiresAt < until ? s.expiresAt : until }));
  return [{ secret: fresh, createdAt: new Date(nowMs).toISOString(), expiresAt: null }, ...older];
}

/** What a listing may show of a secret: enough to tell two apart, never enough to sign. */
export const secretPrefix = (secret: string): string => `${secret.slice(0, PREFIX.length + 4)}…`;

const signers = new Map<string, Webhook>();

/**
 * The `webhook-signature` header: one `v1,<base64>` per active secret, space-separated (the Standard
 * Webhooks way to rotate: a receiver holding either secret verifies).
 */
export function signatureHeader(secrets: readonly string[], id: string, at: Date, body: string): string {
  return secrets
    .map((secret) => {
      let signer = signers.get(secret);
      if (!signer) {
        if (signers.size > 1000) signers.clear();
        signer = new Webhook(secret);
        signers.set(secret, signer);
      }
      return signer.sign(id, at, body);
    })
    .join(' ');
}
