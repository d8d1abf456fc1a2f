/** Resource limits that keep one engine process bounded. All of them are documented in the README. */
export interface EngineLimits {
  /** Largest single image (width × height). */
  maxImagePixels: number;
  /** Largest batch (width × height × batch size) held as one IMAGE or MASK value. */
  maxBatchPixels: number;
  /** History entries kept (ComfyUI keeps 10000). */
  maxHistoryEntries: number;
  /** Approximate bytes of JSON kept in history before the oldest entries are dropped. */
  maxHistoryBytes: number;
  /** Node outputs kept in the execution cache. */
  maxCacheEntries: number;
  /** Approximate bytes of pixel data kept in the execution cache. */
  maxCacheBytes: number;
  /** Nodes in one prompt. */
  maxPromptNodes: number;
  /** Pending prompts accepted before POST /prompt answers 503. */
  maxQueueLength: number;
  /** Largest upload and largest JSON body. */
  maxUploadBytes: number;
  maxJsonBytes: number;
}

export const defaultLimits: EngineLimits = {
  maxImagePixels: 64 * 1024 * 1024,
  maxBatchPixels: 128 * 1024 * 1024,
  maxHistoryEntries: 10_000,
  maxHistoryBytes: 64 * 1024 * 1024,
  maxCacheEntries: 1_000,
  maxCacheBytes: 128 * 1024 * 1024,
  maxPromptNodes: 10_000,
  maxQueueLength: 10_000,
  maxUploadBytes: 100 * 1024 * 1024,
  maxJsonBytes: 32 * 1024 * 1024,
};
