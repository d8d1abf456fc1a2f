/**
 * /object_info written with Python's number spelling, so clients read the same values ComfyUI sends:
 * a FLOAT input's numbers are floats (`1.0`, not `1`), and the int64 bounds ±sys.maxsize are exact
 * integers (`9223372036854775807`), which no JavaScript number can hold.
 */

/** ComfyUI's ±sys.maxsize (PrimitiveInt/PrimitiveFloat bounds), held as the nearest double 2^63. */
export const PY_MAXSIZE = 2 ** 63;
const MAXSIZE_TEXT = '9223372036854775807';

/** A number to be written verbatim as this JSON text. */
class RawNumber {
  constructor(readonly text: string) {}
}

/** Python's repr(float): shortest round-trip digits, `.0` on integers, exponent below 1e-4 or from 1e16. */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  const [mantissa = '', expText = '0'] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const plain = String(v);
  return plain.includes('.') ? plain : `${plain}.0`;
}

function pyNumber(v: number, float: boolean): number | RawNumber {
  if (Math.abs(v) === PY_MAXSIZE) return new RawNumber(v < 0 ? `-${MAXSIZE_TEXT}` : MAXSIZE_TEXT);
  return float ? new RawNumber(pyFloatRepr(v)) : v;
}

/** The options of one input spec with its numbers marked for Python spelling. */
export function pyOptions(type: unknown, options: Record<string, unknown>): Record<string, unknown> {
  const float = type === 'FLOAT';
  return Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, typeof v === 'number' ? pyNumber(v, float) : v]),
  );
}

// NUL cannot occur in the JSON text of a string we emit (JSON escapes it), so the markers are unambiguous.
const MARK = '\u0000py:';
const MARKED = /"\\u0000py:([^"\\]*)\\u0000"/g;

/** JSON.stringify that writes marked numbers as their raw text. */
export function stringifyPy(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    v instanceof RawNumber ? `${MARK}${v.text}\u0000` : v,
  );
  return text.replace(MARKED, '$1');
}
