import { UrlInputError } from './url-fetch';

/** `data:[<type>][;params][;base64],<data>` decoded. The field is already bounded by the multipart limit. */
export function decodeDataUrl(value: string): { contentType: string; bytes: Buffer } {
  const comma = value.indexOf(',');
  if (!/^data:/i.test(value) || comma < 0)
    throw new UrlInputError('refused', 'malformed data: URL (no comma)');
  const header = value.slice(5, comma).split(';');
  const base64 = header.at(-1)?.toLowerCase() === 'base64';
  const contentType = (header[0] ?? '').trim().toLowerCase() || 'application/octet-stream';
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(contentType))
    throw new UrlInputError('refused', `malformed data: URL media type "${contentType}"`);
  const payload = value.slice(comma + 1);
  if (base64) {
    const compact = payload.replace(/\s+/g, '');
    // Buffer.from silently skips bad characters; refuse them so a mangled paste is not stored as garbage.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1)
      throw new UrlInputError('refused', 'data: URL is not valid base64');
    return { contentType, bytes: Buffer.from(compact, 'base64') };
  }
  return { contentType, bytes: percentDecode(payload) };
}

/** Byte-wise, unlike decodeURIComponent, so percent-encoded binary (not UTF-8) survives. */
function percentDecode(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(raw.length);
  let length = 0;
  for (let index = 0; index < raw.length; index++) {
    const hex = raw[index] === 0x25 ? raw.subarray(index + 1, index + 3).toString('latin1') : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[length++] = Number.parseInt(hex, 16);
      index += 2;
    } else out[length++] = raw[index] as number;
  }
  return out.subarray(0, length);
}
