export { defaultLimits, type EngineLimits } from './config/limits';
export { type EngineOptions, type RunningEngine, startEngine } from './engine';
export { readPngText } from './nodes/shared/png-text';
