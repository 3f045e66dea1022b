/**
 * Value semantics shared by the expression compiler and the aggregates: loose numeric coercion,
 * SQL-style three-valued truth, total comparison of same-typed values.
 */

/** Convert to a number, or null when the value has no numeric meaning. Numeric strings are accepted. */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    if (v.trim() === '') return null;
    const n = Number(v);
    return Number.isNaN(n) ? null : n;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return null;
}

/**
 * Truth value: null stays null (unknown), booleans are themselves, numbers are true unless 0,
 * strings are true unless empty, anything else (arrays, objects) is true.
 */
export function toBool(v: unknown): boolean | null {
  if (v === true || v === false) return v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return true;
}

/** Render a value as text: strings as-is, numbers/booleans via String, Dates as ISO, objects as JSON. */
export function toText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return JSON.stringify(v);
}

/**
 * Compare two non-null values. Returns <0, 0, >0, or NaN when they are not comparable
 * (different kinds that do not coerce). A number and a numeric string compare as numbers.
 */
export function compare(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === tb && (ta === 'number' || ta === 'string' || ta === 'boolean' || ta === 'bigint')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if ((ta === 'number' && tb === 'string') || (ta === 'string' && tb === 'number')) {
    const x = toNumber(a);
    const y = toNumber(b);
    if (x === null || y === null) return NaN;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a instanceof Date || b instanceof Date) {
    const x = toNumber(a);
    const y = toNumber(b);
    if (x === null || y === null) return NaN;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return NaN;
}

/** Equality of two non-null values (numbers and numeric strings coerce; arrays/objects compare structurally). */
export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === typeof b && ta !== 'object') return false;
  if (ta === 'object' && typeof b === 'object' && a !== null && b !== null && !(a instanceof Date) && !(b instanceof Date)) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return compare(a, b) === 0;
}

/** Convert a timestamp value to epoch milliseconds: numbers are ms, Dates, numeric strings and ISO-8601 strings are parsed. */
export function toMillis(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? null : t;
  }
  if (typeof v === 'string') {
    const n = toNumber(v);
    if (n !== null) return n;
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  if (typeof v === 'bigint') return Number(v);
  return null;
}
