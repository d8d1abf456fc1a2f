import type { EngineFeatures } from '../config/features';
import type { Registry } from '../graph/validate';
import { saveAnimatedPng, saveAnimatedWebp } from './core/animated';
import { imageFromBatch, repeatImageBatch } from './core/batch';
import { imageBlend, imageCompositeMasked } from './core/blend';
import { imageBlur, imageInvert, imageSharpen } from './core/filters';
import { emptyImage, loadImage, previewImage, saveImage } from './core/image-io';
import { getImageSize, imageToMask, invertMask, loadImageMask, maskToImage, solidMask } from './core/mask';
import { previewAny } from './core/preview-any';
import {
  primitiveBoolean,
  primitiveFloat,
  primitiveInt,
  primitiveString,
  primitiveStringMultiline,
} from './core/primitive';
import { imageQuantize } from './core/quantize';
import { stringConcatenate, stringReplace } from './core/text';
import {
  imageBatch,
  imageCrop,
  imageFlip,
  imagePadForOutpaint,
  imageRotate,
  imageScale,
  imageScaleBy,
} from './core/transform';
import { fsDelay } from './flowscale/delay';
import { fsLoadImage, fsLoadInteger, fsLoadText } from './flowscale/load';
import { fsSaveImage, fsSaveInteger, fsSaveText } from './flowscale/save';
import { testNodes } from './testing';
import type { NodeDefinition } from './types';

/** ComfyUI's core nodes, in the order of its /object_info. */
export const coreNodes: readonly NodeDefinition[] = [
  emptyImage,
  loadImage,
  loadImageMask,
  saveImage,
  previewImage,
  imageInvert,
  imageScale,
  imageScaleBy,
  imageBlur,
  imageSharpen,
  imageCrop,
  imageBlend,
  imagePadForOutpaint,
  imageBatch,
  imageCompositeMasked,
  maskToImage,
  imageToMask,
  solidMask,
  invertMask,
  getImageSize,
  imageFlip,
  imageRotate,
  stringConcatenate,
  stringReplace,
  previewAny,
  primitiveString,
  primitiveStringMultiline,
  primitiveInt,
  primitiveFloat,
  primitiveBoolean,
  saveAnimatedWebp,
  saveAnimatedPng,
  imageQuantize,
  repeatImageBatch,
  imageFromBatch,
];

export const flowscaleNodes: readonly NodeDefinition[] = [
  fsLoadImage,
  fsLoadText,
  fsLoadInteger,
  fsSaveImage,
  fsSaveText,
  fsSaveInteger,
  fsDelay,
];

export const allNodes: readonly NodeDefinition[] = [...coreNodes, ...flowscaleNodes];

/** The nodes an engine with these features registers. */
export function nodesFor(
  features: Pick<EngineFeatures, 'hideFlowscaleNodes' | 'testNodes'>,
): NodeDefinition[] {
  return [
    ...coreNodes,
    ...(features.hideFlowscaleNodes ? [] : flowscaleNodes),
    ...(features.testNodes ? testNodes : []),
  ];
}

export function createRegistry(nodes: readonly NodeDefinition[] = allNodes): Registry {
  return new Map(nodes.map((n) => [n.name, n]));
}
