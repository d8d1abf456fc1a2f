import { extensionForType } from '../media/media-types';

/** `<param>_<nodeId>` → [param, nodeId]; parameters may themselves contain underscores. */
export const splitInputName = (name: string): [string, string] => {
  const index = name.lastIndexOf('_');
  return [name.slice(0, index), name.slice(index + 1)];
};

/** The extension to upload a file under: its own, else one matching its type. */
export function extensionOf(filename: string, contentType: string): string {
  const match = /\.[A-Za-z0-9]{1,5}$/.exec(filename);
  if (match) return match[0].toLowerCase();
  // An unnamed file of no particular type goes up as an image: LoadImage is the usual reader.
  const known = extensionForType(contentType);
  return known && known !== '.bin' ? known : '.png';
}
