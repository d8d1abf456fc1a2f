import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import mime from 'mime';
import { usageError } from './exit-codes';
import { FILE_TYPES, type SchemaField } from './schema';
import { didYouMean } from './suggest';

export interface InputFlag {
  key: string;
  /** The text after `=`, untouched. */
  raw: string;
}

export type InputValue = string | number | boolean | File;

/** Splits `-i key=value` occurrences; the value may itself contain `=`. */
export function parseInputFlags(flags: readonly string[]): InputFlag[] {
  return flags.map((flag) => {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw usageError(`invalid input "${flag}": expected -i name=value or -i name=@file`);
    return { key: flag.slice(0, eq).trim(), raw: flag.slice(eq + 1) };
  });
}

/** The media type of a file by its extension (the `mime` library's lists). */
export const mimeFor = (filename: string): string => mime.getType(filename) ?? 'application/octet-stream';

/**
 * Coerces one textual value to the schema type. Returns an error message instead of throwing so the
 * caller can name the flag in it.
 */
export function coerceScalar(
  field: Pick<SchemaField, 'type' | 'choices'>,
  text: string,
): { value: string | number | boolean } | { error: string } {
  const trimmed = text.trim();
  let value: string | number | boolean;
  switch (field.type) {
    case 'integer': {
      if (!/^[-+]?\d+$/.test(trimmed)) return { error: `expects an integer, got "${text}"` };
      value = Number.parseInt(trimmed, 10);
      break;
    }
    case 'number': {
      const n = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(n)) return { error: `expects a number, got "${text}"` };
      value = n;
      break;
    }
    case 'boolean': {
      const t = trimmed.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) value = true;
      else if (['false', '0', 'no', 'off'].includes(t)) value = false;
      else return { error: `expects true or false, got "${text}"` };
      break;
    }
    default:
      value = text;
  }
  if (field.choices && field.choices.length > 0 && !field.choices.some((c) => String(c) === String(value))) {
    return { error: `must be one of ${field.choices.map((c) => JSON.stringify(c)).join(', ')}` };
  }
  return { value };
}

export interface BuildInputsOptions {
  cwd: string;
  /** Injected for unit tests; defaults to fs.readFile. */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** Reads all of stdin, for `name=@-`. */
  readStdin?: () => Promise<Uint8Array>;
}

/** Piped bytes have no file name; recognise the common image formats by their first bytes. */
export function sniffImageType(bytes: Uint8Array): { type: string; ext: string } | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return { type: 'image/png', ext: 'png' };
  if (starts(0xff, 0xd8, 0xff)) return { type: 'image/jpeg', ext: 'jpg' };
  if (starts(0x47, 0x49, 0x46, 0x38)) return { type: 'image/gif', ext: 'gif' };
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45)
    return { type: 'image/webp', ext: 'webp' };
  return undefined;
}

/**
 * Turns `-i` flags into the SDK's input object, guided by the workflow's input_schema:
 * names are checked (with a suggestion for typos), values coerced to their declared type, `@path`
 * read from disk (as an upload for file-typed inputs, as text otherwise), and missing required inputs
 * reported before anything is sent.
 */
export async function buildInputs(
  flags: readonly InputFlag[],
  schema: readonly SchemaField[],
  workflowName: string,
  opts: BuildInputsOptions,
): Promise<Record<string, InputValue>> {
  const read = opts.readFile ?? ((p: string) => readFile(p));
  // Aliases are accepted too and sent as typed, so the server's messages name what the user wrote; a value
  // still cannot be given twice under both names.
  const byName = new Map<string, SchemaField>();
  for (const f of schema) if (f.alias) byName.set(f.alias, f);
  for (const f of schema) byName.set(f.name, f);
  const names = [...byName.keys()];
  const out: Record<string, InputValue> = {};
  const given = new Set<string>();
  let stdinUsed = false;

  for (const { key, raw } of flags) {
    const field = byName.get(key);
    if (!field) {
      const list = schema.map((f) => (f.alias ? `${f.name} (${f.alias})` : f.name));
      const known = list.length ? `; its inputs are: ${list.join(', ')}` : '; it takes no inputs';
      throw usageError(`workflow "${workflowName}" has no input "${key}"${didYouMean(key, names)}${known}`);
    }
    if (given.has(field.name)) throw usageError(`input "${key}" is given more than once`);
    given.add(field.name);
    const isFile = FILE_TYPES.has(field.type);
    // `@@text` escapes a literal leading @.
    const fromFile = raw.startsWith('@') && !raw.startsWith('@@');
    const literal = raw.startsWith('@@') ? raw.slice(1) : raw;

    if (fromFile) {
      const rel = raw.slice(1);
      if (!rel) throw usageError(`input "${key}": expected a file path after @ (or @- for stdin)`);
      let bytes: Uint8Array;
      let file: { name: string; type: string };
      if (rel === '-') {
        if (stdinUsed || !opts.readStdin)
          throw usageError(`input "${key}": only one input can read stdin (@-)`);
        stdinUsed = true;
        bytes = await opts.readStdin();
        const sniffed = sniffImageType(bytes);
        file = sniffed
          ? { name: `stdin.${sniffed.ext}`, type: sniffed.type }
          : { name: 'stdin', type: 'application/octet-stream' };
      } else {
        const path = resolve(opts.cwd, rel);
        try {
          bytes = await read(path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot read it';
          throw usageError(`input "${key}": ${why}: ${rel}`);
        }
        file = { name: basename(path), type: mimeFor(path) };
      }
      if (isFile) {
        out[key] = new File([new Uint8Array(bytes)], file.name, { type: file.type });
        continue;
      }
      const coerced = coerceScalar(field, new TextDecoder().decode(bytes));
      if ('error' in coerced) throw usageError(`input "${key}" (${field.type}) ${coerced.error}`);
      out[key] = coerced.value;
      continue;
    }

    if (isFile) {
      // A plain string for a file input is passed through: the server may accept a file name it already
      // has or a URL. Most people meant a local file, so say how if it looks like one.
      out[key] = literal;
      continue;
    }
    const coerced = coerceScalar(field, literal);
    if ('error' in coerced) throw usageError(`input "${key}" (${field.type}) ${coerced.error}`);
    out[key] = coerced.value;
  }

  const missing = schema.filter((f) => f.required && f.default === undefined && !given.has(f.name));
  if (missing.length > 0) {
    const hint = missing
      .map((f) => `-i ${f.name}=${FILE_TYPES.has(f.type) ? '@file' : `<${f.type}>`}`)
      .join(' ');
    throw usageError(
      `workflow "${workflowName}" needs ${missing.map((f) => `"${f.name}"`).join(', ')}: pass ${hint}`,
    );
  }
  return out;
}
