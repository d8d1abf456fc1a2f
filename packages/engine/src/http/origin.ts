import type { IncomingHttpHeaders } from 'node:http';

function isLoopback(hostname: string | undefined): boolean {
  if (!hostname) return false;
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function split(hostPort: string): { hostname: string; port: string } | null {
  try {
    const url = new URL(`http://${hostPort}`);
    return { hostname: url.hostname.toLowerCase(), port: url.port };
  } catch {
    return null;
  }
}

/**
 * ComfyUI's origin check against cross-site requests to a local server: when Host is a loopback
 * address and an Origin is sent, their host[:port] must match. Returns true when the request is allowed.
 */
export function originAllowed(headers: IncomingHttpHeaders): boolean {
  const host = headers.host;
  const origin = headers.origin;
  if (!host || !origin) return true;
  const h = split(host.toLowerCase());
  if (!h || !isLoopback(h.hostname)) return true;
  // ComfyUI compares urlparse(origin).netloc, and skips the check when it is empty: `Origin: null`
  // (sandboxed frames, file:// pages) and other host-less origins are allowed.
  const netloc = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(origin)?.[1] ?? '';
  if (netloc === '') return true;
  let o: { hostname: string; port: string };
  try {
    const url = new URL(origin);
    o = { hostname: url.hostname.toLowerCase(), port: url.port };
  } catch {
    return false;
  }
  if (!o.port || !h.port) return o.hostname === h.hostname;
  return o.hostname === h.hostname && o.port === h.port;
}
