/**
 * Pure SQL helpers: identifier quoting, type inference from JS values, and encoding of values to
 * PostgreSQL's text representation. Every value is sent as text (parameters and COPY alike), so
 * both backends (node-postgres, PGlite) see exactly the same input and the server does the
 * parsing: one code path, one set of behaviours to test.
 */

/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 bytes; we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Bind parameters per statement are limited to 65535 by the wire protocol (Int16 count). */
export const MAX_PARAMS = 65535;

/** A field name that cannot be a PostgreSQL identifier (the row is rejected, never truncated). */
export class IdentifierError extends Error {}

/** A value that cannot be encoded for its column (the row is rejected before reaching the server). */
export class ValueError extends Error {}

export function checkIdentifier(name: string): void {
  if (name.length === 0) throw new IdentifierError('empty identifier');
  if (name.includes('\u0000')) throw new IdentifierError(`identifier ${JSON.stringify(name)} contains a NUL character`);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new IdentifierError(`identifier ${JSON.stringify(name)} is longer than ${MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would truncate it)`);
  }
}

/** Always quote: column names come from record fields (mixed case, spaces, quotes, keywords). */
export function quoteIdent(name: string): string {
  checkIdentifier(name);
  return '"' + name.replace(/"/g, '""') + '"';
}

export function qualifiedName(table: string, schema?: string): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table);
}

/** Explicit column types come from config; allow type syntax only, never statement syntax. */
export function checkTypeName(type: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_ ,.()[\]"]*$/.test(type) || type.includes('--')) {
    throw new IdentifierError(`invalid column type ${JSON.stringify(type)}`);
  }
}

/** How a column's values are encoded; derived from the column's actual type in the table. */
export type BaseKind = 'int' | 'float' | 'bool' | 'text' | 'time' | 'json' | 'bytea' | 'other';
export interface ColumnKind {
  base: BaseKind;
  array: boolean;
}

/** Classify a type as printed by format_type() (or given in config). */
export function kindOfType(type: string): ColumnKind {
  let t = type.trim().toLowerCase();
  let array = false;
  if (t.endsWith('[]')) {
    array = true;
    t = t.replace(/(\[\])+$/, '');
  } else if (t.startsWith('_')) {
    array = true;
    t = t.slice(1);
  }
  t = t.replace(/\(.*\)/, '').trim();
  let base: BaseKind = 'other';
  if (['bigint', 'integer', 'smallint', 'int', 'int2', 'int4', 'int8', 'bigserial', 'serial'].includes(t)) base = 'int';
  else if (['double precision', 'real', 'float4', 'float8', 'numeric', 'decimal'].includes(t)) base = 'float';
  else if (['boolean', 'bool'].includes(t)) base = 'bool';
  else if (['text', 'character varying', 'varchar', 'character', 'char', 'citext', 'name', 'uuid', 'inet', 'macaddr', 'cidr'].includes(t)) base = 'text';
  else if (t.startsWith('timestamp') || t === 'timestamptz' || t === 'date') base = 'time';
  else if (t === 'jsonb' || t === 'json') base = 'json';
  else if (t === 'bytea') base = 'bytea';
  return { base, array };
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isPlainNumberArray(values: unknown[]): boolean {
  return values.every((x) => typeof x === 'number' || typeof x === 'bigint');
}

/**
 * The SQL type a new column gets for one value, or undefined when the value says nothing
 * (null, empty array: the column is created later when a value arrives).
 */
export function inferType(value: unknown, isTimestamp: boolean): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const elems = value.filter((x) => x !== null && x !== undefined);
    if (elems.length === 0) return undefined;
    if (isTimestamp) return 'timestamptz[]';
    if (isPlainNumberArray(elems)) {
      return elems.every((x) => typeof x === 'bigint' || Number.isSafeInteger(x)) ? 'bigint[]' : 'double precision[]';
    }
    if (elems.every((x) => typeof x === 'boolean')) return 'boolean[]';
    if (elems.every((x) => typeof x === 'string')) return 'text[]';
    if (elems.every((x) => x instanceof Date)) return 'timestamptz[]';
    // Nested or mixed arrays: PostgreSQL arrays must be rectangular and homogeneous; jsonb keeps them.
    return 'jsonb';
  }
  if (isTimestamp || value instanceof Date) return 'timestamptz';
  switch (typeof value) {
    case 'bigint':
      return 'bigint';
    case 'number':
      return Number.isSafeInteger(value) ? 'bigint' : 'double precision';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
    case 'object':
      return isBytes(value) ? 'bytea' : 'jsonb';
    default:
      return 'text';
  }
}

/**
 * Combine two inferred types of one field: integers widen to double precision; otherwise the
 * first type wins (values that do not fit are rejected by the server, row by row).
 */
export function mergeTypes(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  if ((a === 'bigint' && b === 'double precision') || (a === 'double precision' && b === 'bigint')) return 'double precision';
  if ((a === 'bigint[]' && b === 'double precision[]') || (a === 'double precision[]' && b === 'bigint[]')) return 'double precision[]';
  return a;
}

/** Whether an existing column of type `existing` should be widened to hold `wanted`. */
export function widening(existing: string, wanted: string): string | undefined {
  const e = existing.toLowerCase();
  if (e === 'bigint' && wanted === 'double precision') return 'double precision';
  if (e === 'bigint[]' && wanted === 'double precision[]') return 'double precision[]';
  return undefined;
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array && !(v instanceof Buffer)) return Buffer.from(v).toString('base64');
    return v;
  });
}

const DAY_MS = 86_400_000;
/** Year 10000: from here on toISOString writes six-digit years. */
const ISO_FOUR_DIGIT_YEAR_END = 253_402_300_800_000;
let isoDay = NaN;
let isoDayPrefix = '';

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * `new Date(ms).toISOString()` for epoch milliseconds from 1970 to 9999 (a fraction is cut off,
 * as Date does), several times faster: a batch's timestamps mostly fall on a few days, so the
 * date part is cached and only the time of day is formatted.
 */
export function epochMsText(value: number): string {
  if (!(value >= 0 && value < ISO_FOUR_DIGIT_YEAR_END)) {
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) throw new ValueError(`timestamp ${String(value)} is out of range`);
    return d.toISOString();
  }
  const ms = Math.floor(value);
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  const frac = rest - sec * 1000;
  return `${isoDayPrefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

function timeText(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValueError('invalid Date');
    return value.toISOString();
  }
  // Epoch milliseconds (what Date.now() and the capture decoders produce).
  if (typeof value === 'number') return epochMsText(value);
  if (typeof value === 'bigint') return epochMsText(Number(value));
  if (typeof value === 'string') return value;
  throw new ValueError(`cannot store a ${typeof value} as a timestamp`);
}

function scalarText(value: unknown, base: BaseKind): string {
  switch (base) {
    case 'time':
      return timeText(value);
    case 'json':
      return jsonText(value);
    case 'bytea':
      if (isBytes(value)) return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
      return String(value);
    default:
      break;
  }
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value instanceof Date) return timeText(value);
      if (isBytes(value)) return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
      return jsonText(value);
    default:
      return String(value);
  }
}

const NEEDS_ARRAY_ESCAPE = /["\\]/;

/** PostgreSQL array literal; every element quoted so no element needs type-specific escaping. */
function arrayText(value: unknown[], base: BaseKind): string {
  const parts = value.map((el) => {
    if (el === null || el === undefined) return 'NULL';
    if (Array.isArray(el)) return arrayText(el, base);
    const s = scalarText(el, base);
    return '"' + (NEEDS_ARRAY_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') : s) + '"';
  });
  return '{' + parts.join(',') + '}';
}

/** A JS value as PostgreSQL text for a column of the given kind; null stays null. */
export function encodeValue(value: unknown, kind: ColumnKind): string | null {
  if (value === null || value === undefined) return null;
  if (kind.array && Array.isArray(value)) return arrayText(value, kind.base);
  if (typeof value === 'string' && value.includes('\u0000') && kind.base !== 'json') {
    throw new ValueError('text contains a NUL character, which PostgreSQL cannot store');
  }
  return scalarText(value, kind.base);
}

/** COPY text format: tab-separated, \N for null, backslash escapes. */
export function copyEscape(text: string | null): string {
  if (text === null) return '\\N';
  if (!/[\\\t\n\r]/.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
