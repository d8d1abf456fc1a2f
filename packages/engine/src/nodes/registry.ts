import type { Registry } from '../graph/validate';
import { imageBlur, imageInvert, imageSharpen } from './core/filters';
import { emptyImage, loadImage, previewImage, saveImage } from './core/image-io';
import { previewAny } from './core/preview-any';
import {
  primitiveBoolean,
  primitiveFloat,
  primitiveInt,
  primitiveString,
  primitiveStringMultiline,
} from './core/primitive';
import { stringConcatenate, stringReplace } from './core/text';
import { fsDelay } from './flowscale/delay';
import { fsLoadImage, fsLoadInteger, fsLoadText } from './flowscale/load';
import { fsSaveImage, fsSaveInteger, fsSaveText } from './flowscale/save';
import type { NodeDefinition } from './types';

export const allNodes: readonly NodeDefinition[] = [
  emptyImage,
  loadImage,
  saveImage,
  previewImage,
  imageInvert,
  imageBlur,
  imageSharpen,
  stringConcatenate,
  stringReplace,
  previewAny,
  primitiveString,
  primitiveStringMultiline,
  primitiveInt,
  primitiveFloat,
  primitiveBoolean,
  fsLoadImage,
  fsLoadText,
  fsLoadInteger,
  fsSaveImage,
  fsSaveText,
  fsSaveInteger,
  fsDelay,
];

export function createRegistry(nodes: readonly NodeDefinition[] = allNodes): Registry {
  return new Map(nodes.map((n) => [n.name, n]));
}
