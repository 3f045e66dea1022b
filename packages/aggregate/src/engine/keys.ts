import { canonicalKey } from './hash';

/**
 * Group keys.
 *
 * Internal key (in-memory map): for one group column, the string value itself (a string starting
 * with U+0000 gets a "\0s" prefix) or `canonicalKey(v)` for other kinds; for several columns,
 * JSON of the value array. Never leaves the process.
 *
 * External key (`Change.key`, usable as a NATS KV key, which allows only [-/_=.a-zA-Z0-9]):
 *   key      = part ( "." part )* [ ".=w" windowStart ]      ("=all" when there is no GROUP BY)
 *   part     = string value: every character outside [A-Za-z0-9-] is written as "_XX" per UTF-8
 *                byte (uppercase hex), so "aa:bb" → "aa_3Abb", "a.b" → "a_2Eb", "é" → "_C3_A9";
 *                the empty string is "="
 *            | "=n" null | "=t" true | "=f" false
 *            | "=" number text, escaped as above ("=42", "=-1_2E5" for -1.5)
 *            | "=j" JSON text of an array/object, escaped as above
 *   windowStart is the window start in epoch ms as a number part ("=w1700000000000").
 * Parts never contain "." (it is escaped), so the key splits back into parts on "."; a string
 * never starts with "=" (escaped as "_3D"), so the kinds cannot collide.
 */
export function internalKey1(v: unknown): string {
  if (typeof v === 'string') return v.charCodeAt(0) === 0 ? '\u0000s' + v : v;
  return canonicalKey(v);
}

export function internalKeyN(values: unknown[]): string {
  // Hot path (once per record): primitives built by hand, the same text JSON.stringify gives.
  let s = '[';
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (i > 0) s += ',';
    if (typeof x === 'string') s += JSON.stringify(x);
    else if (typeof x === 'number') s += x === x && x !== Infinity && x !== -Infinity ? String(x) : 'null';
    else if (x === null || x === undefined) s += 'null';
    else if (typeof x === 'boolean') s += x ? 'true' : 'false';
    else return JSON.stringify(values, (_k, y) => (y === undefined ? null : typeof y === 'bigint' ? String(y) : y));
  }
  return s + ']';
}

/** The internal key of a group's values, whatever their number. */
export function internalKey(values: unknown[]): string {
  return values.length === 1 ? internalKey1(values[0]) : values.length === 0 ? '' : internalKeyN(values);
}

/** Not a primitive group value: the trie does not hold keys with such values. */
const OTHER = Symbol('other');

/** A group value as a trie level's map key: equal exactly when internalKeyN writes the same text for it. */
function trieKey(x: unknown): unknown {
  if (typeof x === 'string' || typeof x === 'boolean') return x;
  // non-finite numbers are written as null; a Map treats -0 and 0 as one key, as String(-0) is "0"
  if (typeof x === 'number') return x === x && x !== Infinity && x !== -Infinity ? x : null;
  if (x === null || x === undefined) return null;
  return OTHER;
}

/**
 * Several-column group keys without building their text: one Map level per column, keyed by the
 * values themselves (strings, numbers, booleans, null), so a record's key is found without
 * allocating. A cache in front of the map by internal key: keys whose values are all primitives
 * only, and the same key (of the same internalKeyN text) is always the same path.
 */
export class KeyTrie<T> {
  private readonly root = new Map<unknown, unknown>();
  constructor(private readonly depth: number) {}

  get(values: readonly unknown[]): T | undefined {
    let m = this.root;
    const last = this.depth - 1;
    for (let i = 0; i < last; i++) {
      const next = m.get(trieKey(values[i])) as Map<unknown, unknown> | undefined;
      if (next === undefined) return undefined;
      m = next;
    }
    return m.get(trieKey(values[last])) as T | undefined;
  }

  /** Store t for these values (nothing when a value is not a primitive). */
  set(values: readonly unknown[], t: T): void {
    for (let i = 0; i < this.depth; i++) if (trieKey(values[i]) === OTHER) return;
    let m = this.root;
    const last = this.depth - 1;
    for (let i = 0; i < last; i++) {
      const k = trieKey(values[i]);
      let next = m.get(k) as Map<unknown, unknown> | undefined;
      if (next === undefined) m.set(k, (next = new Map()));
      m = next;
    }
    m.set(trieKey(values[last]), t);
  }

  /** Remove the entry for these values if it is t (and the levels it leaves empty). */
  delete(values: readonly unknown[], t: T): void {
    const path: Map<unknown, unknown>[] = [];
    let m = this.root;
    for (let i = 0; i < this.depth - 1; i++) {
      const next = m.get(trieKey(values[i])) as Map<unknown, unknown> | undefined;
      if (next === undefined) return;
      path.push(m);
      m = next;
    }
    const k = trieKey(values[this.depth - 1]);
    if (m.get(k) !== t) return;
    m.delete(k);
    for (let i = path.length - 1; i >= 0 && m.size === 0; i--) {
      path[i].delete(trieKey(values[i]));
      m = path[i];
    }
  }
}

const SAFE = /^[A-Za-z0-9-]+$/;

/** "_XX" of each byte value (uppercase hex). */
const ESC = Array.from({ length: 256 }, (_, b) => '_' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase());

export function escapeKeyText(s: string): string {
  if (SAFE.test(s)) return s;
  let out = '';
  let run = 0; // start of the pending run of safe characters
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45) continue;
    out += s.slice(run, i);
    if (c < 0x80) out += ESC[c];
    else {
      // the UTF-8 bytes of the code point (a lone surrogate as U+FFFD, as Buffer writes it)
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += ESC[b];
      if (cp > 0xffff) i++;
    }
    run = i + 1;
  }
  return out + s.slice(run);
}

export function encodeKeyPart(v: unknown): string {
  if (typeof v === 'string') return v === '' ? '=' : escapeKeyText(v);
  if (v === null || v === undefined) return '=n';
  if (v === true) return '=t';
  if (v === false) return '=f';
  if (typeof v === 'number' || typeof v === 'bigint') return '=' + escapeKeyText(String(v));
  if (v instanceof Date) return '=' + String(v.getTime());
  return '=j' + escapeKeyText(JSON.stringify(v));
}

export function encodeGroupKey(values: readonly unknown[]): string {
  if (values.length === 0) return '=all';
  let s = encodeKeyPart(values[0]);
  for (let i = 1; i < values.length; i++) s += '.' + encodeKeyPart(values[i]);
  return s;
}

export function windowKeySuffix(start: number): string {
  return '.=w' + escapeKeyText(String(start));
}

function unescapeKeyText(s: string): string {
  if (!s.includes('_')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '_') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decode an external key back into group values and window start (the inverse of the encoding above). */
export function decodeKey(key: string): { values: unknown[]; windowStart?: number } {
  const parts = key === '=all' ? [] : key.split('.');
  let windowStart: number | undefined;
  if (parts.length && parts[parts.length - 1].startsWith('=w')) windowStart = Number(unescapeKeyText(parts.pop()!.slice(2)));
  if (key.startsWith('=all')) {
    // "=all" or "=all.=wNNN"
    if (parts[0] === '=all') parts.shift();
  }
  const values = parts.map((p) => {
    if (p === '=') return '';
    if (p === '=n') return null;
    if (p === '=t') return true;
    if (p === '=f') return false;
    if (p.startsWith('=j')) return JSON.parse(unescapeKeyText(p.slice(2)));
    if (p.startsWith('=')) return Number(unescapeKeyText(p.slice(1)));
    return unescapeKeyText(p);
  });
  return { values, windowStart };
}
