import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes';
import { buildInputs, coerceScalar, mimeFor, parseInputFlags } from '../src/inputs';
import type { SchemaField } from '../src/schema';
import { closest, editDistance } from '../src/suggest';

const schema: SchemaField[] = [
  { name: 'prompt_1', type: 'string', required: false, default: 'hi' },
  { name: 'steps_2', type: 'integer', required: false, default: 3, min: 1 },
  { name: 'cfg_3', type: 'number', required: false, default: 7.5 },
  { name: 'hires_4', type: 'boolean', required: false, default: false },
  { name: 'image_5', type: 'image', required: true },
  { name: 'mode_6', type: 'string', required: false, default: 'a', choices: ['a', 'b'] },
];

const files: Record<string, string> = { '/w/photo.png': 'PNGDATA', '/w/prompt.txt': 'from a file\n' };
const readFile = async (p: string) => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  return new TextEncoder().encode(text);
};
const build = (flags: string[], s = schema) =>
  buildInputs(parseInputFlags(flags), s, 'demo', { cwd: '/w', readFile });

async function failure(p: Promise<unknown>): Promise<{ message: string; exitCode: number }> {
  try {
    await p;
  } catch (err) {
    return err as { message: string; exitCode: number };
  }
  throw new Error('expected a failure');
}

describe('parseInputFlags', () => {
  it('splits on the first = only', () => {
    expect(parseInputFlags(['a=b=c', 'x='])).toEqual([
      { key: 'a', raw: 'b=c' },
      { key: 'x', raw: '' },
    ]);
  });
  it('rejects a flag without a name or =', () => {
    expect(() => parseInputFlags(['novalue'])).toThrow(/expected -i name=value/);
    expect(() => parseInputFlags(['=x'])).toThrow(/expected -i name=value/);
  });
});

describe('coerceScalar', () => {
  it('coerces by schema type', () => {
    expect(coerceScalar({ type: 'integer' }, ' 42 ')).toEqual({ value: 42 });
    expect(coerceScalar({ type: 'number' }, '0.25')).toEqual({ value: 0.25 });
    expect(coerceScalar({ type: 'boolean' }, 'YES')).toEqual({ value: true });
    expect(coerceScalar({ type: 'boolean' }, 'off')).toEqual({ value: false });
    expect(coerceScalar({ type: 'string' }, ' keep spaces ')).toEqual({ value: ' keep spaces ' });
  });
  it('refuses values that do not fit', () => {
    expect(coerceScalar({ type: 'integer' }, '4.5')).toEqual({ error: 'expects an integer, got "4.5"' });
    expect(coerceScalar({ type: 'number' }, 'abc')).toHaveProperty('error');
    expect(coerceScalar({ type: 'number' }, '')).toHaveProperty('error');
    expect(coerceScalar({ type: 'boolean' }, 'maybe')).toHaveProperty('error');
    expect(coerceScalar({ type: 'string', choices: ['a', 'b'] }, 'c')).toEqual({
      error: 'must be one of "a", "b"',
    });
  });
});

describe('buildInputs', () => {
  it('builds typed values and reads @files', async () => {
    const inputs = await build([
      'prompt_1=@prompt.txt',
      'steps_2=7',
      'cfg_3=1.5',
      'hires_4=true',
      'image_5=@photo.png',
      'mode_6=b',
    ]);
    expect(inputs.prompt_1).toBe('from a file\n');
    expect(inputs.steps_2).toBe(7);
    expect(inputs.cfg_3).toBe(1.5);
    expect(inputs.hires_4).toBe(true);
    expect(inputs.mode_6).toBe('b');
    const file = inputs.image_5 as File;
    expect(file).toBeInstanceOf(File);
    expect(file.name).toBe('photo.png');
    expect(file.type).toBe('image/png');
    expect(await file.text()).toBe('PNGDATA');
  });

  it('reads @- from stdin once, sniffing piped images', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]);
    const viaStdin = (bytes: Uint8Array) => async () => bytes;
    const img = await buildInputs(parseInputFlags(['image_5=@-']), schema, 'demo', {
      cwd: '/w',
      readFile,
      readStdin: viaStdin(png),
    });
    expect([(img.image_5 as File).name, (img.image_5 as File).type]).toEqual(['stdin.png', 'image/png']);
    const text = await buildInputs(parseInputFlags(['prompt_1=@-', 'image_5=x']), schema, 'demo', {
      cwd: '/w',
      readStdin: viaStdin(new TextEncoder().encode('piped')),
    });
    expect(text.prompt_1).toBe('piped');
    const twice = await failure(
      buildInputs(parseInputFlags(['prompt_1=@-', 'image_5=@-']), schema, 'demo', {
        cwd: '/w',
        readStdin: viaStdin(png),
      }),
    );
    expect(twice.message).toBe('input "image_5": only one input can read stdin (@-)');
  });

  it('keeps a literal leading @ with @@, and passes plain strings for file inputs through', async () => {
    const inputs = await build(['prompt_1=@@handle', 'image_5=https://example.com/x.png']);
    expect(inputs).toEqual({ prompt_1: '@handle', image_5: 'https://example.com/x.png' });
  });

  it('accepts a manifest alias and sends it as typed; a value given twice is refused', async () => {
    const aliased: SchemaField[] = [{ name: 'steps_2', alias: 'steps', type: 'integer', required: true }];
    // Sent as typed, so that the server's messages name what the user wrote.
    expect(await build(['steps=4'], aliased)).toEqual({ steps: 4 });
    expect(await build(['steps_2=4'], aliased)).toEqual({ steps_2: 4 });
    const twice = await failure(build(['steps=4', 'steps_2=5'], aliased));
    expect(twice.message).toBe('input "steps_2" is given more than once');
    const typo = await failure(build(['stesp=4'], aliased));
    expect(typo.message).toContain('(did you mean "steps"?); its inputs are: steps_2 (steps)');
  });

  it('names the closest input when one is misspelled', async () => {
    const err = await failure(build(['promt_1=x', 'image_5=@photo.png']));
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toContain('workflow "demo" has no input "promt_1" (did you mean "prompt_1"?)');
  });

  it('says which file is missing after @', async () => {
    const err = await failure(build(['image_5=@nope.png']));
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toBe('input "image_5": no such file: nope.png');
  });

  it('reports wrongly typed values with the input name', async () => {
    const err = await failure(build(['steps_2=many', 'image_5=@photo.png']));
    expect(err.message).toBe('input "steps_2" (integer) expects an integer, got "many"');
  });

  it('lists missing required inputs with how to pass them', async () => {
    const err = await failure(build(['steps_2=1']));
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toBe('workflow "demo" needs "image_5": pass -i image_5=@file');
  });
});

describe('suggestions', () => {
  it('computes edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests close names and prefixes, but not unrelated ones', () => {
    const names = ['text-echo', 'invert-image', 'blur-image', 'solid-color', 'slow-delay'];
    expect(closest('text-ecko', names)).toBe('text-echo');
    expect(closest('blur', names)).toBe('blur-image');
    expect(closest('SOLID-COLOUR', names)).toBe('solid-color');
    expect(closest('zzzzzzzz', names)).toBeUndefined();
  });
  it('guesses MIME types from extensions', () => {
    expect(mimeFor('a.JPG')).toBe('image/jpeg');
    expect(mimeFor('a.unknown')).toBe('application/octet-stream');
  });
});
