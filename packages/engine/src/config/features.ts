import { CACHE_POLICIES, type CachePolicy } from '../run/cache';

/** Behaviour switches of one engine. Each has an option of startEngine and an environment variable. */
export interface EngineFeatures {
  /** `classic` (ComfyUI's default: reuse only from the previous prompt) or `lru` (keep across prompts). */
  cache: CachePolicy;
  /** How long the test checkpoint loader takes to load a model that is not warm, in ms. */
  modelLoadMs: number;
  /** How many loaded models stay warm (a warm load is instant). */
  warmModels: number;
  /** Leaves the FlowScale `FS*` nodes out, as a stock ComfyUI has none. */
  hideFlowscaleNodes: boolean;
  /** Registers the engine's test nodes (category `testing`). */
  testNodes: boolean;
}

export const defaultFeatures: EngineFeatures = {
  cache: 'classic',
  modelLoadMs: 2000,
  warmModels: 2,
  hideFlowscaleNodes: false,
  testNodes: true,
};

export const FEATURE_ENV: Record<keyof EngineFeatures, string> = {
  cache: 'FLOWSCALE_ENGINE_CACHE',
  modelLoadMs: 'FLOWSCALE_ENGINE_MODEL_LOAD_MS',
  warmModels: 'FLOWSCALE_ENGINE_WARM_MODELS',
  hideFlowscaleNodes: 'FLOWSCALE_ENGINE_HIDE_FS_NODES',
  testNodes: 'FLOWSCALE_ENGINE_TEST_NODES',
};

function parseBool(name: string, text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new Error(`${name} must be true or false, got "${text}"`);
}

function parseCount(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${text}"`);
  return n;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial<EngineFeatures> {
  const out: Partial<EngineFeatures> = {};
  const get = (key: keyof EngineFeatures) => env[FEATURE_ENV[key]]?.trim() || undefined;
  const cache = get('cache');
  if (cache !== undefined) out.cache = cache as CachePolicy;
  const load = get('modelLoadMs');
  if (load !== undefined) out.modelLoadMs = parseCount(FEATURE_ENV.modelLoadMs, load, 0);
  const warm = get('warmModels');
  if (warm !== undefined) out.warmModels = parseCount(FEATURE_ENV.warmModels, warm, 0);
  const hide = get('hideFlowscaleNodes');
  if (hide !== undefined) out.hideFlowscaleNodes = parseBool(FEATURE_ENV.hideFlowscaleNodes, hide);
  const test = get('testNodes');
  if (test !== undefined) out.testNodes = parseBool(FEATURE_ENV.testNodes, test);
  return out;
}

/** Options win over the environment, which wins over the defaults. Bad values throw, naming the setting. */
export function resolveFeatures(
  opts: Partial<EngineFeatures>,
  env: NodeJS.ProcessEnv = process.env,
): EngineFeatures {
  const defined = Object.fromEntries(
    Object.entries(opts).filter(([k, v]) => k in defaultFeatures && v !== undefined),
  );
  const features = { ...defaultFeatures, ...fromEnv(env), ...defined } as EngineFeatures;
  if (!CACHE_POLICIES.includes(features.cache))
    throw new Error(`cache must be one of ${CACHE_POLICIES.join(', ')}, got "${features.cache}"`);
  if (!Number.isInteger(features.modelLoadMs) || features.modelLoadMs < 0)
    throw new Error(`modelLoadMs must be an integer >= 0, got ${features.modelLoadMs}`);
  if (!Number.isInteger(features.warmModels) || features.warmModels < 0)
    throw new Error(`warmModels must be an integer >= 0, got ${features.warmModels}`);
  return features;
}
