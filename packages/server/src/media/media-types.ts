import mime from 'mime';

/**
 * File name ↔ media type, from the `mime` library (the IANA and Apache lists) rather than tables of our
 * own: a backend may produce any kind of file (video, audio, 3D, archives), and each should be served as
 * what it is.
 */

/** The media type of a file by its extension; text types say they are UTF-8. */
export function contentTypeFor(filename: string): string {
  const type = mime.getType(filename) ?? 'application/octet-stream';
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}

/** `.png` for `image/png` (parameters ignored); undefined for a type without a known extension. */
export function extensionForType(contentType: string): string | undefined {
  const extension = mime.getExtension(contentType.split(';')[0]?.trim().toLowerCase() ?? '');
  return extension ? `.${extension}` : undefined;
}

export const isTextContentType = (contentType: string | null): boolean =>
  contentType !== null && (contentType.startsWith('text/') || contentType.startsWith('application/json'));
