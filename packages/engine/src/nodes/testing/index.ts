import type { NodeDefinition } from '../types';
import { testCheckpointLoader, testRender } from './loader';
import { testCustomOutput, testSaveAudio, testSaveVideo } from './media';

/** The engine's own test nodes (category `testing`, names `EngineTest*`); off with `testNodes: false`. */
export const testNodes: readonly NodeDefinition[] = [
  testCheckpointLoader,
  testRender,
  testSaveVideo,
  testSaveAudio,
  testCustomOutput,
];
