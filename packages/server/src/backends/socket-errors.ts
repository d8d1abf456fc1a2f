/** Socket error codes, in words an operator acts on. */
const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ECONNRESET: 'connection reset by the backend',
  EHOSTUNREACH: 'host unreachable (no route)',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'DNS: host name not found',
  EAI_AGAIN: 'DNS: lookup failed for now (EAI_AGAIN)',
  ETIMEDOUT: 'timed out connecting',
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_(GET|VERIFY)_|EPROTO$)/;

/** Why a WebSocket to a backend failed: refused, DNS, timeout, TLS, or what the backend answered. */
export function describeSocketError(error: Error | undefined): string {
  if (!error) return 'connection closed';
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (BY_CODE[code]) return `${BY_CODE[code]} (${code})`;
  if (TLS_CODE.test(code)) return `TLS: ${error.message} (${code})`;
  if (/handshake has timed out/i.test(error.message)) return 'timed out waiting for the WebSocket handshake';
  const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
  if (status) return `not a ComfyUI WebSocket endpoint (HTTP ${status} on /ws)`;
  return code ? `${error.message} (${code})` : error.message;
}
