import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Caller } from '../core/proxy';

export interface JwtAuthenticatorOptions {
  /** Shared secret for HS256/384/512 tokens. */
  secret?: string | Uint8Array;
  /** JWKS endpoint for asymmetric tokens (RS256, ES256, EdDSA...). */
  jwksUrl?: string | URL;
  issuer?: string | string[];
  audience?: string | string[];
  /** Accepted algorithms; defaults to the HMAC family for a secret and jose's defaults for a JWKS. */
  algorithms?: string[];
  /** Turns verified claims into the caller; by default `{ id: sub, claims }`. Return null to refuse. */
  toCaller?: (claims: JWTPayload) => Caller | null;
}

/**
 * An `authenticate` hook that accepts `Authorization: Bearer <jwt>` verified with jose. Any failure
 * (missing header, bad signature, expired, wrong issuer or audience, no `sub`) yields null, so the
 * proxy answers 401 without contacting the upstream.
 */
export function jwtAuthenticator(
  options: JwtAuthenticatorOptions,
): (request: Request) => Promise<Caller | null> {
  const { secret, jwksUrl } = options;
  if ((secret === undefined) === (jwksUrl === undefined)) {
    throw new TypeError('jwtAuthenticator needs exactly one of secret or jwksUrl');
  }
  const key: Uint8Array | JWTVerifyGetKey =
    secret !== undefined
      ? typeof secret === 'string'
        ? new TextEncoder().encode(secret)
        : secret
      : createRemoteJWKSet(new URL(String(jwksUrl)));
  const algorithms = options.algorithms ?? (secret !== undefined ? ['HS256', 'HS384', 'HS512'] : undefined);
  const toCaller =
    options.toCaller ?? ((claims: JWTPayload) => (claims.sub ? { id: claims.sub, claims } : null));

  return async (request) => {
    const match = /^Bearer\s+([^\s]+)$/i.exec(request.headers.get('authorization') ?? '');
    if (!match?.[1]) return null;
    try {
      const verifyOptions = {
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
        ...(algorithms ? { algorithms } : {}),
      };
      const { payload } =
        key instanceof Uint8Array
          ? await jwtVerify(match[1], key, verifyOptions)
          : await jwtVerify(match[1], key, verifyOptions);
      return toCaller(payload);
    } catch {
      return null;
    }
  };
}
