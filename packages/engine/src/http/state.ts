import type { EngineFeatures } from '../config/features';
import type { EngineLimits } from '../config/limits';
import type { DataDirs } from '../data/data-dir';
import type { Registry } from '../graph/validate';
import type { NodeEnv } from '../nodes/types';
import type { OutputCache } from '../run/cache';
import type { History } from '../run/history';
import type { PromptQueue } from '../run/queue';
import type { PromptWorker } from '../run/worker';
import type { SocketHub } from '../ws/hub';

/** Everything the HTTP routes need, built once per engine. */
export interface EngineState {
  dirs: DataDirs;
  limits: EngineLimits;
  env: NodeEnv;
  registry: Registry;
  queue: PromptQueue;
  history: History;
  cache: OutputCache;
  worker: PromptWorker;
  hub: SocketHub;
  /** ComfyUI's server-wide prompt counter; it also advances on rejected prompts. */
  nextNumber: number;
  argv: string[];
  features: EngineFeatures;
}
