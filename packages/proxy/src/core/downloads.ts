const FILES_PATH = '/api/v1/files/';

/**
 * Points the signed download URLs in a reply at the proxy (`<base>/api/v1/files/...`), so a browser
 * fetches outputs through the proxy too and the upstream can stay on a private network. URLs that
 * are not the FlowScale API's own file links (a pod's storage URLs, for instance) are left alone.
 */
export function rewriteDownloadUrls(body: unknown, proxyBase: string): unknown {
  if (Array.isArray(body)) return body.map((item) => rewriteDownloadUrls(item, proxyBase));
  if (typeof body !== 'object' || body === null) return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    out[key] =
      (key === 'download_url' || key === 'url') && typeof value === 'string'
        ? rewriteOne(value, proxyBase)
        : rewriteDownloadUrls(value, proxyBase);
  }
  return out;
}

function rewriteOne(value: string, proxyBase: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const at = url.pathname.indexOf(FILES_PATH);
  return at === -1 ? value : `${proxyBase}${url.pathname.slice(at)}${url.search}`;
}
