/**
 * Java SimpleDateFormat-style formatting (what ksqlDB's TIMESTAMPTOSTRING used), without a
 * dependency. Supported letters:
 *   yyyy yy  year            MMMM MMM MM M  month (name / number)   dd d   day of month
 *   HH H     hour 0-23       hh h   hour 1-12                         a      AM/PM
 *   mm m     minute          ss s   second                            SSS S  milliseconds (zero padded to the count)
 *   EEEE EEE day name        D      day of year                        u      day of week (1 = Monday)
 *   Z        +0000           XXX    +00:00 (Z for UTC)   XX +0000   X +00     z   UTC / GMT+01:00
 * Text in single quotes is literal ('T'), '' is a quote; other non-letters are copied.
 * Time zones are IANA names ("Europe/Berlin"), "UTC", or fixed offsets ("+02:00").
 */

export class PatternError extends Error {}

type Part = string | ((f: Fields) => string);

interface Fields {
  year: number; month: number; day: number; hour: number; minute: number; second: number; ms: number;
  /** 0 = Sunday */
  weekday: number; yday: number; offsetMin: number;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function pad(n: number, w: number): string {
  const s = String(Math.abs(n));
  const p = s.length >= w ? s : '0'.repeat(w - s.length) + s;
  return n < 0 ? '-' + p : p;
}

function offsetText(min: number, colon: boolean, hoursOnly = false): string {
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  const h = pad(Math.floor(a / 60), 2);
  if (hoursOnly) return sign + h;
  return sign + h + (colon ? ':' : '') + pad(a % 60, 2);
}

function letterPart(ch: string, count: number): Part {
  switch (ch) {
    case 'y':
      return count === 2 ? (f) => pad(f.year % 100, 2) : (f) => pad(f.year, count);
    case 'M':
      if (count >= 4) return (f) => MONTHS[f.month - 1];
      if (count === 3) return (f) => MONTHS[f.month - 1].slice(0, 3);
      return (f) => pad(f.month, count);
    case 'd':
      return (f) => pad(f.day, count);
    case 'H':
      return (f) => pad(f.hour, count);
    case 'k':
      return (f) => pad(f.hour === 0 ? 24 : f.hour, count);
    case 'h':
      return (f) => pad(f.hour % 12 === 0 ? 12 : f.hour % 12, count);
    case 'K':
      return (f) => pad(f.hour % 12, count);
    case 'a':
      return (f) => (f.hour < 12 ? 'AM' : 'PM');
    case 'm':
      return (f) => pad(f.minute, count);
    case 's':
      return (f) => pad(f.second, count);
    case 'S':
      return (f) => pad(f.ms, count);
    case 'E':
      return count >= 4 ? (f) => DAYS[f.weekday] : (f) => DAYS[f.weekday].slice(0, 3);
    case 'D':
      return (f) => pad(f.yday, count);
    case 'u':
      return (f) => String(f.weekday === 0 ? 7 : f.weekday);
    case 'Z':
      return (f) => offsetText(f.offsetMin, false);
    case 'X':
      return (f) => (f.offsetMin === 0 ? 'Z' : offsetText(f.offsetMin, count >= 3, count === 1));
    case 'z':
      return (f) => (f.offsetMin === 0 ? 'UTC' : 'GMT' + offsetText(f.offsetMin, true));
    default:
      throw new PatternError(`Unsupported date pattern letter '${ch}'`);
  }
}

/** A compiled pattern: call with epoch ms and a UTC offset function. */
export type Formatter = (ms: number, tz?: string) => string;

/**
 * A compiled pattern. `unit`: the length (ms) of the coarsest local-time period within which the
 * output cannot change (day for 'yyyy-MM-dd', hour with H/h/k/K/a, …; 0 when it shows ms or a zone),
 * so consecutive timestamps of one period reuse the last result (`lo` ≤ ms < `hi`, same `tz`).
 */
interface CompiledPattern extends Array<Part> {
  unit: number;
  lo: number;
  hi: number;
  tz: string | undefined;
  out: string;
}

const patternCache = new Map<string, CompiledPattern>();

const UNIT_OF_LETTER: Record<string, number> = {
  y: 86400000, M: 86400000, d: 86400000, E: 86400000, D: 86400000, u: 86400000,
  H: 3600000, k: 3600000, h: 3600000, K: 3600000, a: 3600000, m: 60000, s: 1000, S: 0, Z: 0, X: 0, z: 0,
};

function compilePattern(pattern: string): CompiledPattern {
  const cached = patternCache.get(pattern);
  if (cached) return cached;
  const parts = [] as Part[] as CompiledPattern;
  parts.unit = 86400000;
  parts.lo = 0;
  parts.hi = 0;
  parts.tz = undefined;
  parts.out = '';
  let lit = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "'") {
      if (pattern[i + 1] === "'") {
        lit += "'";
        i += 2;
        continue;
      }
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new PatternError('Unterminated quote in date pattern');
      lit += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
      let j = i;
      while (j < pattern.length && pattern[j] === ch) j++;
      if (lit) {
        parts.push(lit);
        lit = '';
      }
      parts.push(letterPart(ch, j - i));
      parts.unit = Math.min(parts.unit, UNIT_OF_LETTER[ch] ?? 0);
      i = j;
      continue;
    }
    lit += ch;
    i++;
  }
  if (lit) parts.push(lit);
  if (patternCache.size > 1000) patternCache.clear();
  patternCache.set(pattern, parts);
  return parts;
}

/** Validate a pattern (throws PatternError). */
export function checkPattern(pattern: string): void {
  compilePattern(pattern);
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();

/** Validate a time zone name (throws PatternError). */
export function checkTimeZone(tz: string): void {
  tzOffsetMinutes(0, tz);
}

/** UTC offset in minutes of time zone `tz` at instant `ms` (east of Greenwich is positive). */
export function tzOffsetMinutes(ms: number, tz: string | undefined): number {
  if (tz === undefined || tz === 'UTC' || tz === 'Z' || tz === 'GMT' || tz === 'Etc/UTC') return 0;
  const fixed = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(tz);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3] ?? 0));
  let dtf = dtfCache.get(tz);
  if (!dtf) {
    try {
      dtf = new Intl.DateTimeFormat('en-US', {
        timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
      });
    } catch {
      throw new PatternError(`Unknown time zone '${tz}'`);
    }
    dtfCache.set(tz, dtf);
  }
  const p = dtf.formatToParts(new Date(Math.floor(ms / 1000) * 1000));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const x of p) {
    switch (x.type) {
      case 'year': y = Number(x.value); break;
      case 'month': mo = Number(x.value); break;
      case 'day': d = Number(x.value); break;
      case 'hour': h = Number(x.value); break;
      case 'minute': mi = Number(x.value); break;
      case 'second': s = Number(x.value); break;
    }
  }
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

function fieldsOf(ms: number, tz: string | undefined): Fields {
  const off = tzOffsetMinutes(ms, tz);
  const d = new Date(ms + off * 60000);
  const year = d.getUTCFullYear();
  const yday = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86400000) + 1;
  return {
    year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(), ms: d.getUTCMilliseconds(), weekday: d.getUTCDay(), yday, offsetMin: off,
  };
}

/** UTC offset (minutes) of a time zone whose offset never changes, else undefined. */
function fixedOffset(tz: string | undefined): number | undefined {
  if (tz === undefined || tz === 'UTC' || tz === 'Z' || tz === 'GMT' || tz === 'Etc/UTC') return 0;
  return /^(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?$/.test(tz) ? tzOffsetMinutes(0, tz) : undefined;
}

function render(parts: CompiledPattern, ms: number, tz: string | undefined): string {
  const f = fieldsOf(ms, tz);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    out += typeof p === 'string' ? p : p(f);
  }
  return out;
}

/** Start of the period of `unit` ms (in local time of a zone `off` minutes east of UTC) containing ms. */
function periodStart(ms: number, unit: number, off: number): number {
  const local = ms + off * 60000;
  return local - (((local % unit) + unit) % unit) - off * 60000;
}

/** Format epoch milliseconds with a SimpleDateFormat-style pattern in time zone `tz` (default UTC). */
export function formatTimestamp(ms: number, pattern: string, tz?: string): string {
  const parts = compilePattern(pattern);
  // Records mostly arrive in time order: the last result holds for the rest of its day (hour, …).
  if (ms >= parts.lo && ms < parts.hi && tz === parts.tz) return parts.out;
  const out = render(parts, ms, tz);
  const unit = parts.unit;
  const off = unit > 0 ? fixedOffset(tz) : undefined;
  if (off !== undefined) {
    parts.lo = periodStart(ms, unit, off);
    parts.hi = parts.lo + unit;
    parts.tz = tz;
    parts.out = out;
  }
  return out;
}

/**
 * formatTimestamp with the pattern and zone fixed: pattern compiled once, and a last-result cache
 * of its own (so that other call sites with other patterns or zones do not evict it). Throws
 * PatternError for an invalid pattern or zone.
 */
export function timestampFormatter(pattern: string, tz?: string): (ms: number) => string {
  const parts = compilePattern(pattern);
  if (tz !== undefined) checkTimeZone(tz);
  const unit = parts.unit;
  const off = unit > 0 ? fixedOffset(tz) : undefined;
  let lo = 0, hi = 0, last = '';
  return (ms) => {
    if (ms >= lo && ms < hi) return last;
    const out = render(parts, ms, tz);
    if (off !== undefined) {
      lo = periodStart(ms, unit, off);
      hi = lo + unit;
      last = out;
    }
    return out;
  };
}

export type TruncUnit = 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second';
const UNITS = new Set(['year', 'month', 'week', 'day', 'hour', 'minute', 'second']);

export function checkUnit(u: string): TruncUnit {
  const l = u.toLowerCase().replace(/s$/, '');
  if (!UNITS.has(l)) throw new PatternError(`Unknown time unit '${u}': use year, month, week, day, hour, minute or second`);
  return l as TruncUnit;
}

/** Truncate epoch ms to the start of its unit in time zone tz (weeks start on Monday). */
export function truncateTimestamp(ms: number, unit: TruncUnit, tz?: string): number {
  const off = tzOffsetMinutes(ms, tz) * 60000;
  const local = ms + off;
  let t: number;
  switch (unit) {
    case 'second': t = Math.floor(local / 1000) * 1000; break;
    case 'minute': t = Math.floor(local / 60000) * 60000; break;
    case 'hour': t = Math.floor(local / 3600000) * 3600000; break;
    case 'day': t = Math.floor(local / 86400000) * 86400000; break;
    case 'week': {
      const day = Math.floor(local / 86400000) * 86400000;
      const wd = new Date(day).getUTCDay();
      t = day - ((wd + 6) % 7) * 86400000;
      break;
    }
    case 'month': {
      const d = new Date(local);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      break;
    }
    case 'year': {
      const d = new Date(local);
      t = Date.UTC(d.getUTCFullYear(), 0, 1);
      break;
    }
  }
  if (off === 0) return t;
  // The offset at the truncated instant may differ (DST); use the offset valid there.
  return t - tzOffsetMinutes(t - off, tz) * 60000;
}
