import { toNumber, toText, compare } from '../expr/values';
import { canonicalKey, hash64, hashLo } from './hash';
import { HyperLogLog, HLL_STANDARD_ERROR } from './hll';

/**
 * Aggregate accumulators. Each accumulator is a small plain object updated in place:
 *   add(value, ts, seq)  one input value with its event time (ms) and sequence (stream offset)
 *   merge(other)         fold in another accumulator of the same function (partial results
 *                        of other partitions, or restored state); the result equals one accumulator
 *                        fed with both inputs (exactly for all functions except the bounded
 *                        ones once they truncate, and COUNT_DISTINCT once it is a sketch)
 *   result()             the current output value
 *   toJSON()             JSON/msgpack-safe state; `AGGREGATES[fn].fromJSON(state, options)` restores it
 *
 * Null input values are ignored by every function (COUNT(*) counts records, not values).
 */
export interface Accumulator {
  add(value: unknown, ts: number, seq: number): void;
  merge(other: Accumulator): void;
  result(): unknown;
  toJSON(): unknown;
  /** True when a bounded function dropped input (COLLECT_SET/LIST, HISTOGRAM) or COUNT_DISTINCT became approximate. */
  readonly truncated: boolean;
}

export interface AggregateOptions {
  /** COLLECT_SET / COLLECT_LIST: most elements kept (default 1000). HISTOGRAM: most distinct values kept (default 1000). */
  max?: number;
  /** COUNT_DISTINCT: distinct values counted exactly before switching to a HyperLogLog sketch (default 10 000). */
  exactLimit?: number;
  /** EARLIEST/LATEST(_BY_OFFSET): skip null values (default true, as ksqlDB). */
  ignoreNulls?: boolean;
}

export type AggregateName =
  | 'COUNT' | 'SUM' | 'MIN' | 'MAX' | 'AVG' | 'COLLECT_SET' | 'COLLECT_LIST' | 'COUNT_DISTINCT' | 'HISTOGRAM'
  | 'EARLIEST' | 'LATEST' | 'EARLIEST_BY_OFFSET' | 'LATEST_BY_OFFSET' | 'WINDOWSTART' | 'WINDOWEND';

export interface AggregateFactory {
  name: AggregateName;
  /** Whether the function takes an argument expression. */
  arg: 'none' | 'optional' | 'required';
  doc: string;
  create(options: AggregateOptions): Accumulator;
  fromJSON(state: unknown, options: AggregateOptions): Accumulator;
}

export const DEFAULT_COLLECT_MAX = 1000;
export const DEFAULT_HISTOGRAM_MAX = 1000;
export const DEFAULT_EXACT_DISTINCT_LIMIT = 10_000;

// ---------------------------------------------------------------- COUNT
export class CountAcc implements Accumulator {
  constructor(public n = 0) {}
  get truncated(): boolean {
    return false;
  }
  add(v: unknown, _ts?: number, _seq?: number): void {
    if (v !== null && v !== undefined) this.n++;
  }
  merge(o: CountAcc): void {
    this.n += o.n;
  }
  result(): number {
    return this.n;
  }
  toJSON(): unknown {
    return { n: this.n };
  }
}

// ---------------------------------------------------------------- SUM / AVG
export class SumAcc implements Accumulator {
  constructor(public s = 0, public n = 0) {}
  get truncated(): boolean {
    return false;
  }
  add(v: unknown, _ts?: number, _seq?: number): void {
    if (typeof v === 'number') {
      if (v === v) {
        this.s += v;
        this.n++;
      }
      return;
    }
    const x = toNumber(v);
    if (x !== null) {
      this.s += x;
      this.n++;
    }
  }
  merge(o: SumAcc): void {
    this.s += o.s;
    this.n += o.n;
  }
  result(): unknown {
    return this.s;
  }
  toJSON(): unknown {
    return { s: this.s, n: this.n };
  }
}
export class AvgAcc extends SumAcc {
  override result(): unknown {
    return this.n === 0 ? null : this.s / this.n;
  }
}

// ---------------------------------------------------------------- MIN / MAX
/** Order used by MIN/MAX across kinds: numbers < strings < booleans < other (JSON text order). */
function kindRank(v: unknown): number {
  const t = typeof v;
  return t === 'number' || t === 'bigint' ? 0 : t === 'string' ? 1 : t === 'boolean' ? 2 : 3;
}
export function totalCompare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const ra = kindRank(a), rb = kindRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) {
    const x = JSON.stringify(a), y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const c = compare(a, b);
  return Number.isNaN(c) ? 0 : c;
}
export class MinMaxAcc implements Accumulator {
  constructor(public readonly isMax: boolean, public v: unknown = null) {}
  get truncated(): boolean {
    return false;
  }
  add(x: unknown, _ts?: number, _seq?: number): void {
    if (x === null || x === undefined || x !== x) return;
    const v = this.v;
    if (v === null) {
      this.v = x;
      return;
    }
    if (typeof x === 'number' && typeof v === 'number') {
      if (this.isMax ? x > v : x < v) this.v = x;
      return;
    }
    const c = totalCompare(x, v);
    if (this.isMax ? c > 0 : c < 0) this.v = x;
  }
  merge(o: MinMaxAcc): void {
    if (o.v !== null) this.add(o.v);
  }
  result(): unknown {
    return this.v;
  }
  toJSON(): unknown {
    return { v: this.v };
  }
}

// ---------------------------------------------------------------- COLLECT_SET / COLLECT_LIST
function setKey(v: unknown): unknown {
  return typeof v === 'object' ? canonicalKey(v) : v;
}
/** Below this many distinct values, sets are plain arrays scanned linearly (smaller and faster than a Set). */
const SMALL = 8;

export class CollectSetAcc implements Accumulator {
  items: unknown[] = [];
  /** keys of items, built once there are more than SMALL */
  seen: Set<unknown> | null = null;
  truncated = false;
  constructor(public readonly max: number) {}
  add(v: unknown, _ts?: number, _seq?: number): void {
    if (v === null || v === undefined) return;
    const k = typeof v === 'object' ? canonicalKey(v) : v;
    const items = this.items;
    const seen = this.seen;
    if (seen === null) {
      for (let i = 0; i < items.length; i++) {
        const x = items[i];
        if (x === k || (typeof x === 'object' && canonicalKey(x) === k)) return;
      }
      const n = items.length;
      if (n >= this.max) {
        this.truncated = true;
        return;
      }
      if (n < SMALL) {
        // grown one item at a time while small (push would reserve room for 16 more): rows in
        // memory are what the young-generation collector copies
        const next = new Array<unknown>(n + 1);
        for (let i = 0; i < n; i++) next[i] = items[i];
        next[n] = v;
        this.items = next;
        return;
      }
      items.push(v);
      this.seen = new Set(items.map(setKey));
      return;
    }
    if (items.length < this.max) {
      const n = seen.size;
      seen.add(k);
      if (seen.size !== n) items.push(v);
    } else if (!seen.has(k)) this.truncated = true;
  }
  merge(o: CollectSetAcc): void {
    for (let i = 0; i < o.items.length; i++) this.add(o.items[i]);
    if (o.truncated) this.truncated = true;
  }
  result(): unknown {
    return this.items.slice();
  }
  toJSON(): unknown {
    return this.truncated ? { items: this.items, t: true } : { items: this.items };
  }
}
export class CollectListAcc implements Accumulator {
  items: unknown[] = [];
  truncated = false;
  constructor(public readonly max: number) {}
  add(v: unknown, _ts?: number, _seq?: number): void {
    if (v === null || v === undefined) return;
    if (this.items.length >= this.max) {
      this.truncated = true;
      return;
    }
    this.items.push(v);
  }
  merge(o: CollectListAcc): void {
    for (let i = 0; i < o.items.length; i++) this.add(o.items[i]);
    if (o.truncated) this.truncated = true;
  }
  result(): unknown {
    return this.items.slice();
  }
  toJSON(): unknown {
    return this.truncated ? { items: this.items, t: true } : { items: this.items };
  }
}

// ---------------------------------------------------------------- COUNT_DISTINCT
/**
 * Up to this many distinct hashes are kept as a plain array of (hi, lo) pairs scanned linearly:
 * most rows count a handful of values (a device's destinations, its SSIDs), and such an array takes
 * tens of bytes where the open-addressing table takes a few hundred (rows in memory are what the
 * young-generation collector copies).
 */
const SMALL_DISTINCT = 8;

/**
 * Distinct values are kept as their 64-bit hashes (`hash64` of `canonicalKey(v)`): up to
 * SMALL_DISTINCT in first-seen order (the first in two fields, the others in a small array), then
 * in an open-addressing table (two 32-bit words per value, no strings retained): exact up to
 * `exactLimit` distinct values except for 64-bit hash collisions (probability ≈ n²/2⁶⁵, about 3·10⁻¹² at 10 000 values). Beyond the
 * limit the same hashes feed a HyperLogLog sketch (p = 14, standard error ≈ 0.81 %). `truncated`
 * reports that the count is approximate.
 */
export class CountDistinctAcc implements Accumulator {
  /** exact mode, at most SMALL_DISTINCT values (no table): the first hash, when size ≥ 1 (most rows count one value) */
  h0 = 0;
  l0 = 0;
  /** exact mode, at most SMALL_DISTINCT values: the further hashes as (hi, lo) pairs, exactly as long as it holds */
  small: number[] | null = null;
  /** exact mode, more values: pairs (hi, lo) of hashes; (0, 0) marks an empty slot */
  table: Int32Array | null = null;
  /** number of distinct hashes (h0/l0 and `small`, or `table`) */
  size = 0;
  /** approximate mode */
  hll: HyperLogLog | null = null;
  constructor(public readonly limit: number) {}
  get truncated(): boolean {
    return this.hll !== null;
  }
  /** Relative standard error of result(): 0 while exact. */
  get standardError(): number {
    return this.hll ? HLL_STANDARD_ERROR : 0;
  }
  add(v: unknown, _ts?: number, _seq?: number): void {
    if (v === null || v === undefined) return;
    const hi = hash64(typeof v === 'string' ? v : canonicalKey(v));
    this.addHash(hi | 0, hashLo() | 0);
  }
  /** Add a value by its 64-bit hash (signed or unsigned 32-bit halves). */
  addHash(hi: number, lo: number): void {
    if (this.hll !== null) {
      this.hll.addHash(hi, lo);
      return;
    }
    hi |= 0;
    lo |= 0;
    if (hi === 0 && lo === 0) lo = 1;
    let t = this.table;
    if (t === null) {
      if (this.size === 0) {
        this.h0 = hi;
        this.l0 = lo;
        this.size = 1;
        if (this.size > this.limit) this.toSketch();
        return;
      }
      if (this.h0 === hi && this.l0 === lo) return;
      const s = this.small;
      const n = s === null ? 0 : s.length;
      for (let i = 0; i < n; i += 2) if (s![i] === hi && s![i + 1] === lo) return;
      if (n < 2 * (SMALL_DISTINCT - 1)) {
        // grown one pair at a time: push would reserve room for 16 more elements
        const next = new Array<number>(n + 2);
        for (let i = 0; i < n; i++) next[i] = s![i];
        next[n] = hi;
        next[n + 1] = lo;
        this.small = next;
        this.size++;
        if (this.size > this.limit) this.toSketch();
        return;
      }
      t = this.toTable();
    }
    const mask = (t.length >> 1) - 1;
    let i = lo & mask;
    for (;;) {
      const h = t[2 * i], l = t[2 * i + 1];
      if (h === 0 && l === 0) break;
      if (h === hi && l === lo) return;
      i = (i + 1) & mask;
    }
    t[2 * i] = hi;
    t[2 * i + 1] = lo;
    this.size++;
    if (this.size > this.limit) this.toSketch();
    else if (this.size * 2 > mask + 1) this.grow();
  }
  /** The small array's hashes into a table (past SMALL_DISTINCT values). */
  private toTable(): Int32Array {
    const x = this.hashes();
    this.small = null;
    this.size = 0;
    this.table = new Int32Array(4 * SMALL_DISTINCT);
    for (let i = 0; i < x.length; i += 2) this.addHash(x[i], x[i + 1]);
    return this.table;
  }
  private grow(): void {
    const old = this.table!;
    this.table = new Int32Array(old.length * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.addHash(old[i], old[i + 1]);
  }
  private toSketch(): void {
    const h = new HyperLogLog();
    const x = this.hashes();
    for (let i = 0; i < x.length; i += 2) h.addHash(x[i], x[i + 1]);
    this.table = null;
    this.small = null;
    this.size = 0;
    this.hll = h;
  }
  /** The exact hashes as a flat [hi, lo, hi, lo, …] list (empty once approximate). */
  hashes(): number[] {
    const out: number[] = [];
    const t = this.table;
    if (t === null && this.hll === null && this.size > 0) {
      out.push(this.h0, this.l0);
      const s = this.small;
      if (s !== null) for (let i = 0; i < s.length; i++) out.push(s[i]);
    }
    if (t !== null) for (let i = 0; i < t.length; i += 2) if (t[i] !== 0 || t[i + 1] !== 0) out.push(t[i], t[i + 1]);
    return out;
  }
  merge(o: CountDistinctAcc): void {
    if (o.hll === null) {
      const x = o.hashes();
      for (let i = 0; i < x.length; i += 2) this.addHash(x[i], x[i + 1]);
      return;
    }
    if (this.hll === null) this.toSketch();
    this.hll!.merge(o.hll);
  }
  result(): number {
    return this.hll === null ? this.size : Math.round(this.hll.estimate());
  }
  toJSON(): unknown {
    return this.hll === null ? { x: this.hashes() } : { hll: this.hll.toBase64() };
  }
}

// ---------------------------------------------------------------- HISTOGRAM
export class HistogramAcc implements Accumulator {
  counts = new Map<string, number>();
  truncated = false;
  constructor(public readonly max: number) {}
  add(v: unknown, _ts?: number, _seq?: number, n = 1): void {
    if (v === null || v === undefined) return;
    const k = typeof v === 'string' ? v : (toText(v) as string);
    const c = this.counts.get(k);
    if (c !== undefined) this.counts.set(k, c + n);
    else if (this.counts.size >= this.max) this.truncated = true;
    else this.counts.set(k, n);
  }
  merge(o: HistogramAcc): void {
    for (const [k, c] of o.counts) this.add(k, 0, 0, c);
    if (o.truncated) this.truncated = true;
  }
  result(): unknown {
    const out: Record<string, number> = {};
    for (const [k, c] of this.counts) out[k] = c;
    return out;
  }
  toJSON(): unknown {
    const r = { h: this.result() } as { h: unknown; t?: boolean };
    if (this.truncated) r.t = true;
    return r;
  }
}

// ---------------------------------------------------------------- EARLIEST / LATEST
/**
 * mode 0 EARLIEST (smallest event time, then smallest seq), 1 LATEST (largest event time, then
 * largest seq; on a full tie the value added last wins), 2 EARLIEST_BY_OFFSET (smallest seq),
 * 3 LATEST_BY_OFFSET (largest seq; ties: added last wins).
 */
export class PickAcc implements Accumulator {
  has = false;
  v: unknown = null;
  ts = 0;
  seq = 0;
  constructor(public readonly mode: 0 | 1 | 2 | 3, public readonly ignoreNulls: boolean) {}
  get truncated(): boolean {
    return false;
  }
  add(v: unknown, ts: number, seq: number): void {
    if ((v === null || v === undefined) && this.ignoreNulls) return;
    if (this.has) {
      switch (this.mode) {
        case 0:
          if (ts > this.ts || (ts === this.ts && seq >= this.seq)) return;
          break;
        case 1:
          if (ts < this.ts || (ts === this.ts && seq < this.seq)) return;
          break;
        case 2:
          if (seq >= this.seq) return;
          break;
        case 3:
          if (seq < this.seq) return;
          break;
      }
    }
    this.has = true;
    this.v = v === undefined ? null : v;
    this.ts = ts;
    this.seq = seq;
  }
  merge(o: PickAcc): void {
    if (o.has) this.add(o.v, o.ts, o.seq);
  }
  result(): unknown {
    return this.v;
  }
  toJSON(): unknown {
    return this.has ? { v: this.v, ts: this.ts, seq: this.seq } : {};
  }
}

export class NoAcc implements Accumulator {
  get truncated(): boolean {
    return false;
  }
  add(): void {}
  merge(): void {}
  result(): unknown {
    return null;
  }
  toJSON(): unknown {
    return {};
  }
}

type J = Record<string, unknown>;
const obj = (s: unknown): J => (s !== null && typeof s === 'object' ? (s as J) : {});
const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);

function pick(name: AggregateName, mode: 0 | 1 | 2 | 3, doc: string): AggregateFactory {
  return {
    name, arg: 'required', doc,
    create: (o) => new PickAcc(mode, o.ignoreNulls ?? true),
    fromJSON: (s, o) => {
      const a = new PickAcc(mode, o.ignoreNulls ?? true);
      const j = obj(s);
      if ('ts' in j) {
        a.has = true;
        a.v = j.v ?? null;
        a.ts = num(j.ts);
        a.seq = num(j.seq);
      }
      return a;
    },
  };
}

export const AGGREGATES: Record<AggregateName, AggregateFactory> = {
  COUNT: {
    name: 'COUNT', arg: 'optional', doc: 'COUNT: records in the group; COUNT(x): records where x is not null.',
    create: () => new CountAcc(),
    fromJSON: (s) => new CountAcc(num(obj(s).n)),
  },
  SUM: {
    name: 'SUM', arg: 'required', doc: 'SUM(x): sum of the numeric values (0 when there are none, as ksqlDB).',
    create: () => new SumAcc(),
    fromJSON: (s) => new SumAcc(num(obj(s).s), num(obj(s).n)),
  },
  AVG: {
    name: 'AVG', arg: 'required', doc: 'AVG(x): mean of the numeric values (null when there are none).',
    create: () => new AvgAcc(),
    fromJSON: (s) => new AvgAcc(num(obj(s).s), num(obj(s).n)),
  },
  MIN: {
    name: 'MIN', arg: 'required', doc: 'MIN(x): smallest value (numbers, strings; across kinds numbers < strings < booleans).',
    create: () => new MinMaxAcc(false),
    fromJSON: (s) => new MinMaxAcc(false, obj(s).v ?? null),
  },
  MAX: {
    name: 'MAX', arg: 'required', doc: 'MAX(x): largest value.',
    create: () => new MinMaxAcc(true),
    fromJSON: (s) => new MinMaxAcc(true, obj(s).v ?? null),
  },
  COLLECT_SET: {
    name: 'COLLECT_SET', arg: 'required', doc: 'COLLECT_SET(x): distinct values in first-seen order, at most `max` (default 1000; further values are dropped and the column is flagged truncated).',
    create: (o) => new CollectSetAcc(o.max ?? DEFAULT_COLLECT_MAX),
    fromJSON: (s, o) => {
      const a = new CollectSetAcc(o.max ?? DEFAULT_COLLECT_MAX);
      const j = obj(s);
      const items = Array.isArray(j.items) ? j.items : [];
      a.items = items.slice();
      if (a.items.length > SMALL) a.seen = new Set(a.items.map(setKey));
      a.truncated = j.t === true;
      return a;
    },
  },
  COLLECT_LIST: {
    name: 'COLLECT_LIST', arg: 'required', doc: 'COLLECT_LIST(x): values in arrival order (merge appends), at most `max` (default 1000, then flagged truncated).',
    create: (o) => new CollectListAcc(o.max ?? DEFAULT_COLLECT_MAX),
    fromJSON: (s, o) => {
      const a = new CollectListAcc(o.max ?? DEFAULT_COLLECT_MAX);
      const j = obj(s);
      a.items = Array.isArray(j.items) ? j.items.slice() : [];
      a.truncated = j.t === true;
      return a;
    },
  },
  COUNT_DISTINCT: {
    name: 'COUNT_DISTINCT', arg: 'required', doc: 'COUNT_DISTINCT(x): number of distinct values; exact (64-bit value hashes) up to `exactLimit` (default 10 000), then a HyperLogLog estimate (standard error 0.81 %).',
    create: (o) => new CountDistinctAcc(o.exactLimit ?? DEFAULT_EXACT_DISTINCT_LIMIT),
    fromJSON: (s, o) => {
      const a = new CountDistinctAcc(o.exactLimit ?? DEFAULT_EXACT_DISTINCT_LIMIT);
      const j = obj(s);
      if (typeof j.hll === 'string') a.hll = HyperLogLog.fromBase64(j.hll);
      else if (Array.isArray(j.x)) for (let i = 0; i + 1 < j.x.length; i += 2) a.addHash(num(j.x[i]), num(j.x[i + 1]));
      return a;
    },
  },
  HISTOGRAM: {
    name: 'HISTOGRAM', arg: 'required', doc: 'HISTOGRAM(x): map of value text → count, at most `max` distinct values (default 1000, then flagged truncated).',
    create: (o) => new HistogramAcc(o.max ?? DEFAULT_HISTOGRAM_MAX),
    fromJSON: (s, o) => {
      const a = new HistogramAcc(o.max ?? DEFAULT_HISTOGRAM_MAX);
      const j = obj(s);
      for (const [k, c] of Object.entries(obj(j.h))) a.counts.set(k, num(c));
      a.truncated = j.t === true;
      return a;
    },
  },
  EARLIEST: pick('EARLIEST', 0, 'EARLIEST(x): value of the record with the smallest event time (ties: smallest seq).'),
  LATEST: pick('LATEST', 1, 'LATEST(x): value of the record with the largest event time (ties: largest seq, then the last added).'),
  EARLIEST_BY_OFFSET: pick('EARLIEST_BY_OFFSET', 2, 'EARLIEST_BY_OFFSET(x): value of the record with the smallest seq (stream offset).'),
  LATEST_BY_OFFSET: pick('LATEST_BY_OFFSET', 3, 'LATEST_BY_OFFSET(x): value of the record with the largest seq (stream offset).'),
  WINDOWSTART: {
    name: 'WINDOWSTART', arg: 'none', doc: "WINDOWSTART: the window's start (epoch ms; null without a window).",
    create: () => new NoAcc(), fromJSON: () => new NoAcc(),
  },
  WINDOWEND: {
    name: 'WINDOWEND', arg: 'none', doc: "WINDOWEND: the window's end (exclusive, epoch ms; for session windows the last event time, as ksqlDB).",
    create: () => new NoAcc(), fromJSON: () => new NoAcc(),
  },
};

/** Look up an aggregate function by name (case-insensitive). */
export function aggregateFactory(fn: string): AggregateFactory | undefined {
  return (AGGREGATES as Record<string, AggregateFactory>)[fn.toUpperCase()];
}
