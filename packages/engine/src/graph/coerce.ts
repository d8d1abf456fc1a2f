/**
 * Literal conversion with Python's semantics, because ComfyUI validates with int()/float()/str()/bool()
 * and clients rely on e.g. "12" being accepted for an INT. Errors carry Python's messages.
 */
export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  return typeof value;
}

function pyRepr(value: string): string {
  return `'${value}'`;
}

export function toInt(value: unknown): Coerced {
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { ok: false, message: 'cannot convert float NaN to integer' };
    if (!Number.isFinite(value)) return { ok: false, message: 'cannot convert float infinity to integer' };
    return { ok: true, value: Math.trunc(value) };
  }
  if (typeof value === 'string') {
    const s = value.trim().replace(/(\d)_(?=\d)/g, '$1');
    if (/^[+-]?\d+$/.test(s)) return { ok: true, value: Number.parseInt(s, 10) };
    return { ok: false, message: `invalid literal for int() with base 10: ${pyRepr(value)}` };
  }
  return {
    ok: false,
    message: `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`,
  };
}

const FLOAT_RE = /^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$/i;

export function toFloat(value: unknown): Coerced {
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'number') return { ok: true, value };
  if (typeof value === 'string') {
    const s = value.trim().replace(/(\d)_(?=\d)/g, '$1');
    if (!FLOAT_RE.test(s))
      return { ok: false, message: `could not convert string to float: ${pyRepr(value)}` };
    const lower = s.toLowerCase();
    if (lower.endsWith('inf') || lower.endsWith('infinity')) {
      return { ok: true, value: lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY };
    }
    return { ok: true, value: lower.endsWith('nan') ? Number.NaN : Number.parseFloat(s) };
  }
  return {
    ok: false,
    message: `float() argument must be a string or a real number, not '${pyTypeName(value)}'`,
  };
}

export function toStr(value: unknown): Coerced {
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'boolean') return { ok: true, value: value ? 'True' : 'False' };
  if (value === null || value === undefined) return { ok: true, value: 'None' };
  if (typeof value === 'number') return { ok: true, value: String(value) };
  return { ok: true, value: JSON.stringify(value) };
}

/** Python truthiness, except that the strings "false"/"0" are false (a deliberate, documented difference). */
export function toBool(value: unknown): Coerced {
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (s === 'false' || s === '0') return { ok: true, value: false };
    return { ok: true, value: value.length > 0 };
  }
  if (Array.isArray(value)) return { ok: true, value: value.length > 0 };
  if (typeof value === 'object' && value !== null) return { ok: true, value: Object.keys(value).length > 0 };
  return { ok: true, value: Boolean(value) };
}

export function coerceLiteral(type: string, value: unknown): Coerced {
  switch (type) {
    case 'INT':
      return toInt(value);
    case 'FLOAT':
      return toFloat(value);
    case 'STRING':
      return toStr(value);
    case 'BOOLEAN':
      return toBool(value);
    default:
      return { ok: true, value };
  }
}

/** Python's str() of a value, for error details. */
export function pyStr(value: unknown): string {
  const s = toStr(value);
  return s.ok ? String(s.value) : String(value);
}
