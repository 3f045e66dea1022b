import { canonicalKey, hash64 } from '../engine/hash';
import { checkPattern, checkTimeZone, checkUnit, formatTimestamp, PatternError, timestampFormatter, truncateTimestamp, type TruncUnit } from './timefmt';
import { equals, compare, toMillis, toNumber, toText } from './values';

/**
 * Built-in scalar functions. Every function returns null (never undefined). Unless noted,
 * a null argument gives a null result ("null in, null out").
 */
export interface FunctionDef {
  min: number;
  max: number;
  /** Fixed-arity implementation (preferred: no argument array is allocated). */
  fixed?: (a: unknown, b: unknown, c: unknown) => unknown;
  /** Variadic implementation. */
  vararg?: (args: unknown[]) => unknown;
  /** Validates literal arguments at compile time; throws an Error with a message (mapped to a positioned ExpressionError). */
  check?: (literalArgs: (unknown | typeof NOT_LITERAL)[]) => void;
  /**
   * When every argument but the first is literal: a faster function of the first argument for
   * these literal arguments, giving the same results as `fixed`; undefined when there is none.
   */
  specialize?: (literalArgs: (unknown | typeof NOT_LITERAL)[]) => ((a: unknown) => unknown) | undefined;
  /** Not constant-foldable (NOW). */
  volatile?: boolean;
  /** Documentation line (used by EXPRESSIONS.md and `pcapflow` describe). */
  doc: string;
}

export const NOT_LITERAL: unique symbol = Symbol('not-literal');

function str1(f: (s: string) => unknown): FunctionDef['fixed'] {
  return (a) => {
    const s = toText(a);
    return s === null ? null : f(s);
  };
}
function num1(f: (n: number) => number): FunctionDef['fixed'] {
  return (a) => {
    const n = toNumber(a);
    if (n === null) return null;
    const r = f(n);
    return Number.isFinite(r) ? r : null;
  };
}

function roundHalfUp(x: number, digits: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (digits === 0) return sign * Math.round(a);
  const s = String(a);
  if (s.includes('e')) {
    const f = 10 ** digits;
    return (sign * Math.round(a * f)) / f;
  }
  return sign * Number(Math.round(Number(s + 'e' + digits)) + 'e-' + digits);
}

function checkTsArgs(patternIdx: number | undefined, tzIdx: number, unitIdx?: number) {
  return (args: unknown[]): void => {
    if (patternIdx !== undefined) {
      const p = args[patternIdx];
      if (p !== NOT_LITERAL && p !== null && p !== undefined) checkPattern(String(p));
    }
    const tz = args[tzIdx];
    if (tz !== NOT_LITERAL && tz !== null && tz !== undefined) checkTimeZone(String(tz));
    if (unitIdx !== undefined) {
      const u = args[unitIdx];
      if (u !== NOT_LITERAL && u !== null && u !== undefined) checkUnit(String(u));
    }
  };
}

function tzArg(tz: unknown): string | undefined {
  return tz === null || tz === undefined ? undefined : String(tz);
}

/**
 * TIMESTAMPTOSTRING(ts, 'literal pattern' [, 'literal zone']): the pattern is compiled once, with a
 * last-result cache of this call site's own (a formatted day changes only at day boundaries).
 */
function formatterFor(patternIdx: number, tzIdx: number) {
  return (args: unknown[]): ((a: unknown) => unknown) | undefined => {
    const p = args[patternIdx];
    const tz = args.length > tzIdx ? args[tzIdx] : undefined;
    if (p === NOT_LITERAL || p === null || p === undefined || tz === NOT_LITERAL) return undefined;
    let fmt: (ms: number) => string;
    try {
      fmt = timestampFormatter(String(p), tzArg(tz));
    } catch (e) {
      if (e instanceof PatternError) return undefined;
      throw e;
    }
    return (a) => {
      const ms = toMillis(a);
      if (ms === null) return null;
      try {
        return fmt(ms);
      } catch (e) {
        if (e instanceof PatternError) return null;
        throw e;
      }
    };
  };
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof PatternError) return null;
    throw e;
  }
}

export const FUNCTIONS: Record<string, FunctionDef> = {
  COALESCE: {
    min: 1, max: Infinity, doc: 'COALESCE(a, b, …): the first argument that is not null, else null.',
    vararg: (args) => {
      for (let i = 0; i < args.length; i++) if (args[i] !== null && args[i] !== undefined) return args[i];
      return null;
    },
  },
  IFNULL: { min: 2, max: 2, doc: 'IFNULL(a, b): a unless it is null, else b.', fixed: (a, b) => (a === null || a === undefined ? b : a) },
  NULLIF: { min: 2, max: 2, doc: 'NULLIF(a, b): null when a equals b, else a.', fixed: (a, b) => (a !== null && b !== null && equals(a, b) ? null : a) },
  UPPER: { min: 1, max: 1, doc: 'UPPER(s): upper case.', fixed: str1((s) => s.toUpperCase()) },
  UCASE: { min: 1, max: 1, doc: 'UCASE(s): alias of UPPER.', fixed: str1((s) => s.toUpperCase()) },
  LOWER: { min: 1, max: 1, doc: 'LOWER(s): lower case.', fixed: str1((s) => s.toLowerCase()) },
  LCASE: { min: 1, max: 1, doc: 'LCASE(s): alias of LOWER.', fixed: str1((s) => s.toLowerCase()) },
  LEN: {
    min: 1, max: 1, doc: 'LEN(s): length of a string (UTF-16 code units, as Java/ksqlDB) or of an array.',
    fixed: (a) => (a === null || a === undefined ? null : Array.isArray(a) ? a.length : (toText(a) as string).length),
  },
  LENGTH: {
    min: 1, max: 1, doc: 'LENGTH(s): alias of LEN.',
    fixed: (a) => (a === null || a === undefined ? null : Array.isArray(a) ? a.length : (toText(a) as string).length),
  },
  SUBSTRING: {
    min: 2, max: 3, doc: 'SUBSTRING(s, pos [, len]): substring from 1-based position pos (negative counts from the end), at most len characters.',
    fixed: (a, b, c) => {
      const s = toText(a);
      const p = toNumber(b);
      if (s === null || p === null) return null;
      let start = p > 0 ? Math.trunc(p) - 1 : p < 0 ? Math.max(0, s.length + Math.trunc(p)) : 0;
      if (start > s.length) start = s.length;
      if (c === undefined) return s.slice(start);
      const l = toNumber(c);
      if (l === null) return null;
      return l <= 0 ? '' : s.slice(start, start + Math.trunc(l));
    },
  },
  CONCAT: {
    min: 1, max: Infinity, doc: 'CONCAT(a, b, …): text of the arguments joined; null arguments are skipped (unlike ||).',
    vararg: (args) => {
      let s = '';
      for (let i = 0; i < args.length; i++) {
        const t = toText(args[i]);
        if (t !== null) s += t;
      }
      return s;
    },
  },
  CONCAT_WS: {
    min: 2, max: Infinity, doc: 'CONCAT_WS(sep, a, b, …): non-null arguments joined with sep.',
    vararg: (args) => {
      const sep = toText(args[0]);
      if (sep === null) return null;
      const parts: string[] = [];
      for (let i = 1; i < args.length; i++) {
        const t = toText(args[i]);
        if (t !== null) parts.push(t);
      }
      return parts.join(sep);
    },
  },
  REPLACE: {
    min: 3, max: 3, doc: 'REPLACE(s, from, to): every occurrence of from replaced by to.',
    fixed: (a, b, c) => {
      const s = toText(a), f = toText(b), t = toText(c);
      if (s === null || f === null || t === null) return null;
      return f === '' ? s : s.split(f).join(t);
    },
  },
  SPLIT: {
    min: 2, max: 2, doc: "SPLIT(s, delimiter): array of the parts (an empty delimiter splits into characters).",
    fixed: (a, b) => {
      const s = toText(a), d = toText(b);
      if (s === null || d === null) return null;
      return s.split(d);
    },
  },
  TRIM: { min: 1, max: 1, doc: 'TRIM(s): without leading/trailing white space.', fixed: str1((s) => s.trim()) },
  LTRIM: { min: 1, max: 1, doc: 'LTRIM(s): without leading white space.', fixed: str1((s) => s.trimStart()) },
  RTRIM: { min: 1, max: 1, doc: 'RTRIM(s): without trailing white space.', fixed: str1((s) => s.trimEnd()) },
  ROUND: {
    min: 1, max: 2, doc: 'ROUND(x [, digits]): rounded half away from zero (Java HALF_UP), to digits decimals (default 0).',
    fixed: (a, b) => {
      const x = toNumber(a);
      if (x === null) return null;
      const d = b === undefined ? 0 : toNumber(b);
      if (d === null) return null;
      return roundHalfUp(x, Math.trunc(d));
    },
  },
  FLOOR: { min: 1, max: 1, doc: 'FLOOR(x): largest integer ≤ x.', fixed: num1(Math.floor) },
  CEIL: { min: 1, max: 1, doc: 'CEIL(x): smallest integer ≥ x.', fixed: num1(Math.ceil) },
  CEILING: { min: 1, max: 1, doc: 'CEILING(x): alias of CEIL.', fixed: num1(Math.ceil) },
  ABS: { min: 1, max: 1, doc: 'ABS(x): absolute value.', fixed: num1(Math.abs) },
  GREATEST: {
    min: 1, max: Infinity, doc: 'GREATEST(a, b, …): the largest non-null argument.',
    vararg: (args) => {
      let best: unknown = null;
      for (const v of args) if (v !== null && v !== undefined && (best === null || compare(v, best) > 0)) best = v;
      return best;
    },
  },
  LEAST: {
    min: 1, max: Infinity, doc: 'LEAST(a, b, …): the smallest non-null argument.',
    vararg: (args) => {
      let best: unknown = null;
      for (const v of args) if (v !== null && v !== undefined && (best === null || compare(v, best) < 0)) best = v;
      return best;
    },
  },
  HASH: {
    min: 1, max: 1, doc: 'HASH(x): a stable non-negative 32-bit integer hash of x (e.g. HASH(sa) % 16 for partitioning).',
    fixed: (a) => (a === null || a === undefined ? null : hash64(canonicalKey(a))),
  },
  TIMESTAMPTOSTRING: {
    min: 2, max: 3, doc: "TIMESTAMPTOSTRING(ts_ms, pattern [, tz]): format epoch milliseconds with a Java SimpleDateFormat pattern in time zone tz (default UTC).",
    check: checkTsArgs(1, 2),
    specialize: formatterFor(1, 2),
    fixed: (a, b, c) => {
      const ms = toMillis(a);
      if (ms === null || b === null || b === undefined) return null;
      return safe(() => formatTimestamp(ms, String(b), tzArg(c)));
    },
  },
  FORMAT_TIMESTAMP: {
    min: 2, max: 3, doc: 'FORMAT_TIMESTAMP(ts, pattern [, tz]): alias of TIMESTAMPTOSTRING.',
    check: checkTsArgs(1, 2),
    specialize: formatterFor(1, 2),
    fixed: (a, b, c) => {
      const ms = toMillis(a);
      if (ms === null || b === null || b === undefined) return null;
      return safe(() => formatTimestamp(ms, String(b), tzArg(c)));
    },
  },
  STRINGTOTIMESTAMP: {
    min: 1, max: 1, doc: 'STRINGTOTIMESTAMP(s): epoch milliseconds of an ISO-8601 date/time (or a numeric string), else null.',
    fixed: (a) => toMillis(a),
  },
  DATETRUNC: {
    min: 2, max: 3, doc: "DATETRUNC(ts_ms, unit [, tz]): epoch ms of the start of the year/month/week/day/hour/minute/second containing ts (weeks start Monday).",
    check: checkTsArgs(undefined, 2, 1),
    fixed: (a, b, c) => {
      const ms = toMillis(a);
      if (ms === null || b === null || b === undefined) return null;
      return safe(() => truncateTimestamp(ms, checkUnit(String(b)) as TruncUnit, tzArg(c)));
    },
  },
  DAY: {
    min: 1, max: 2, doc: "DAY(ts_ms [, tz]): the date as 'yyyy-MM-dd'.",
    check: checkTsArgs(undefined, 1),
    fixed: (a, b) => {
      const ms = toMillis(a);
      return ms === null ? null : safe(() => formatTimestamp(ms, 'yyyy-MM-dd', tzArg(b)));
    },
  },
  HOUR: {
    min: 1, max: 2, doc: 'HOUR(ts_ms [, tz]): hour of day 0–23.',
    check: checkTsArgs(undefined, 1),
    fixed: (a, b) => {
      const ms = toMillis(a);
      return ms === null ? null : safe(() => Number(formatTimestamp(ms, 'H', tzArg(b))));
    },
  },
  NOW: { min: 0, max: 0, volatile: true, doc: 'NOW(): current time in epoch milliseconds (evaluated per record).', fixed: () => Date.now() },
  UNIX_TIMESTAMP: { min: 0, max: 0, volatile: true, doc: 'UNIX_TIMESTAMP(): alias of NOW().', fixed: () => Date.now() },
  ARRAY_CONTAINS: {
    min: 2, max: 2, doc: 'ARRAY_CONTAINS(arr, v): whether the array holds v (null when arr is null or not an array).',
    fixed: (a, b) => {
      if (!Array.isArray(a)) return null;
      if (b === null || b === undefined) return a.some((x) => x === null || x === undefined);
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        if (x === b || (x !== null && x !== undefined && equals(x, b))) return true;
      }
      return false;
    },
  },
  ARRAY_LENGTH: { min: 1, max: 1, doc: 'ARRAY_LENGTH(arr): number of elements (null when not an array).', fixed: (a) => (Array.isArray(a) ? a.length : null) },
};

/** name → [min, max] argument counts; used by the parser to reject wrong calls early. */
export const FUNCTION_ARITY: Record<string, [number, number]> = Object.fromEntries(
  Object.entries(FUNCTIONS).map(([k, v]) => [k, [v.min, v.max] as [number, number]]),
);
