import { Unpackr } from 'msgpackr';
import { PACKED_KEYS, PACKED_VALUES } from './codec';

/**
 * Projected decoding of a record batch: only the fields an actor reads are materialised, the
 * others are skipped over in the bytes. A split that reads `type_subtype` of a 30-field frame
 * record, or an aggregate that reads five fields, spends most of a full decode building strings
 * and objects it never looks at (and then collecting them).
 *
 * Each projected record carries the message's own encoding of the whole record under
 * PACKED_KEYS / PACKED_VALUES (see codec.ts), so forwarding, emitting or dead-lettering it
 * passes on the record exactly as it arrived, with every field.
 *
 * Only batches in msgpackr's record form whose records are self-contained are projected: a record's
 * values may define nested records inline (id 0x7f, as pre-packed sources write them) but may
 * not refer to a shape defined elsewhere in the message, or they could not be re-sent on their
 * own. Anything else (plain maps, extensions other than timestamps and big integers, two-byte
 * record ids, shapes shared between records and nested values) returns undefined, and the caller
 * decodes the message in full: projection is an optimisation, never a different result.
 */

const unpackr = new Unpackr({ useRecords: true });

/**
 * Reads the record whose values start at p, and each next one that refers to the same shape (its
 * id byte `id`), up to `count` records: their wanted fields, into new records (see
 * compileProjector) at out[r], out[r + 1], ... Returns the index after the last one read, and
 * leaves where it ends in w.pos.
 */
type Projector = (d: Uint8Array, p: number, w: Walker, dv: DataView, out: unknown[], r: number, count: number, id: number) => number;

/** A record shape of one message: its keys and the walk over a record's values. */
interface Shape {
  keys: readonly string[];
  project: Projector;
}

function planOf(keys: readonly string[], wanted: ReadonlySet<string>): Array<number | string> {
  const plan: Array<number | string> = [];
  let run = 0;
  for (const k of keys) {
    if (wanted.has(k)) { plan.push(run, k); run = 0; } else run++;
  }
  plan.push(run);
  return plan;
}

/** Field names stored as `this.name`; others as `this["…"]`. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The walk over a shape's values as code of its own: skip plan[0] values, read the field plan[1],
 * skip plan[2], ... skip the last, then make the record. The common scalars (small integers,
 * float64, null, ASCII short strings: a frame record's fields) are read inline, as Walker.value
 * reads them; the rest through it.
 *
 * Records are of a class of the shape's own: its fields are own properties, set by its constructor
 * in key order, each by its own statement with the name written in (a store through a variable
 * name goes to the runtime; adding a property per record that way cost more than walking the
 * whole record), so V8 sizes the records of each shape to hold them all inline (a class shared by
 * every shape was sized by the first shapes it saw, and others' fields went to a second object
 * per record). The whole encoding is reachable under PACKED_KEYS / PACKED_VALUES through the
 * prototype, so a copy (`{ ...r, x }`, which a handler builds to emit a new record) never carries
 * the old encoding along and drops its own fields. Names come in as JSON string literals (never
 * `__proto__`, which the decoder filters out).
 */
function compileProjector(keys: readonly string[], plan: ReadonlyArray<number | string>): Projector {
  const last = plan.length - 1;
  let body = 'const start = p;\nw.beginRecord(p);\nlet t;\n';
  const values: string[] = [];
  let stores = '';
  const skip = (n: number) => (n === 0 ? '' : `p = skip(d, p, ${n}, w);\n`);
  for (let i = 0, f = 0; i < last; i += 2, f++) {
    const v = `v${f}`;
    const name = plan[i + 1] as string;
    values.push(v);
    stores += `this${IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`} = ${v}; `;
    body += `${skip(plan[i] as number)}let ${v};
t = d[p];
if (t < 0x40) { ${v} = t; p += 1; }
else if (t === 0xcb) { ${v} = dv.getFloat64(p + 1); p += 9; }
else if (t >= 0xa0 && t < 0xc0 && p + 1 + (t & 0x1f) <= d.length && (${v} = str(d, dv, p + 1, t & 0x1f)) !== undefined) p += 1 + (t & 0x1f);
else if (t === 0xc0) { ${v} = null; p += 1; }
else if (t >= 0xe0) { ${v} = t - 0x100; p += 1; }
else { w.pos = p; ${v} = w.value(); p = w.pos; }
`;
  }
  body += `${skip(plan[last] as number)}out[r++] = new ProjectedRecord(d, start, p${values.map((v) => `, ${v}`).join('')});`;
  const source = `class ProjectedRecord {
  #data; #start; #end;
  constructor(data, start, end${values.map((v) => `, ${v}`).join('')}) { this.#data = data; this.#start = start; this.#end = end; ${stores}}
  get [PACKED_KEYS]() { return keys; }
  // a view made when asked for: most records are only read, never sent on
  get [PACKED_VALUES]() { return this.#data.subarray(this.#start, this.#end); }
}
// one call per run of records of the shape (most messages hold one shape): no call per record
return function project(d, p, w, dv, out, r, count, id) {
for (;;) {
${body}
if (r === count || d[p] !== id) break;
p++;
}
w.pos = p;
return r;
};`;
  const project = new Function('skip', 'str', 'PACKED_KEYS', 'PACKED_VALUES', 'keys', source)(skipValues, ascii, PACKED_KEYS, PACKED_VALUES, keys) as Projector;
  // One record of nulls first, so every field of the shape's class holds any value from the start.
  // Otherwise a field whose first value is a float64 (a timestamp) is stored unboxed, and every
  // read of it that a function passes on or returns (a group key's TIMESTAMPTOSTRING(ts), an
  // EARLIEST(ts)) boxes it anew: a heap number per read (measured ~10x the cost of such a read).
  const nulls = new Uint8Array(keys.length).fill(0xc0);
  project(nulls, 0, new Walker(nulls, new DataView(nulls.buffer)), new DataView(nulls.buffer), [], 0, 1, -1);
  return project;
}

/**
 * Bytes taken by a value, by its first byte, for the values whose size that byte alone gives
 * (0: ask the walker). Positive fixints 0x40..0x7f are record references, never fixed.
 */
const FIXED_SIZE = (() => {
  const t = new Uint8Array(256);
  for (let b = 0x00; b < 0x40; b++) t[b] = 1;
  for (let b = 0xe0; b <= 0xff; b++) t[b] = 1;
  for (let b = 0xa0; b < 0xc0; b++) t[b] = 1 + (b & 0x1f);
  t[0xc0] = t[0xc2] = t[0xc3] = 1;
  t[0xcc] = t[0xd0] = 2;
  t[0xcd] = t[0xd1] = 3;
  t[0xce] = t[0xd2] = t[0xca] = 5;
  t[0xcb] = t[0xcf] = t[0xd3] = 9;
  return t;
})();

/**
 * Skip n values from p; returns the new position. Values whose first byte gives their size (most
 * of a frame record) and str8 inline, the rest through the walker. Past the end of the data the
 * position only grows or turns NaN (an undefined byte), or the walker bails: callers check it
 * against the length. (Each step waits for its byte, then for its table entry; stepping over two
 * values at once by a 64 KiB table of byte pairs measured no faster.)
 */
function skipValues(d: Uint8Array, p: number, n: number, w: Walker): number {
  for (let i = 0; i < n; i++) {
    const t = d[p]!;
    const size = FIXED_SIZE[t]!;
    if (size !== 0) { p += size; continue; }
    if (t === 0xd9) { p += 2 + d[p + 1]!; continue; }
    w.pos = p; w.skip(); p = w.pos;
  }
  return p;
}

/** Thrown internally when the message is outside what projection handles; never escapes. */
const BAIL = Symbol('bail');

/** Shapes by the bytes of their keys array, per wanted-field set (shapes repeat in every message). */
class ShapeCache {
  private readonly byBytes = new Map<string, Shape>();
  constructor(private readonly wanted: ReadonlySet<string>) {}

  get(data: Uint8Array, start: number, end: number): Shape {
    const id = latin1(data, start, end);
    let s = this.byBytes.get(id);
    if (s === undefined) {
      const keys = unpackr.unpack(data.subarray(start, end)) as unknown;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw BAIL;
      const frozen = Object.freeze(keys.slice() as string[]);
      s = { keys: frozen, project: compileProjector(frozen, planOf(frozen, this.wanted)) };
      if (this.byBytes.size > 4096) this.byBytes.clear();
      this.byBytes.set(id, s);
    }
    return s;
  }
}

// Node's native slice works on any Uint8Array (no Buffer object per string)
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
function latin1(data: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(data, start, end);
}

/** Walks one message. Positions are offsets into `data`. */
class Walker {
  pos = 0;
  /** nested shapes (key counts) in scope, by id & 0x3f, and where each was defined */
  private readonly nested: Array<number | undefined> = new Array(64);
  /** the record being walked started at this offset: a nested shape defined before it is outside it */
  private recordStart = 0;
  private readonly definedAt: number[] = new Array(64).fill(-1);
  /** the value being decoded on its own starts here; a nested shape defined before it is outside it */
  private floor = 0;
  private outside = false;
  /** top-level shapes, by id & 0x3f */
  readonly top: Array<Shape | undefined> = new Array(64);

  constructor(readonly data: Uint8Array, private readonly view: DataView) {}

  /** The record being walked starts (its values) at `at`. */
  beginRecord(at: number): void { this.recordStart = at; }

  /** Skip one value; throws BAIL for what projection does not handle. */
  skip(): void {
    const d = this.data;
    const t = d[this.pos++]!;
    if (t < 0x40) return;
    if (t < 0x80) { this.skipNestedRecord(t & 0x3f); return; }
    if (t < 0x90) { this.skipN(2 * (t & 0x0f)); return; }
    if (t < 0xa0) { this.skipN(t & 0x0f); return; }
    if (t < 0xc0) { this.pos += t & 0x1f; return; }
    if (t >= 0xe0) return;
    const v = this.view;
    switch (t) {
      case 0xc0: case 0xc2: case 0xc3: return;
      case 0xc4: this.pos += 1 + d[this.pos]!; return;
      case 0xc5: this.pos += 2 + v.getUint16(this.pos); return;
      case 0xc6: this.pos += 4 + v.getUint32(this.pos); return;
      case 0xc7: this.ext(d[this.pos + 1]!); this.pos += 2 + d[this.pos]!; return;
      case 0xc8: this.ext(d[this.pos + 2]!); this.pos += 3 + v.getUint16(this.pos); return;
      case 0xc9: this.ext(d[this.pos + 4]!); this.pos += 5 + v.getUint32(this.pos); return;
      case 0xca: this.pos += 4; return;
      case 0xcb: this.pos += 8; return;
      case 0xcc: case 0xd0: this.pos += 1; return;
      case 0xcd: case 0xd1: this.pos += 2; return;
      case 0xce: case 0xd2: this.pos += 4; return;
      case 0xcf: case 0xd3: this.pos += 8; return;
      case 0xd4: {
        const type = d[this.pos]!;
        if (type === 0x72) {
          // a nested record defined inline: d4 72 id keys-array, then its values
          const id = d[this.pos + 1]!;
          this.pos += 2;
          const k0 = this.pos;
          this.skip();
          const n = this.arrayLength(k0);
          this.nested[id & 0x3f] = n;
          this.definedAt[id & 0x3f] = k0;
          // a nested definition must not clash with the ids a re-sent batch gives its top-level shapes
          if (id !== 0x7f) throw BAIL;
          this.skipN(n);
          return;
        }
        this.ext(type);
        this.pos += 2;
        return;
      }
      case 0xd5: this.ext(d[this.pos]!); this.pos += 3; return;
      case 0xd6: this.ext(d[this.pos]!); this.pos += 5; return;
      case 0xd7: this.ext(d[this.pos]!); this.pos += 9; return;
      case 0xd8: this.ext(d[this.pos]!); this.pos += 17; return;
      case 0xd9: this.pos += 1 + d[this.pos]!; return;
      case 0xda: this.pos += 2 + v.getUint16(this.pos); return;
      case 0xdb: this.pos += 4 + v.getUint32(this.pos); return;
      case 0xdc: { const n = v.getUint16(this.pos); this.pos += 2; this.skipN(n); return; }
      case 0xdd: { const n = v.getUint32(this.pos); this.pos += 4; this.skipN(n); return; }
      case 0xde: { const n = v.getUint16(this.pos); this.pos += 2; this.skipN(2 * n); return; }
      case 0xdf: { const n = v.getUint32(this.pos); this.pos += 4; this.skipN(2 * n); return; }
      default: throw BAIL; // 0xc1 (never used)
    }
  }

  private skipN(n: number): void { for (let i = 0; i < n; i++) this.skip(); }

  /** Extensions whose payload is all inside their length: timestamps (-1) and msgpackr's big integers (0x42). */
  private ext(type: number): void {
    if (type !== 0xff && type !== 0x42) throw BAIL;
  }

  private skipNestedRecord(id: number): void {
    const n = this.nested[id];
    // a reference to a shape defined before this record (or to none: msgpackr then reads an
    // integer) could not travel on its own
    if (n === undefined || this.definedAt[id]! < this.recordStart) throw BAIL;
    if (this.definedAt[id]! < this.floor) this.outside = true;
    this.skipN(n);
  }

  private arrayLength(at: number): number {
    const d = this.data;
    const t = d[at]!;
    if (t >= 0x90 && t < 0xa0) return t & 0x0f;
    if (t === 0xdc) return this.view.getUint16(at + 1);
    if (t === 0xdd) return this.view.getUint32(at + 1);
    throw BAIL;
  }

  /** The value at pos, decoded (then skipped). Common scalars inline; the rest by msgpackr on its own bytes. */
  value(): unknown {
    const d = this.data;
    const at = this.pos;
    const t = d[at]!;
    if (t < 0x40) { this.pos++; return t; }
    if (t >= 0xe0) { this.pos++; return t - 0x100; }
    if (t >= 0xa0 && t < 0xc0) {
      const n = t & 0x1f;
      const s = at + 1 + n <= d.length ? ascii(d, this.view, at + 1, n) : undefined;
      if (s !== undefined) { this.pos = at + 1 + n; return s; }
    } else if (t === 0xd9) {
      const n = d[at + 1]!;
      const s = at + 2 + n <= d.length ? ascii(d, this.view, at + 2, n) : undefined;
      if (s !== undefined) { this.pos = at + 2 + n; return s; }
    } else {
      const v = this.view;
      switch (t) {
        case 0xc0: this.pos++; return null;
        case 0xc2: this.pos++; return false;
        case 0xc3: this.pos++; return true;
        case 0xcb: this.pos += 9; return v.getFloat64(at + 1);
        case 0xcc: this.pos += 2; return d[at + 1]!;
        case 0xcd: this.pos += 3; return v.getUint16(at + 1);
        case 0xce: this.pos += 5; return v.getUint32(at + 1);
        case 0xd0: this.pos += 2; return v.getInt8(at + 1);
        case 0xd1: this.pos += 3; return v.getInt16(at + 1);
        case 0xd2: this.pos += 5; return v.getInt32(at + 1);
      }
    }
    // everything else (non-ASCII text, 64-bit integers, float32, bin, arrays, maps, nested
    // records, timestamps) exactly as msgpackr decodes it: the value is self-contained (skip checks)
    this.floor = at;
    this.outside = false;
    this.skip();
    this.floor = 0;
    // it refers to a nested shape defined by an earlier field: msgpackr alone would misread it
    if (this.outside || this.pos > this.data.length) throw BAIL;
    return unpackr.unpack(this.data.subarray(at, this.pos));
  }
}

/**
 * Short strings repeat (subtype names, MAC addresses, SSIDs): a direct-mapped cache of recent ones
 * by their bytes, so a repeated value costs a comparison instead of a new string (and its garbage).
 * Each entry keeps its bytes beside it, and a hit compares them with the message's, 4 at a time
 * (comparing a string's characters costs a check of the string's kind per character): an entry
 * is used only when its bytes equal the message's, so the result is the bytes' text.
 */
const STRING_CACHE_SIZE = 4096; // a power of two
const MAX_CACHED_STRING = 48; // a multiple of 4: entries' bytes start word-aligned
const stringCache: string[] = new Array<string>(STRING_CACHE_SIZE).fill('');
/** each entry's length (0xff: none yet), and its bytes at slot * MAX_CACHED_STRING */
const stringCacheLength = new Uint8Array(STRING_CACHE_SIZE).fill(0xff);
const stringCacheBytes = new Uint8Array(STRING_CACHE_SIZE * MAX_CACHED_STRING);
const stringCacheView = new DataView(stringCacheBytes.buffer);

/**
 * ASCII text of d[start, start+n) (dv: a view of d), or undefined when a byte is not ASCII
 * (msgpackr then decodes it, so results stay identical). The bytes must be inside d.
 */
function ascii(d: Uint8Array, dv: DataView, start: number, n: number): string | undefined {
  if (n > MAX_CACHED_STRING) {
    for (let i = start, end = start + n; i < end; i++) if (d[i]! >= 0x80) return undefined;
    return latin1(d, start, start + n);
  }
  // hashed on the length and the last bytes (where MACs and counters differ); a hit compares them all
  let h = n;
  if (n >= 8) h = Math.imul(h ^ dv.getInt32(start + n - 4, true), 0x01000193) ^ Math.imul(dv.getInt32(start + n - 8, true), 0x5bd1e995);
  else if (n >= 4) h = Math.imul(h ^ dv.getInt32(start + n - 4, true), 0x01000193) ^ d[start]!;
  else for (let i = start; i < start + n; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (STRING_CACHE_SIZE - 1);
  const base = slot * MAX_CACHED_STRING;
  if (stringCacheLength[slot] === n) {
    let i = 0;
    // whole words, then the last (up to 3 bytes again) word; short ones by bytes
    if (n >= 4) {
      const last = n - 4;
      for (; i < last; i += 4) if (dv.getInt32(start + i, true) !== stringCacheView.getInt32(base + i, true)) break;
      if (i >= last && dv.getInt32(start + last, true) === stringCacheView.getInt32(base + last, true)) return stringCache[slot]!;
    } else {
      for (; i < n; i++) if (d[start + i] !== stringCacheBytes[base + i]) break;
      if (i === n) return stringCache[slot]!;
    }
  }
  for (let i = start, end = start + n; i < end; i++) if (d[i]! >= 0x80) return undefined;
  const s = n === 0 ? '' : latin1(d, start, start + n);
  for (let i = 0; i < n; i++) stringCacheBytes[base + i] = d[start + i]!;
  stringCacheLength[slot] = n;
  stringCache[slot] = s;
  return s;
}

/**
 * A decoder for one set of wanted fields. `decode` returns the batch's records with only those
 * fields (absent fields stay absent, as in a full decode), each carrying its full encoding, or
 * undefined when the message must be decoded in full.
 */
export class ProjectedDecoder {
  private readonly shapes: ShapeCache;

  constructor(fields: Iterable<string>) {
    // msgpackr renames a __proto__ key; never assign it here
    this.shapes = new ShapeCache(new Set([...fields].filter((f) => f !== '__proto__')));
  }

  decode(data: Uint8Array): Record<string, unknown>[] | undefined {
    try {
      return this.walk(data);
    } catch {
      // unexpected or truncated bytes: the full decoder gives the proper result (or error)
      return undefined;
    }
  }

  private walk(data: Uint8Array): Record<string, unknown>[] {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const w = new Walker(data, view);
    const t = data[0];
    let count: number;
    if (t === 0xdd) { count = view.getUint32(1); w.pos = 5; }
    else if (t === 0xdc) { count = view.getUint16(1); w.pos = 3; }
    else if (t !== undefined && t >= 0x90 && t < 0xa0) { count = t & 0x0f; w.pos = 1; }
    else throw BAIL;
    const out: Record<string, unknown>[] = new Array(count);
    const top = w.top;
    for (let r = 0; r < count;) {
      let tok = data[w.pos]!;
      let shape: Shape | undefined;
      if (tok === 0xd4 && data[w.pos + 1] === 0x72) {
        tok = data[w.pos + 2]!;
        if (tok < 0x40 || tok > 0x7e) throw BAIL;
        const k0 = w.pos + 3;
        w.pos = k0;
        w.skip();
        if (w.pos > data.length) throw BAIL;
        shape = this.shapes.get(data, k0, w.pos);
        top[tok & 0x3f] = shape;
      } else if (tok >= 0x40 && tok <= 0x7e) {
        shape = top[tok & 0x3f];
        if (shape === undefined) throw BAIL;
        w.pos++;
      } else throw BAIL;
      r = shape.project(data, w.pos, w, view, out, r, count, tok);
      if (!(w.pos <= data.length)) throw BAIL; // (NaN too)
    }
    if (w.pos !== data.length) throw BAIL;
    return out;
  }
}
