/** `<param>_<nodeId>` → [param, nodeId]; parameters may themselves contain underscores. */
export const splitInputName = (name: string): [string, string] => {
  const index = name.lastIndexOf('_');
  return [name.slice(0, index), name.slice(index + 1)];
};

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
};

/** The extension to upload a file under: its own, else one matching its type. */
export function extensionOf(filename: string, contentType: string): string {
  const match = /\.[A-Za-z0-9]{1,5}$/.exec(filename);
  return match ? match[0].toLowerCase() : (EXTENSIONS[contentType] ?? '.png');
}
