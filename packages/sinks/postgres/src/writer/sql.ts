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

/** Whether mergeTypes keeps `t` whatever type comes next (only integer types widen, to double precision). */
export function typeSettled(t: string): boolean {
  return t !== 'bigint' && t !== 'bigint[]';
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

/**
 * Binary COPY: the column types whose binary form we write, by format_type() name. Binary input
 * skips the server's text parsers (timestamps, floats and arrays are the costly ones) and our own
 * number and date formatting; the stored values are the ones the text form gives. Columns of other
 * types, and values not of the plain JS type of their column, go through text COPY instead.
 */
export type BinaryCodec = 'int8' | 'int4' | 'int2' | 'float8' | 'bool' | 'text' | 'timestamptz' | 'text[]';

export function binaryCodecOf(type: string): BinaryCodec | undefined {
  switch (type) {
    case 'bigint':
      return 'int8';
    case 'integer':
      return 'int4';
    case 'smallint':
      return 'int2';
    case 'double precision':
      return 'float8';
    case 'boolean':
      return 'bool';
    case 'text':
      return 'text';
    case 'timestamp with time zone':
      return 'timestamptz';
    case 'text[]':
      return 'text[]';
    default:
      // varchar(n): the receive function applies the length limit like the input function (22001).
      return /^character varying(\(\d+\))?$/.test(type) ? 'text' : undefined;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isPlainText(v: unknown): v is string {
  return typeof v === 'string' && !v.includes('\u0000');
}

/** Epoch milliseconds of a timestamp value when its binary form equals its text form (see epochMsText), else undefined. */
function binaryEpochMs(v: unknown): number | undefined {
  const ms = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : NaN;
  return ms >= 0 && ms < ISO_FOUR_DIGIT_YEAR_END ? Math.floor(ms) : undefined;
}

/**
 * Whether `v` (not null) has a binary form equal to what encodeValue's text would store; values
 * that do not (strings for numbers, nested arrays, NUL characters, out-of-range numbers) take the
 * text path, whose rules (and errors) then apply as before.
 */
export function fitsBinary(v: unknown, codec: BinaryCodec): boolean {
  switch (codec) {
    case 'int8':
      return typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
    case 'int4':
      return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    case 'int2':
      return typeof v === 'number' && Number.isInteger(v) && v >= -32768 && v <= 32767;
    case 'float8':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'text':
      return isPlainText(v);
    case 'timestamptz':
      return binaryEpochMs(v) !== undefined;
    case 'text[]':
      if (!Array.isArray(v)) return false;
      for (const el of v) if (el !== null && el !== undefined && !isPlainText(el)) return false;
      return true;
  }
}

const BINARY_COPY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** 2000-01-01T00:00:00Z in epoch milliseconds: PostgreSQL's timestamp epoch. */
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;
const TWO_32 = 4294967296;

/** Builds a COPY … (FORMAT binary) payload; every value must satisfy fitsBinary for its codec. */
export class BinaryCopyBuilder {
  private buf: Buffer;
  /** Over `buf` (DataView's setters are inlined by the JIT; Buffer's write methods are not as cheap). */
  private view: DataView;
  private off: number;

  constructor(sizeHint = 65536) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    BINARY_COPY_HEADER.copy(this.buf, 0);
    this.off = BINARY_COPY_HEADER.length;
  }

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** One tuple; `values[i]` null or a value fitting `codecs[i]`. */
  row(values: readonly unknown[], codecs: readonly BinaryCodec[]): void {
    this.room(2);
    this.view.setInt16(this.off, values.length);
    this.off += 2;
    for (let i = 0; i < values.length; i++) this.value(values[i], codecs[i]);
  }

  /** The payload, with the trailer; the builder is done. */
  finish(): Buffer {
    this.room(2);
    this.view.setInt16(this.off, -1);
    this.off += 2;
    return this.buf.subarray(0, this.off);
  }

  /** A length word then an int64; exact for safe integers (high word by floor division, low word unsigned). */
  private int64(n: number): void {
    const hi = Math.floor(n / TWO_32);
    const v = this.view;
    v.setInt32(this.off, 8);
    v.setInt32(this.off + 4, hi);
    v.setUint32(this.off + 8, n - hi * TWO_32);
    this.off += 12;
  }

  private bigint64(n: bigint): void {
    this.view.setInt32(this.off, 8);
    this.view.setBigInt64(this.off + 4, n);
    this.off += 12;
  }

  private text(s: string): void {
    const len = s.length;
    this.room(4 + len * 3);
    const b = this.buf;
    const at = this.off + 4;
    // Short ASCII strings (names, keys) byte by byte: cheaper than a call into the UTF-8 encoder.
    let n = 0;
    if (len <= 64) {
      for (; n < len; n++) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        b[at + n] = c;
      }
    }
    if (n < len) n = b.write(s, at, 'utf8');
    this.view.setInt32(this.off, n);
    this.off = at + n;
  }

  private value(v: unknown, codec: BinaryCodec): void {
    this.room(12);
    const view = this.view;
    if (v === null || v === undefined) {
      view.setInt32(this.off, -1);
      this.off += 4;
      return;
    }
    switch (codec) {
      case 'int8':
        if (typeof v === 'bigint') this.bigint64(v);
        else this.int64(v as number);
        return;
      case 'int4':
        view.setInt32(this.off, 4);
        view.setInt32(this.off + 4, v as number);
        this.off += 8;
        return;
      case 'int2':
        view.setInt32(this.off, 2);
        view.setInt16(this.off + 4, v as number);
        this.off += 6;
        return;
      case 'float8':
        view.setInt32(this.off, 8);
        // the text form of -0 is "0"
        view.setFloat64(this.off + 4, (v as number) === 0 ? 0 : (v as number));
        this.off += 12;
        return;
      case 'bool':
        view.setInt32(this.off, 1);
        view.setUint8(this.off + 4, v ? 1 : 0);
        this.off += 5;
        return;
      case 'text':
        this.text(v as string);
        return;
      case 'timestamptz': {
        const ms = binaryEpochMs(v)! - PG_EPOCH_MS;
        const us = ms * 1000;
        if (Number.isSafeInteger(us)) this.int64(us);
        else this.bigint64(BigInt(ms) * 1000n);
        return;
      }
      case 'text[]':
        this.textArray(v as readonly (string | null | undefined)[]);
        return;
    }
  }

  /** array_recv's layout: dimensions, has-nulls flag, element type, (size, lower bound) per dimension, elements. */
  private textArray(a: readonly (string | null | undefined)[]): void {
    const start = this.off;
    this.room(24);
    const v = this.view;
    if (a.length === 0) {
      v.setInt32(start, 12);
      v.setInt32(start + 4, 0);
      v.setInt32(start + 8, 0);
      v.setInt32(start + 12, TEXT_OID);
      this.off += 16;
      return;
    }
    let nulls = 0;
    for (const el of a) if (el === null || el === undefined) nulls = 1;
    v.setInt32(start + 4, 1);
    v.setInt32(start + 8, nulls);
    v.setInt32(start + 12, TEXT_OID);
    v.setInt32(start + 16, a.length);
    v.setInt32(start + 20, 1);
    this.off += 24;
    for (const el of a) {
      if (el === null || el === undefined) {
        this.room(4);
        this.view.setInt32(this.off, -1);
        this.off += 4;
      } else {
        this.text(el);
      }
    }
    // the array's length word, now that it is known (the buffer may have grown meanwhile)
    this.view.setInt32(start, this.off - start - 4);
  }
}
