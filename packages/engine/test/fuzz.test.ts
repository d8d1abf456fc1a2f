import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allNodes } from '../src/nodes/registry';
import type { InputSpec, NodeDefinition } from '../src/nodes/types';
import { type PromptReply, postJson, startTestEngine, type TestEngine, WsClient } from './helpers';

/** Deterministic PRNG (mulberry32), so a failure can be replayed (FUZZ_SEED=n picks another seed). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// FSDelay is left out so random prompts cannot sleep for minutes.
const CLASSES = allNodes.filter((n) => n.name !== 'FSDelay');
const OUTPUTS = CLASSES.filter((n) => n.outputNode);

function randomValue(next: () => number, ids: string[]): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
  switch (Math.floor(next() * 9)) {
    case 0:
      return Math.floor(next() * 64) + 1;
    case 1:
      return next() * 4 - 1;
    case 2:
      return pick(['', 'abc', '../x', 'example.png', 'center', 'bilinear', 'multiply', '90 degrees', 'red']);
    case 3:
      return next() < 0.5;
    case 4:
      return null;
    case 5:
      return [pick(ids), Math.floor(next() * 3)];
    case 6:
      return { nested: [1, 2] };
    case 7:
      return [pick(ids), 0, 1];
    default:
      return Math.floor(next() * 1e6) - 5e5;
  }
}

/** A plausible value for an input (its default, or a link to an earlier node of the right type). */
function plausibleValue(spec: InputSpec, earlier: [string, NodeDefinition][], next: () => number): unknown {
  const [type, opts = {}] = spec;
  if (Array.isArray(type)) return type[Math.floor(next() * type.length)] ?? opts.default;
  if (type === 'COMBO') return (opts.options as string[] | undefined)?.[0];
  if ('default' in opts) return opts.default;
  const sources = earlier.filter(
    ([, d]) => d.outputs.includes(type as string) || (type === '*' && d.outputs.length),
  );
  const source = sources[Math.floor(next() * sources.length)];
  if (!source) return undefined;
  const index = Math.max(0, source[1].outputs.indexOf(type as string));
  return [source[0], index];
}

function randomPrompt(next: () => number): Record<string, unknown> {
  const size = 1 + Math.floor(next() * 6);
  const ids = Array.from({ length: size }, (_, i) => String(i + 1));
  // A few sources of each type, so random nodes can be linked to something of the right type.
  const prompt: Record<string, unknown> = {
    img: { class_type: 'EmptyImage', inputs: { width: 8, height: 6, batch_size: 2, color: 0x336699 } },
    str: { class_type: 'PrimitiveString', inputs: { value: 'hi' } },
    int: { class_type: 'PrimitiveInt', inputs: { value: 7 } },
    msk: { class_type: 'SolidMask', inputs: { value: 0.5, width: 8, height: 6 } },
  };
  const earlier: [string, NodeDefinition][] = Object.entries(prompt).map(([id, n]) => [
    id,
    allNodes.find((d) => d.name === (n as { class_type: string }).class_type) as NodeDefinition,
  ]);
  for (const id of ids) {
    // The last node is an output node most of the time, so many prompts get past prompt_no_outputs.
    const pool = id === String(size) && next() < 0.8 ? OUTPUTS : CLASSES;
    const def = pool[Math.floor(next() * pool.length)] as NodeDefinition;
    const specs = { ...def.input.required, ...def.input.optional };
    const inputs: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const roll = next();
      const value =
        roll < 0.85 ? plausibleValue(spec, earlier, next) : roll < 0.95 ? randomValue(next, ids) : undefined;
      if (value !== undefined) inputs[name] = value;
    }
    prompt[id] = { class_type: def.name, inputs };
    earlier.push([id, def]);
  }
  return prompt;
}

describe('random prompts (seeded fuzz)', () => {
  let engine: TestEngine;
  let ws: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    ws = await WsClient.connect(engine.url);
  });

  afterAll(async () => {
    ws?.close();
    await engine?.stop();
  });

  it('answers 200 or 400 to 300 random prompts, runs every accepted one to completion, and stays up', async () => {
    const next = rng(Number(process.env.FUZZ_SEED ?? 20261124));
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const res = await postJson<PromptReply>(`${engine.url}/prompt`, {
        prompt: randomPrompt(next),
        client_id: ws.sid,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect([200, 400]).toContain(res.status);
      if (res.status === 200) accepted.push(res.body.prompt_id);
    }
    for (const id of accepted) await ws.done(id, 30_000);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(5);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(5);
    // Runtime failures must be expected ones (NodeError/limits), never a JavaScript TypeError from a node.
    const crashes = ws.events
      .filter((m) => m.type === 'execution_error')
      .filter((m) => ['TypeError', 'RangeError', 'ReferenceError'].includes(String(m.data.exception_type)));
    expect(crashes.map((m) => `${m.data.node_type}: ${m.data.exception_message}`)).toEqual([]);
    expect((await fetch(`${engine.url}/system_stats`)).status).toBe(200);
  });
});
