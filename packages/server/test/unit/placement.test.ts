import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config';
import { WarmModels } from '../../src/placement/warm-models';

describe('placement settings', () => {
  it('FLOWSCALE_PLACEMENT and FLOWSCALE_AFFINITY_WAIT_MS: defaults, env, options winning, bad values named', () => {
    expect(resolveConfig({}, {})).toMatchObject({ placement: 'model-affinity', affinityWaitMs: 1500 });
    const env = { FLOWSCALE_PLACEMENT: ' least-queue ', FLOWSCALE_AFFINITY_WAIT_MS: '250' };
    expect(resolveConfig({}, env)).toMatchObject({ placement: 'least-queue', affinityWaitMs: 250 });
    expect(resolveConfig({ placement: 'model-affinity', affinityWaitMs: 0 }, env)).toMatchObject({
      placement: 'model-affinity',
      affinityWaitMs: 0,
    });
    expect(() => resolveConfig({}, { FLOWSCALE_PLACEMENT: 'random' })).toThrow(
      'FLOWSCALE_PLACEMENT="random": expected model-affinity or least-queue',
    );
    expect(() => resolveConfig({}, { FLOWSCALE_AFFINITY_WAIT_MS: '-5' })).toThrow(
      /FLOWSCALE_AFFINITY_WAIT_MS="?-5"?: affinity wait must be a whole number/,
    );
    expect(() => resolveConfig({}, { FLOWSCALE_AFFINITY_WAIT_MS: 'soon' })).toThrow(/not a number/);
  });
});

describe('warm models', () => {
  it('keeps the model sets of the last two runs per backend, and forgets a backend that reconnects', () => {
    const warm = new WarmModels(2);
    expect(warm.has('a', ['checkpoints/x'])).toBe(false);
    warm.note('a', ['checkpoints/x']);
    warm.note('a', ['checkpoints/y', 'loras/l']);
    expect(warm.has('a', ['checkpoints/x'])).toBe(true);
    expect(warm.has('a', ['checkpoints/y'])).toBe(true);
    expect(warm.has('b', ['checkpoints/x'])).toBe(false);
    warm.note('a', ['checkpoints/x']); // x again: the most recent, y stays
    warm.note('a', ['checkpoints/z']);
    expect(warm.of('a')).toEqual(['checkpoints/x', 'checkpoints/z']);
    expect(warm.has('a', ['checkpoints/y'])).toBe(false);
    expect(warm.has('a', [])).toBe(false);
    warm.forget('a');
    expect(warm.has('a', ['checkpoints/z'])).toBe(false);
  });
});
