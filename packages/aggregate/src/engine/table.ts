import { compileExpression, compilePredicate, type CompiledExpr, type Rec } from '../expr/compile';
import { ExpressionError } from '../expr/errors';
import { toMillis } from '../expr/values';
import {
  aggregateFactory, CollectSetAcc, CountAcc, CountDistinctAcc, MinMaxAcc, PickAcc, SumAcc,
  type Accumulator, type AggregateFactory, type AggregateOptions,
} from './aggregates';
import { RecordShape, type MsgpackWriter } from './msgpack-writer';
import { hash64, hashLo } from './hash';
import { KeyFingerprints } from './key-set';
import { decodeKey, encodeGroupKey, internalKey, internalKey1, internalKeyN, KeyTrie, windowKeySuffix } from './keys';
import { latestWindowStart, normalizeWindow, TimeHeap, type NormalizedWindow, type WindowSpec } from './windows';

/** One output column computed by an aggregate function. */
export interface AggregateColumn {
  /** Output column name. */
  name: string;
  /** COUNT, SUM, MIN, MAX, AVG, COLLECT_SET, COLLECT_LIST, COUNT_DISTINCT, HISTOGRAM, EARLIEST, LATEST, EARLIEST_BY_OFFSET, LATEST_BY_OFFSET, WINDOWSTART, WINDOWEND (case-insensitive). */
  fn: string;
  /** Argument expression (omit for COUNT(*), WINDOWSTART, WINDOWEND). */
  arg?: string;
  options?: AggregateOptions;
}

export interface AggregationSpec {
  /** Group key expressions; "expr AS name" names the output column (default: the field name, dots → "_"; else group_<i>). */
  groupBy: string[];
  window?: WindowSpec;
  /** Event time expression (epoch ms, ISO text or Date). Default: ingest time (the `ingestTs` given to add, else the clock). */
  timestamp?: string;
  aggregates: AggregateColumn[];
  /** Only records for which this is true are aggregated. */
  where?: string;
  /** 'changes': every changed row is emitted by drainChanges (default); 'final': one row per window when it closes. */
  emit?: 'changes' | 'final';
  /** With emit 'changes': emit one key at most once per debounceMs of wall-clock time (default 0: every drain). */
  debounceMs?: number;
}

export interface EngineOptions {
  /** Wall clock (ms) for ingest time, idle close and debounce. Default Date.now. */
  clock?: () => number;
  /**
   * Running totals (window none) only: most rows held in memory. `coolDown()` drops the least
   * recently updated clean rows beyond it (their committed state lives in KV) and remembers their
   * keys as fingerprints; a record of such a key must be preceded by `coldKeys()` → load → `warm()`.
   * Default: no bound.
   */
  maxRows?: number;
}

/** One row of the materialized table, as emitted. */
export interface Change {
  /** External key (see keys.ts): NATS-KV-safe, unique per group values and window. */
  key: string;
  groupValues: Record<string, unknown>;
  windowStart?: number;
  windowEnd?: number;
  /** Group columns, then aggregate columns. */
  row: Record<string, unknown>;
  /** True when the window is closed: this is the row's last version. */
  final: boolean;
  /** True when the key no longer exists (a session window merged into another or moved its start). row is {}. */
  deleted?: boolean;
  /** Aggregate columns whose bounded state dropped input or became approximate. */
  truncated?: string[];
}

/** A changed row handed out by Aggregator.drainPersistRows (its external key; the rest is the engine's). */
export interface PersistRow {
  readonly key: string;
}

/** What add() did with a record. */
export type AddResult = 'added' | 'filtered' | 'late' | 'invalid';

/** Serialisable state of one group (one row), e.g. the value of its KV entry. JSON/msgpack safe. */
export interface GroupSnapshot {
  key: string;
  /** group values */
  g: unknown[];
  /** window start / end (absent without window) */
  s?: number;
  e?: number;
  /** last event time seen */
  l: number;
  /** closed */
  c?: 1;
  /** accumulator states, in aggregate column order */
  a: unknown[];
}

export interface AggregatorSnapshot {
  v: 1;
  streamTime: number;
  closedThrough: number;
  /** largest seq passed to add() */
  maxSeq: number;
  groups: GroupSnapshot[];
}

export interface AggregatorMetrics {
  records: number;
  filtered: number;
  late: number;
  invalid: number;
  /** window assignments dropped because that window was closed (hopping: some windows of a record may be closed) */
  lateAssignments: number;
  groups: number;
  closed: number;
  evicted: number;
  /** rows held in KV only (maxRows) */
  cold: number;
}

/** A spec error: `path` names the offending spec field (e.g. "aggregates[2].arg"); `cause` may be an ExpressionError with a position. */
export class AggregationSpecError extends Error {
  constructor(message: string, readonly path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AggregationSpecError';
  }
}

class KeyState {
  /** Windows of this key, ascending by start (one entry without window). */
  windows: Group[] = [];
  /** Without window: the key's only group (same as windows[0]; saves a load on the hot path). */
  only: Group | undefined = undefined;
  private _prefix: string | undefined = undefined;
  constructor(readonly ikey: string, readonly values: unknown[]) {}
  /** External key of the group values (computed on first use: most keys are only ever aggregated in between emits). */
  get prefix(): string {
    return (this._prefix ??= encodeGroupKey(this.values));
  }
}

/**
 * Times that only windowed groups and debounced emits use. Apart from the group, so that a row of
 * running totals carries none of them: each number field of an object holds a heap box of its own,
 * and the rows in memory are what the young-generation collector copies.
 */
class GroupTimes {
  start = NaN;
  end = NaN;
  closeAt = Infinity;
  lastEmitWall = -Infinity;
}

class Group {
  lastTs = -Infinity;
  closed = false;
  dead = false;
  emitDirty = false;
  persistDirty = false;
  /** updated since the last coolDown pass looked at it (the CLOCK bit) */
  recent = true;
  /** key under which the row was last emitted / persisted (to delete it if the key moves) */
  emittedKey: string | undefined;
  persistedKey: string | undefined;
  private _key: string | undefined = undefined;
  /** window bounds, close time, last debounced emit: made when one is set (see GroupTimes) */
  private times: GroupTimes | undefined = undefined;
  constructor(readonly ks: KeyState, public accs: Accumulator[]) {}
  /** Window start (NaN without window). */
  get start(): number {
    return this.times === undefined ? NaN : this.times.start;
  }
  set start(v: number) {
    (this.times ??= new GroupTimes()).start = v;
  }
  /** Window end (NaN without window). */
  get end(): number {
    return this.times === undefined ? NaN : this.times.end;
  }
  set end(v: number) {
    (this.times ??= new GroupTimes()).end = v;
  }
  /** close time the heap entry was pushed for */
  get closeAt(): number {
    return this.times === undefined ? Infinity : this.times.closeAt;
  }
  set closeAt(v: number) {
    (this.times ??= new GroupTimes()).closeAt = v;
  }
  /** wall clock of the last emit (kept with debounceMs only) */
  get lastEmitWall(): number {
    return this.times === undefined ? -Infinity : this.times.lastEmitWall;
  }
  set lastEmitWall(v: number) {
    (this.times ??= new GroupTimes()).lastEmitWall = v;
  }
  /** External key: group key plus window start (computed lazily, reset when a session's start moves). */
  get key(): string {
    return (this._key ??= this.start === this.start ? this.ks.prefix + windowKeySuffix(this.start) : this.ks.prefix);
  }
  resetKey(): void {
    this._key = undefined;
  }
}

interface Col {
  name: string;
  factory: AggregateFactory;
  options: AggregateOptions;
  arg: ((r: Rec) => unknown) | undefined;
  /** 0 normal, 1 WINDOWSTART, 2 WINDOWEND */
  special: 0 | 1 | 2;
}

// Accumulator kinds, dispatched with a switch in apply() so that every call site is monomorphic.
const K_OTHER = 0, K_COUNT = 1, K_SUM = 2, K_MINMAX = 3, K_SET = 4, K_DISTINCT = 5, K_PICK = 6, K_NONE = 7;
const KIND_OF: Record<string, number> = {
  COUNT: K_COUNT, SUM: K_SUM, AVG: K_SUM, MIN: K_MINMAX, MAX: K_MINMAX, COLLECT_SET: K_SET, COUNT_DISTINCT: K_DISTINCT,
  EARLIEST: K_PICK, LATEST: K_PICK, EARLIEST_BY_OFFSET: K_PICK, LATEST_BY_OFFSET: K_PICK, WINDOWSTART: K_NONE, WINDOWEND: K_NONE,
};

// Shapes of the persisted state as objects (GroupSnapshot, accumulator toJSON), keys in the order
// those objects are built in, for writeGroupState.
const RS_SNAP = new RecordShape(['key', 'g', 'l', 'a']), RS_SNAP_C = new RecordShape(['key', 'g', 'l', 'a', 'c']);
const RS_SNAP_W = new RecordShape(['key', 'g', 'l', 'a', 's', 'e']), RS_SNAP_WC = new RecordShape(['key', 'g', 'l', 'a', 's', 'e', 'c']);
const RS_COUNT = new RecordShape(['n']), RS_SUM = new RecordShape(['s', 'n']), RS_V = new RecordShape(['v']);
const RS_ITEMS = new RecordShape(['items']), RS_ITEMS_T = new RecordShape(['items', 't']);
const RS_X = new RecordShape(['x']), RS_HLL = new RecordShape(['hll']), RS_PICK = new RecordShape(['v', 'ts', 'seq']), RS_EMPTY = new RecordShape([]);

const AS_RE = /^([\s\S]*?)\s+AS\s+(`(?:[^`]|``)+`|[A-Za-z_$][A-Za-z0-9_$]*)\s*$/i;

/** The expression of a group key written "expr AS name" (the whole text when it has no alias). */
export function groupKeySource(g: string): string {
  return AS_RE.exec(g)?.[1] ?? g;
}

function compileAt(src: string, path: string): CompiledExpr {
  try {
    return compileExpression(src);
  } catch (e) {
    if (e instanceof ExpressionError) throw new AggregationSpecError(`${path}: ${e.message}`, path, { cause: e });
    throw e;
  }
}

/**
 * A materialized, optionally windowed aggregation table for one partition.
 *
 *   add(record, seq)     aggregate one record; returns 'late' for a record whose windows are all closed
 *   drainChanges()       rows changed since the last drain (emit 'changes'), each key once
 *   closeUpTo(wm?)       close windows whose close time ≤ wm (default: the aggregator's watermark) → final rows
 *   advanceWallClock(t)  idle close (window.idleClose) → final rows
 *   drainPersist()       group states changed since the last call (to write to KV) and keys to delete
 *   snapshot()/restore() whole state; exportGroup()/importGroups() per key
 */
export class Aggregator {
  readonly spec: AggregationSpec;
  readonly window: NormalizedWindow;
  readonly groupNames: string[];
  private readonly cols: Col[];
  private readonly nAcc: number;
  private readonly groupFns: ((r: Rec) => unknown)[];
  private readonly where: ((r: Rec) => boolean) | undefined;
  private readonly timeFn: ((r: Rec) => unknown) | undefined;
  private readonly clock: () => number;
  private readonly emitFinalOnly: boolean;
  private readonly debounceMs: number;

  private keys = new Map<string, KeyState>();
  /** Without window: internal key → the key's only group (the hot path skips KeyState). */
  private flat: Map<string, Group> | undefined;
  /** With several group columns: their values → key state, without building the key text (see KeyTrie). */
  private readonly trie: KeyTrie<KeyState> | undefined;
  /** With several group columns: the current record's group values (reused; copied for a new key). */
  private readonly gv: unknown[];
  /** With several group columns: the key of the last record (until it is removed). */
  private lastKey: KeyState | undefined;
  private closeHeap = new TimeHeap<Group>();
  private evictHeap = new TimeHeap<Group>();
  private emitQueue: Group[] = [];
  private persistQueue: Group[] = [];
  private emitDeletes: string[] = [];
  private persistDeletes: string[] = [];
  private readonly argVals: unknown[];
  /** rowOf: a row's values (group columns, then aggregate columns), and the objects made of them */
  private readonly rowVals: unknown[];
  private readonly makeRow: (values: readonly unknown[]) => Record<string, unknown>;
  private readonly makeGroupValues: (values: readonly unknown[]) => Record<string, unknown>;
  /** distinct argument expressions (by source text), evaluated once per record */
  private readonly argFns: ((r: Rec) => unknown)[];
  /** per column: index into argVals */
  private readonly argIdx: Int32Array;
  /** slot of argVals holding the timestamp expression's value (0: no argument is that expression) */
  private readonly tsSlot: number;
  /** per column: accumulator kind */
  private readonly kinds: Uint8Array;
  /** hash64 of recent COUNT_DISTINCT string values (they repeat: SSIDs, destinations) */
  private readonly distinctHashes = new HashMemo();
  private groupCount = 0;
  /** maxRows: the bound, the keys of rows in KV only, and every resident group in CLOCK order */
  private readonly maxRows: number;
  private readonly cold: KeyFingerprints | undefined;
  private ring: Group[] = [];
  private hand = 0;

  /** Largest event time seen. */
  streamTime = -Infinity;
  /** Windows whose close time ≤ this are closed (max watermark passed to closeUpTo). */
  closedThrough = -Infinity;
  /** Largest seq given to add(). Redelivered input with seq ≤ maxSeq was already counted. */
  maxSeq = -Infinity;
  private lastArrivalWall = NaN;
  private lastTtlSweep = -Infinity;
  private readonly m: AggregatorMetrics = { records: 0, filtered: 0, late: 0, invalid: 0, lateAssignments: 0, groups: 0, closed: 0, evicted: 0, cold: 0 };

  constructor(spec: AggregationSpec, options: EngineOptions = {}) {
    this.spec = spec;
    this.clock = options.clock ?? Date.now;
    try {
      this.window = normalizeWindow(spec.window);
    } catch (e) {
      throw new AggregationSpecError((e as Error).message, (e as { path?: string }).path ?? 'window', { cause: e });
    }
    if (!Array.isArray(spec.groupBy)) throw new AggregationSpecError('groupBy must be a list of expressions', 'groupBy');
    this.groupNames = [];
    this.groupFns = spec.groupBy.map((g, i) => {
      const m = AS_RE.exec(g);
      const src = m ? m[1] : g;
      const e = compileAt(src, `groupBy[${i}]`);
      let name = m ? m[2].replace(/^`|`$/g, '').replace(/``/g, '`') : undefined;
      if (!name) {
        const t = src.trim();
        if (/^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/.test(t)) name = t.replace(/\./g, '_');
        else if (/^`[^`]+`$/.test(t)) name = t.slice(1, -1);
        else name = `group_${i}`;
      }
      if (this.groupNames.includes(name)) throw new AggregationSpecError(`groupBy[${i}]: duplicate column name '${name}' (use "expr AS name")`, `groupBy[${i}]`);
      this.groupNames.push(name);
      return e.evaluate;
    });
    if (!Array.isArray(spec.aggregates) || spec.aggregates.length === 0) throw new AggregationSpecError('aggregates must list at least one column', 'aggregates');
    const names = new Set(this.groupNames);
    this.cols = spec.aggregates.map((a, i) => {
      const path = `aggregates[${i}]`;
      const factory = aggregateFactory(String(a.fn ?? ''));
      if (!factory) throw new AggregationSpecError(`${path}.fn: unknown aggregate function '${a.fn}'`, `${path}.fn`);
      if (!a.name) throw new AggregationSpecError(`${path}.name is required`, `${path}.name`);
      if (names.has(a.name)) throw new AggregationSpecError(`${path}.name: duplicate column '${a.name}'`, `${path}.name`);
      names.add(a.name);
      if (factory.arg === 'required' && (a.arg === undefined || a.arg === '')) throw new AggregationSpecError(`${path}: ${factory.name} needs an argument (arg)`, `${path}.arg`);
      if (factory.arg === 'none' && a.arg !== undefined) throw new AggregationSpecError(`${path}: ${factory.name} takes no argument`, `${path}.arg`);
      const arg = a.arg !== undefined && a.arg !== '*' ? compileAt(a.arg, `${path}.arg`).evaluate : undefined;
      const special = factory.name === 'WINDOWSTART' ? 1 : factory.name === 'WINDOWEND' ? 2 : 0;
      return { name: a.name, factory, options: a.options ?? {}, arg, special };
    });
    this.nAcc = this.cols.length;
    this.rowVals = new Array(this.groupNames.length + this.nAcc).fill(null);
    this.makeRow = objectMaker([...this.groupNames, ...this.cols.map((c) => c.name)]);
    this.makeGroupValues = objectMaker(this.groupNames);
    // one evaluation per distinct argument text; slot 0 is the constant `true` (COUNT(*)); an
    // argument written as the timestamp expression (EARLIEST(ts) with timestamp ts) takes the value
    // that expression gave for the record, in the last slot (tsSlot)
    const argSlots = new Map<string, number>();
    this.argFns = [];
    this.argIdx = new Int32Array(this.nAcc);
    this.kinds = new Uint8Array(this.nAcc);
    const tsText = spec.timestamp ? String(spec.timestamp).trim() : undefined;
    const tsCols: number[] = [];
    spec.aggregates.forEach((a, i) => {
      this.kinds[i] = KIND_OF[this.cols[i].factory.name] ?? K_OTHER;
      const f = this.cols[i].arg;
      if (f === undefined) return;
      const text = String(a.arg).trim();
      if (text === tsText) {
        tsCols.push(i);
        return;
      }
      let slot = argSlots.get(text);
      if (slot === undefined) {
        slot = this.argFns.length + 1;
        argSlots.set(text, slot);
        this.argFns.push(f);
      }
      this.argIdx[i] = slot;
    });
    this.tsSlot = tsCols.length > 0 ? this.argFns.length + 1 : 0;
    for (const i of tsCols) this.argIdx[i] = this.tsSlot;
    this.argVals = new Array(this.argFns.length + 1 + (this.tsSlot > 0 ? 1 : 0)).fill(null);
    this.argVals[0] = true;
    this.where = spec.where ? (() => {
      try {
        return compilePredicate(spec.where).test;
      } catch (e) {
        if (e instanceof ExpressionError) throw new AggregationSpecError(`where: ${e.message}`, 'where', { cause: e });
        throw e;
      }
    })() : undefined;
    this.timeFn = spec.timestamp ? compileAt(spec.timestamp, 'timestamp').evaluate : undefined;
    const emit = spec.emit ?? 'changes';
    if (emit !== 'changes' && emit !== 'final') throw new AggregationSpecError(`emit must be 'changes' or 'final'`, 'emit');
    if (emit === 'final' && this.window.type === 'none') throw new AggregationSpecError(`emit 'final' needs a window (running totals never close)`, 'emit');
    this.emitFinalOnly = emit === 'final';
    this.flat = this.window.type === 'none' ? new Map() : undefined;
    this.trie = this.groupFns.length > 1 ? new KeyTrie(this.groupFns.length) : undefined;
    this.gv = new Array(this.groupFns.length).fill(null);
    this.debounceMs = spec.debounceMs ?? 0;
    this.maxRows = options.maxRows ?? Infinity;
    if (this.maxRows !== Infinity) {
      if (!(this.maxRows >= 1)) throw new AggregationSpecError(`maxRows must be at least 1, got ${this.maxRows}`, 'maxRows');
      if (this.window.type !== 'none') throw new AggregationSpecError('a bound on the rows held in memory (max_rows) applies to running totals (window none); windowed tables are bounded by retention', 'maxRows');
      this.cold = new KeyFingerprints();
    }
  }

  /** Watermark: stream time − grace (−Infinity before the first record). */
  get watermark(): number {
    return this.streamTime - this.window.grace;
  }

  metrics(): AggregatorMetrics {
    return { ...this.m, groups: this.groupCount, cold: this.cold?.size ?? 0 };
  }

  /** Aggregate many records that arrived together (one message); the clock is read once. */
  addBatch(records: readonly Rec[], seq: number): { added: number; late: Rec[]; invalid: Rec[] } {
    const now = this.clock();
    this.lastArrivalWall = now;
    const late: Rec[] = [];
    const invalid: Rec[] = [];
    let added = 0;
    for (let i = 0; i < records.length; i++) {
      const r = this.addAt(records[i], seq, now);
      if (r === 'added') added++;
      else if (r === 'late') late.push(records[i]);
      else if (r === 'invalid') invalid.push(records[i]);
    }
    return { added, late, invalid };
  }

  /**
   * Aggregate one record. `seq` orders records for EARLIEST/LATEST ties and *_BY_OFFSET (make it
   * unique per record for deterministic results, e.g. messageSeq * 65536 + index). `ingestTs` is the
   * record's time when no `timestamp` expression is configured (default: the clock).
   */
  add(record: Rec, seq: number, ingestTs?: number): AddResult {
    if (this.window.idleClose > 0 || (ingestTs === undefined && this.timeFn === undefined)) {
      const now = this.clock();
      this.lastArrivalWall = now;
      return this.addAt(record, seq, ingestTs ?? now);
    }
    return this.addAt(record, seq, ingestTs ?? 0);
  }

  private addAt(record: Rec, seq: number, ingestTs: number): AddResult {
    this.m.records++;
    if (this.where !== undefined && !this.where(record)) {
      this.m.filtered++;
      return 'filtered';
    }
    let ts: number;
    if (this.timeFn !== undefined) {
      const t = this.timeFn(record);
      const ms = typeof t === 'number' ? t : toMillis(t);
      if (ms === null || ms !== ms) {
        this.m.invalid++;
        return 'invalid';
      }
      ts = ms;
      if (this.tsSlot !== 0) this.argVals[this.tsSlot] = t;
    } else ts = ingestTs;
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (ts > this.streamTime) this.streamTime = ts;

    // group key
    const gf = this.groupFns;
    let ikey = '';
    let values: unknown[] | undefined;
    let v0: unknown;
    let ks: KeyState | undefined;
    if (gf.length === 1) {
      v0 = gf[0](record);
      ikey = typeof v0 === 'string' && v0.charCodeAt(0) !== 0 ? v0 : internalKey1(v0);
    } else if (gf.length === 0) {
      values = [];
    } else {
      const gv = this.gv;
      for (let i = 0; i < gf.length; i++) gv[i] = gf[i](record);
      // records of one message mostly share their group (a subject per subtype): the last key first
      const last = this.lastKey;
      if (last !== undefined && sameValues(gv, last.values)) ks = last;
      else ks = this.trie!.get(gv);
      if (ks === undefined) {
        values = gv.slice();
        ikey = internalKeyN(values);
        ks = this.keys.get(ikey);
        if (ks === undefined) {
          ks = new KeyState(ikey, values);
          this.keys.set(ikey, ks);
        }
        this.trie!.set(values, ks);
      }
      this.lastKey = ks;
    }
    // arguments, evaluated once per record
    const af = this.argFns;
    const av = this.argVals;
    for (let i = 0; i < af.length; i++) av[i + 1] = af[i](record);

    if (ks === undefined) {
      if (this.flat !== undefined) {
        // running totals: one map lookup straight to the group
        let g = this.flat.get(ikey);
        if (g === undefined) {
          if (this.cold !== undefined && this.cold.size > 0) this.assertNotCold(ikey);
          const nks = new KeyState(ikey, values === undefined ? [v0] : values);
          this.keys.set(ikey, nks);
          g = this.newGroup(nks);
          nks.windows = [g];
          nks.only = g;
          this.flat.set(ikey, g);
        }
        this.apply(g, ts, seq);
        return 'added';
      }
      ks = this.keys.get(ikey);
      if (ks === undefined) {
        ks = new KeyState(ikey, values === undefined ? [v0] : values);
        this.keys.set(ikey, ks);
      }
    }

    const w = this.window;
    switch (w.type) {
      case 'none': {
        let g = ks.only;
        if (g === undefined) {
          if (this.cold !== undefined && this.cold.size > 0) this.assertNotCold(ks.ikey);
          g = this.newGroup(ks);
          addOnly(ks, g);
          ks.only = g;
        }
        this.apply(g, ts, seq);
        return 'added';
      }
      case 'tumbling':
      case 'hopping': {
        const closed = this.closedThrough > this.watermark ? this.closedThrough : this.watermark;
        let any = false;
        for (let s = latestWindowStart(ts, w.advance); s > ts - w.size; s -= w.advance) {
          const end = s + w.size;
          if (end <= closed) {
            this.m.lateAssignments++;
            continue;
          }
          let g = findWindow(ks.windows, s);
          if (g === undefined || g.closed) {
            if (g !== undefined) {
              this.m.lateAssignments++;
              continue;
            }
            g = this.newGroup(ks);
            g.start = s;
            g.end = end;
            insertWindow(ks.windows, g);
            g.closeAt = end;
            this.closeHeap.push(end, g);
          }
          this.apply(g, ts, seq);
          any = true;
        }
        if (!any) {
          this.m.late++;
          this.dropIfEmpty(ks);
          return 'late';
        }
        return 'added';
      }
      case 'session': {
        const g = this.sessionFor(ks, ts, ts, undefined);
        if (g === undefined) {
          this.m.late++;
          this.m.lateAssignments++;
          this.dropIfEmpty(ks);
          return 'late';
        }
        this.apply(g, ts, seq);
        return 'added';
      }
    }
  }

  private dropIfEmpty(ks: KeyState): void {
    if (ks.windows.length === 0) this.removeKey(ks);
  }

  private removeKey(ks: KeyState): void {
    if (this.lastKey === ks) this.lastKey = undefined;
    if (this.keys.get(ks.ikey) === ks) this.keys.delete(ks.ikey);
    this.trie?.delete(ks.values, ks);
  }

  private newGroup(ks: KeyState): Group {
    const accs = new Array<Accumulator>(this.nAcc);
    for (let i = 0; i < this.nAcc; i++) accs[i] = this.cols[i].factory.create(this.cols[i].options);
    this.groupCount++;
    const g = new Group(ks, accs);
    if (this.cold !== undefined) this.ring.push(g);
    return g;
  }

  private assertNotCold(ikey: string): void {
    // a new row for a key whose state is in KV only would restart it from zero
    if (this.cold!.has(ikey)) throw new Error(`row ${JSON.stringify(ikey)} is held in KV only: call coldKeys() and warm() before adding its records`);
  }

  /**
   * Keys of rows held in KV only that these records would update (external key → group values), to
   * be read from KV and handed to warm() before the records are added. Empty (and cheap) while every
   * row is in memory.
   */
  coldKeys(records: readonly Rec[]): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>();
    const cold = this.cold;
    if (cold === undefined || cold.size === 0) return out;
    const gf = this.groupFns;
    const keys = this.keys;
    let seen: Set<string> | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (this.where !== undefined && !this.where(r)) continue;
      let ikey: string;
      let v0: unknown;
      let values: unknown[] | undefined;
      // (no array per record: most keys are in memory)
      if (gf.length === 1) ikey = internalKey1((v0 = gf[0](r)));
      else {
        values = new Array<unknown>(gf.length);
        for (let k = 0; k < gf.length; k++) values[k] = gf[k](r);
        ikey = internalKey(values);
      }
      if (keys.has(ikey) || seen?.has(ikey)) continue;
      (seen ??= new Set()).add(ikey);
      if (cold.has(ikey)) {
        values ??= [v0];
        out.set(encodeGroupKey(values), values);
      }
    }
    return out;
  }

  /**
   * Bring rows back from KV: `rows` maps each key of `keys` (from coldKeys) to its committed state,
   * or to undefined when KV has none (the row was deleted: it starts again from nothing). A row idle
   * longer than ttl is dropped as the ttl sweep would have dropped it.
   */
  warm(keys: Map<string, unknown[]>, rows: ReadonlyMap<string, GroupSnapshot | undefined>): void {
    const cold = this.cold;
    if (cold === undefined) return;
    const ttl = this.window.ttl;
    for (const [key, values] of keys) {
      if (!cold.delete(internalKey(values))) continue;
      const s = rows.get(key);
      if (s === undefined) continue;
      const lastTs = typeof s.l === 'number' ? s.l : -Infinity;
      if (ttl > 0 && lastTs <= this.streamTime - ttl) {
        this.m.evicted++;
        continue;
      }
      const accs = this.accsFromJSON(s.a);
      this.mergeGroup(values, undefined, undefined, lastTs, false, accs, false);
    }
  }

  /** Rows restored from KV that stay there only (load with maxRows): their group values. */
  markCold(groupValues: Iterable<unknown[]>): void {
    if (this.cold === undefined) throw new Error('markCold needs maxRows');
    for (const v of groupValues) this.cold.add(internalKey(v));
  }

  /** Rows held in KV only (maxRows). */
  get coldRows(): number {
    return this.cold?.size ?? 0;
  }

  /** Whether the row with this external key is in memory. */
  hasRow(key: string): boolean {
    return this.findGroup(key) !== undefined;
  }

  /**
   * With maxRows: when more rows than that are in memory, drop the least recently updated ones
   * (CLOCK: a row updated since the last pass gets another round) down to 90 % of the bound, and
   * return their (external) keys. Only rows whose state is committed are dropped: call it right after a
   * commit completed, before anything else is added (rows updated since are dirty and stay).
   */
  coolDown(): string[] {
    const out: string[] = [];
    const cold = this.cold;
    if (cold === undefined) return out;
    // rows evicted by ttl leave their entry here until a pass meets it: drop them when they dominate
    if (this.ring.length > 2 * this.groupCount + 1024) {
      this.ring = this.ring.filter((g) => !g.dead);
      this.hand = 0;
    }
    if (this.groupCount <= this.maxRows) return out;
    const target = Math.floor(this.maxRows * 0.9);
    const ring = this.ring;
    let budget = 2 * ring.length;
    while (this.groupCount > target && ring.length > 0 && budget-- > 0) {
      if (this.hand >= ring.length) this.hand = 0;
      const g = ring[this.hand];
      if (g.dead) {
        ring[this.hand] = ring[ring.length - 1];
        ring.pop();
        continue;
      }
      if (g.recent || g.persistDirty || g.emitDirty || g.persistedKey === undefined) {
        g.recent = false;
        this.hand++;
        continue;
      }
      this.detach(g);
      cold.add(g.ks.ikey);
      out.push(g.key);
      ring[this.hand] = ring[ring.length - 1];
      ring.pop();
    }
    return out;
  }

  /** Accumulators from their persisted states (GroupSnapshot.a), in column order. */
  private accsFromJSON(states: unknown[]): Accumulator[] {
    return this.cols.map((c, i) => c.factory.fromJSON(states[i], c.options));
  }

  /** The row of a group state (as read from KV), without adding it to the table. */
  rowOfSnapshot(s: GroupSnapshot): Change {
    const ikey = internalKey(s.g);
    const g = new Group(new KeyState(ikey, s.g), this.accsFromJSON(s.a));
    if (typeof s.l === 'number') g.lastTs = s.l;
    if (s.s !== undefined) g.start = s.s;
    if (s.e !== undefined) g.end = s.e;
    g.closed = s.c === 1;
    return this.rowOf(g, g.closed);
  }

  private apply(g: Group, ts: number, seq: number): void {
    const accs = g.accs;
    const av = this.argVals;
    const ix = this.argIdx;
    const kinds = this.kinds;
    for (let i = 0; i < accs.length; i++) {
      const v = av[ix[i]];
      const a = accs[i];
      switch (kinds[i]) {
        case K_COUNT:
          if (v !== null && v !== undefined) (a as CountAcc).n++;
          break;
        case K_SUM:
          (a as SumAcc).add(v);
          break;
        case K_MINMAX:
          (a as MinMaxAcc).add(v);
          break;
        case K_SET:
          (a as CollectSetAcc).add(v);
          break;
        case K_DISTINCT:
          if (typeof v === 'string') {
            const memo = this.distinctHashes;
            const at = memo.slot(v);
            (a as CountDistinctAcc).addHash(memo.hashes[at], memo.hashes[at + 1]);
          } else (a as CountDistinctAcc).add(v);
          break;
        case K_PICK:
          (a as PickAcc).add(v, ts, seq);
          break;
        case K_NONE:
          break;
        default:
          a.add(v, ts, seq);
      }
    }
    if (ts > g.lastTs) g.lastTs = ts;
    g.recent = true;
    this.touch(g);
  }

  private touch(g: Group): void {
    if (!g.emitDirty && !this.emitFinalOnly) {
      g.emitDirty = true;
      this.emitQueue.push(g);
    }
    if (!g.persistDirty) {
      g.persistDirty = true;
      this.persistQueue.push(g);
    }
  }

  /**
   * Find or make the session for interval [s, e] of key ks, merging every session within `gap`.
   * Returns undefined when the resulting session would already be closed (late). `accs`, when
   * given, are folded into the result (used by merge/import).
   */
  private sessionFor(ks: KeyState, s: number, e: number, accs: Accumulator[] | undefined): Group | undefined {
    const gap = this.window.gap;
    const list = ks.windows;
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      if (g.closed) continue;
      if (g.start - gap <= e && s <= g.end + gap) {
        if (lo < 0) lo = i;
        hi = i;
      }
    }
    let ns = s, ne = e;
    if (lo >= 0) {
      ns = Math.min(s, list[lo].start);
      ne = Math.max(e, list[hi].end);
      for (let i = lo; i <= hi; i++) if (!list[i].closed && list[i].end > ne) ne = list[i].end;
    }
    const closed = this.closedThrough > this.watermark ? this.closedThrough : this.watermark;
    if (ne + gap <= closed) return undefined;
    let target: Group;
    if (lo < 0) {
      target = this.newGroup(ks);
      insertWindow(list, target);
    } else {
      target = list[lo];
      for (let i = hi; i > lo; i--) {
        const o = list[i];
        if (o.closed) continue;
        for (let k = 0; k < target.accs.length; k++) target.accs[k].merge(o.accs[k]);
        if (o.lastTs > target.lastTs) target.lastTs = o.lastTs;
        list.splice(i, 1);
        this.kill(o);
      }
    }
    if (accs) for (let k = 0; k < target.accs.length; k++) target.accs[k].merge(accs[k]);
    if (target.start !== ns) {
      target.start = ns;
      target.resetKey();
      list.sort((a, b) => a.start - b.start);
    }
    target.end = ne;
    if (target.closeAt !== ne + gap) {
      target.closeAt = ne + gap;
      this.closeHeap.push(target.closeAt, target);
    }
    this.touch(target);
    return target;
  }

  /** Remove a group merged into another: its emitted/persisted keys must be deleted downstream. */
  private kill(g: Group): void {
    g.dead = true;
    this.groupCount--;
    if (g.emittedKey !== undefined) this.emitDeletes.push(g.emittedKey);
    if (g.persistedKey !== undefined) this.persistDeletes.push(g.persistedKey);
  }

  private rowOf(g: Group, final: boolean): Change {
    const vals = g.ks.values;
    const nGroup = this.groupNames.length;
    const rv = this.rowVals;
    for (let i = 0; i < nGroup; i++) rv[i] = vals[i] ?? null;
    let truncated: string[] | undefined;
    const windowed = this.window.type !== 'none';
    for (let i = 0; i < this.nAcc; i++) {
      const c = this.cols[i];
      if (c.special === 1) rv[nGroup + i] = windowed ? g.start : null;
      else if (c.special === 2) rv[nGroup + i] = windowed ? g.end : null;
      else {
        const a = g.accs[i];
        rv[nGroup + i] = a.result();
        if (a.truncated) (truncated ??= []).push(c.name);
      }
    }
    const groupValues = this.makeGroupValues(rv);
    const row = this.makeRow(rv);
    rv.fill(null);
    const ch: Change = { key: g.key, groupValues, row, final };
    if (windowed) {
      ch.windowStart = g.start;
      ch.windowEnd = g.end;
    }
    if (truncated) ch.truncated = truncated;
    return ch;
  }

  /**
   * Rows changed since the last call (emit 'changes'; always [] with emit 'final' except deletions).
   * With debounceMs, a key emitted less than debounceMs ago (wall clock `now`) stays pending.
   */
  drainChanges(now: number = this.debounceMs > 0 ? this.clock() : 0): Change[] {
    const out: Change[] = [];
    for (const k of this.emitDeletes) out.push({ key: k, groupValues: {}, row: {}, final: true, deleted: true });
    this.emitDeletes = [];
    const q = this.emitQueue;
    if (q.length === 0) return out;
    const keep: Group[] = [];
    const deb = this.debounceMs;
    for (let i = 0; i < q.length; i++) {
      const g = q[i];
      if (!g.emitDirty) continue;
      if (g.dead) {
        g.emitDirty = false;
        continue;
      }
      if (deb > 0 && now - g.lastEmitWall < deb) {
        keep.push(g);
        continue;
      }
      g.emitDirty = false;
      if (deb > 0) g.lastEmitWall = now;
      if (g.emittedKey !== undefined && g.emittedKey !== g.key) out.push({ key: g.emittedKey, groupValues: {}, row: {}, final: true, deleted: true });
      g.emittedKey = g.key;
      out.push(this.rowOf(g, g.closed));
    }
    this.emitQueue = keep;
    return out;
  }

  /**
   * Close every window whose close time ≤ watermark (default: this aggregator's watermark,
   * stream time − grace) and return their final rows, oldest first. Also evicts closed windows
   * past retention and, without window, groups idle longer than ttl.
   */
  closeUpTo(watermark: number = this.watermark): Change[] {
    const out: Change[] = [];
    if (watermark > this.closedThrough) this.closedThrough = watermark;
    const h = this.closeHeap;
    const closing: Group[] = [];
    while (h.size > 0 && h.peekTime() <= watermark) {
      const t = h.peekTime();
      const g = h.pop()!;
      if (g.dead || g.closed || g.closeAt !== t) continue;
      g.closed = true;
      closing.push(g);
    }
    // deterministic order (the heap does not order ties): close time, window start, key
    if (closing.length > 1) closing.sort((x, y) => x.closeAt - y.closeAt || x.start - y.start || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const g of closing) {
      g.emitDirty = false;
      this.m.closed++;
      if (g.emittedKey !== undefined && g.emittedKey !== g.key) out.push({ key: g.emittedKey, groupValues: {}, row: {}, final: true, deleted: true });
      g.emittedKey = g.key;
      out.push(this.rowOf(g, true));
      if (!g.persistDirty) {
        g.persistDirty = true;
        this.persistQueue.push(g);
      }
      this.evictHeap.push(g.closeAt + this.window.retention, g);
    }
    const eh = this.evictHeap;
    while (eh.size > 0 && eh.peekTime() <= watermark) this.evict(eh.pop()!);
    if (this.window.type === 'none' && this.window.ttl > 0) this.sweepTtl();
    return out;
  }

  private evict(g: Group): void {
    if (g.dead) return;
    this.detach(g);
    this.m.evicted++;
    if (g.persistedKey !== undefined) this.persistDeletes.push(g.persistedKey);
  }

  /** Take a live group out of the table's maps (its key goes when it was the key's last window). */
  private detach(g: Group): void {
    const list = g.ks.windows;
    const i = list.indexOf(g);
    if (i >= 0) list.splice(i, 1);
    if (g.ks.only === g) {
      g.ks.only = undefined;
      if (this.flat !== undefined && this.flat.get(g.ks.ikey) === g) this.flat.delete(g.ks.ikey);
    }
    if (list.length === 0) this.removeKey(g.ks);
    g.dead = true;
    this.groupCount--;
  }

  private sweepTtl(): void {
    const ttl = this.window.ttl;
    // full sweeps at most every ttl/4 of stream time: amortised O(1) per record
    if (this.streamTime - this.lastTtlSweep < ttl / 4) return;
    this.lastTtlSweep = this.streamTime;
    const limit = this.streamTime - ttl;
    for (const ks of this.keys.values()) {
      const g = ks.windows[0];
      if (g !== undefined && g.lastTs <= limit) this.evict(g);
    }
  }

  /**
   * Idle close: when window.idleClose is set and no record arrived for that long (wall clock),
   * advance stream time by the idle wall-clock time and close what that closes.
   */
  advanceWallClock(nowMs: number): Change[] {
    const idle = this.window.idleClose;
    if (idle <= 0 || this.lastArrivalWall !== this.lastArrivalWall || this.streamTime === -Infinity) return [];
    const elapsed = nowMs - this.lastArrivalWall;
    if (elapsed < idle) return [];
    this.streamTime += elapsed;
    this.lastArrivalWall = nowMs;
    return this.closeUpTo();
  }

  /** Group states to write (changed since the last call, including closed flags) and keys to delete. */
  drainPersist(): { upserts: GroupSnapshot[]; deletes: string[] } {
    const { rows, deletes } = this.drainPersistRows();
    const upserts: GroupSnapshot[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) upserts[i] = this.groupSnapshot(rows[i] as Group);
    return { upserts, deletes };
  }

  /**
   * As drainPersist, but the changed groups as handles, to be written with writeGroupState (or read
   * with groupState) before any further record is added: the commit path encodes them without
   * building a GroupSnapshot object per row.
   */
  drainPersistRows(): { rows: PersistRow[]; deletes: string[] } {
    const deletes = this.persistDeletes;
    this.persistDeletes = [];
    const rows: Group[] = [];
    for (const g of this.persistQueue) {
      if (!g.persistDirty) continue;
      g.persistDirty = false;
      if (g.dead) continue;
      if (g.persistedKey !== undefined && g.persistedKey !== g.key) deletes.push(g.persistedKey);
      g.persistedKey = g.key;
      rows.push(g);
    }
    this.persistQueue = [];
    return { rows, deletes };
  }

  /** The state of a row from drainPersistRows, as drainPersist would give it. */
  groupState(row: PersistRow): GroupSnapshot {
    return this.groupSnapshot(row as Group);
  }

  /**
   * Write the state of a row from drainPersistRows as core's encodeValue writes its GroupSnapshot
   * (see MsgpackWriter), so that decodeValue gives what groupState gives. False when the row holds
   * something the writer does not write (an object or Date group value, an accumulator other than
   * COUNT/SUM/AVG/MIN/MAX/COLLECT_SET/COUNT_DISTINCT/EARLIEST/LATEST…): the writer's position is then
   * undefined and the caller starts over and encodes groupState(row) instead.
   */
  writeGroupState(row: PersistRow, w: MsgpackWriter): boolean {
    const g = row as Group;
    const windowed = this.window.type !== 'none';
    if (!w.record(windowed ? (g.closed ? RS_SNAP_WC : RS_SNAP_W) : g.closed ? RS_SNAP_C : RS_SNAP)) return false;
    w.str(g.key);
    const vals = g.ks.values;
    w.arrayHeader(vals.length);
    for (let i = 0; i < vals.length; i++) if (!w.value(vals[i])) return false;
    if (g.lastTs === -Infinity) w.nil();
    else w.number(g.lastTs);
    const accs = g.accs;
    const kinds = this.kinds;
    w.arrayHeader(accs.length);
    for (let i = 0; i < accs.length; i++) {
      const a = accs[i];
      switch (kinds[i]) {
        case K_COUNT:
          if (!w.record(RS_COUNT)) return false;
          w.number((a as CountAcc).n);
          break;
        case K_SUM:
          if (!w.record(RS_SUM)) return false;
          w.number((a as SumAcc).s);
          w.number((a as SumAcc).n);
          break;
        case K_MINMAX:
          if (!w.record(RS_V) || !w.value((a as MinMaxAcc).v)) return false;
          break;
        case K_SET: {
          const set = a as CollectSetAcc;
          if (!w.record(set.truncated ? RS_ITEMS_T : RS_ITEMS)) return false;
          const items = set.items;
          w.arrayHeader(items.length);
          for (let k = 0; k < items.length; k++) if (!w.value(items[k])) return false;
          if (set.truncated) w.bool(true);
          break;
        }
        case K_DISTINCT: {
          const d = a as CountDistinctAcc;
          if (d.hll !== null) {
            if (!w.record(RS_HLL)) return false;
            w.str(d.hll.toBase64());
            break;
          }
          if (!w.record(RS_X)) return false;
          w.arrayHeader(2 * d.size);
          const t = d.table;
          if (t === null && d.size > 0) {
            w.number(d.h0);
            w.number(d.l0);
            const small = d.small;
            if (small !== null) for (let k = 0; k < small.length; k++) w.number(small[k]);
          }
          if (t !== null) {
            for (let k = 0; k < t.length; k += 2) {
              const hi = t[k], lo = t[k + 1];
              if (hi !== 0 || lo !== 0) {
                w.number(hi);
                w.number(lo);
              }
            }
          }
          break;
        }
        case K_PICK: {
          const p = a as PickAcc;
          if (!p.has) {
            if (!w.record(RS_EMPTY)) return false;
            break;
          }
          if (!w.record(RS_PICK) || !w.value(p.v)) return false;
          w.number(p.ts);
          w.number(p.seq);
          break;
        }
        case K_NONE:
          if (!w.record(RS_EMPTY)) return false;
          break;
        default:
          return false;
      }
    }
    if (windowed) {
      w.number(g.start);
      w.number(g.end);
    }
    if (g.closed) w.number(1);
    return true;
  }

  private groupSnapshot(g: Group): GroupSnapshot {
    const s: GroupSnapshot = { key: g.key, g: g.ks.values.map((v) => (v === undefined ? null : v)), l: g.lastTs === -Infinity ? null as unknown as number : g.lastTs, a: g.accs.map((a) => a.toJSON()) };
    if (this.window.type !== 'none') {
      s.s = g.start;
      s.e = g.end;
    }
    if (g.closed) s.c = 1;
    return s;
  }

  private *liveGroups(): Iterable<Group> {
    for (const ks of this.keys.values()) for (const g of ks.windows) if (!g.dead) yield g;
  }

  /** Current rows (pull query over the whole table), open and retained closed windows. */
  rows(): Change[] {
    const out: Change[] = [];
    for (const g of this.liveGroups()) out.push(this.rowOf(g, g.closed));
    return out;
  }

  /** Current row for an external key (pull query by key). */
  get(key: string): Change | undefined {
    const g = this.findGroup(key);
    return g ? this.rowOf(g, g.closed) : undefined;
  }

  /** The live group with this external key: through the key map (the key decodes to its group values). */
  private findGroup(key: string): Group | undefined {
    let values: unknown[];
    try {
      values = decodeKey(key).values;
    } catch {
      return undefined;
    }
    if (values.length === this.groupNames.length) {
      const ikey = internalKey(values);
      const ks = this.keys.get(ikey);
      if (ks) for (const g of ks.windows) if (!g.dead && g.key === key) return g;
    }
    // A Date or bigint group value comes back from its key as a number, an object as parsed JSON:
    // their internal keys may differ, so look at every group then.
    if (values.some((v) => typeof v === 'number' || (typeof v === 'object' && v !== null))) for (const g of this.liveGroups()) if (g.key === key) return g;
    return undefined;
  }

  /** Rows of one group (all its windows), by group values in groupBy order. */
  lookup(groupValues: unknown[]): Change[] {
    const ikey = internalKey(groupValues);
    const ks = this.keys.get(ikey);
    return ks ? ks.windows.filter((g) => !g.dead).map((g) => this.rowOf(g, g.closed)) : [];
  }

  /** Serialisable state of one group (undefined when absent). */
  exportGroup(key: string): GroupSnapshot | undefined {
    const g = this.findGroup(key);
    return g ? this.groupSnapshot(g) : undefined;
  }

  /** Whole state. JSON/msgpack safe. */
  snapshot(): AggregatorSnapshot {
    const groups: GroupSnapshot[] = [];
    for (const g of this.liveGroups()) groups.push(this.groupSnapshot(g));
    return { v: 1, streamTime: finite(this.streamTime), closedThrough: finite(this.closedThrough), maxSeq: finite(this.maxSeq), groups };
  }

  /** Rebuild an aggregator from snapshot() output (or from group states read back from KV). */
  static restore(spec: AggregationSpec, snapshot: Partial<AggregatorSnapshot> & { groups: GroupSnapshot[] }, options: EngineOptions = {}): Aggregator {
    const a = new Aggregator(spec, options);
    if (snapshot.streamTime !== undefined && snapshot.streamTime !== null) a.streamTime = snapshot.streamTime;
    if (snapshot.closedThrough !== undefined && snapshot.closedThrough !== null) a.closedThrough = snapshot.closedThrough;
    if (snapshot.maxSeq !== undefined && snapshot.maxSeq !== null) a.maxSeq = snapshot.maxSeq;
    a.importGroups(snapshot.groups, false);
    return a;
  }

  /**
   * Fold group states into this aggregator (restore from KV, or merge partial state). Groups with
   * the same key are merged with `merge`; session windows merge with overlapping sessions.
   * `markDirty` (default true) schedules them for emit and persist.
   */
  importGroups(groups: readonly GroupSnapshot[], markDirty = true): void {
    for (const s of groups) {
      const accs = this.accsFromJSON(s.a);
      const lastTs = typeof s.l === 'number' ? s.l : -Infinity;
      if (lastTs > this.streamTime && !markDirty) this.streamTime = lastTs;
      this.mergeGroup(s.g, s.s, s.e, lastTs, s.c === 1, accs, markDirty);
    }
  }

  /** Merge another aggregator's state (same spec) into this one: partial results of other partitions. */
  merge(other: Aggregator): void {
    for (const g of other.liveGroups()) {
      const accs = this.accsFromJSON(g.accs.map((a) => JSON.parse(JSON.stringify(a.toJSON())) as unknown));
      this.mergeGroup(g.ks.values, g.start, g.end, g.lastTs, g.closed, accs, true);
    }
    if (other.streamTime > this.streamTime) this.streamTime = other.streamTime;
    if (other.maxSeq > this.maxSeq) this.maxSeq = other.maxSeq;
  }

  private mergeGroup(values: unknown[], start: number | undefined, end: number | undefined, lastTs: number, closed: boolean, accs: Accumulator[], markDirty: boolean): void {
    const ikey = internalKey(values);
    let ks = this.keys.get(ikey);
    if (!ks) {
      ks = new KeyState(ikey, values.slice());
      this.keys.set(ikey, ks);
    }
    const w = this.window;
    let g: Group | undefined;
    if (w.type === 'none') {
      g = ks.windows[0];
      if (!g) {
        g = this.newGroup(ks);
        addOnly(ks, g);
        ks.only = g;
        this.flat?.set(ikey, g);
      }
    } else if (w.type === 'session' && !closed) {
      g = this.sessionForImport(ks, start!, end!);
    } else {
      g = findWindow(ks.windows, start!);
      if (!g) {
        g = this.newGroup(ks);
        g.start = start!;
        g.end = end!;
        insertWindow(ks.windows, g);
        if (closed) {
          g.closed = true;
          this.evictHeap.push((w.type === 'session' ? end! + w.gap : end!) + w.retention, g);
        } else {
          g.closeAt = w.type === 'session' ? end! + w.gap : end!;
          this.closeHeap.push(g.closeAt, g);
        }
      }
    }
    for (let i = 0; i < accs.length; i++) g.accs[i].merge(accs[i]);
    if (lastTs > g.lastTs) g.lastTs = lastTs;
    if (markDirty) this.touch(g);
    else {
      g.emitDirty = false;
      g.persistDirty = false;
      g.persistedKey = g.key;
      if (!this.emitFinalOnly) g.emittedKey = g.key;
    }
  }

  private sessionForImport(ks: KeyState, s: number, e: number): Group {
    // like sessionFor, but never late (state is being restored/merged)
    const saved = this.closedThrough;
    const savedStream = this.streamTime;
    this.closedThrough = -Infinity;
    this.streamTime = -Infinity;
    try {
      const g = this.sessionFor(ks, s, e, undefined)!;
      return g;
    } finally {
      this.closedThrough = saved;
      this.streamTime = savedStream;
    }
  }
}

/**
 * hash64 of strings seen recently: COUNT_DISTINCT values repeat (a few dozen SSIDs and destination
 * addresses in a capture) and a Map lookup of a string whose engine hash is cached (the decoder's
 * string cache hands out the same string objects) costs less than hashing its characters again.
 * Bounded: it starts over past MEMO_MAX values.
 */
const MEMO_MAX = 4096;
class HashMemo {
  private readonly index = new Map<string, number>();
  /** (hi, lo) pairs */
  readonly hashes = new Int32Array(2 * MEMO_MAX);
  /** Where the hash of s is in `hashes`. */
  slot(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      if (this.index.size >= MEMO_MAX) this.index.clear();
      i = 2 * this.index.size;
      this.index.set(s, i);
      this.hashes[i] = hash64(s);
      this.hashes[i + 1] = hashLo();
    }
    return i;
  }
}

/**
 * A function making the object {keys[0]: values[0], keys[1]: values[1], …}, keys in that order.
 * Generated as one object literal: the object is allocated at once in its final shape, where one
 * built key by key grows its property store several times (rowOf makes one per changed row).
 */
function objectMaker(keys: readonly string[]): (values: readonly unknown[]) => Record<string, unknown> {
  // (a "__proto__" key and index-like keys behave in literals in ways of their own: such names
  // get the objects built by assignment, as before)
  if (keys.some((k) => k === '__proto__' || /^\d+$/.test(k))) {
    return (values) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) o[keys[i]] = values[i];
      return o;
    };
  }
  return new Function('v', `return { ${keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ')} };`) as (values: readonly unknown[]) => Record<string, unknown>;
}

/**
 * Strictly equal values give the same key (the trie's and internalKeyN's equality is coarser:
 * NaN, ±Infinity and null; 0 and -0), so a match may reuse that key's state.
 */
function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The first group of a key without window. A one-element array, not a push onto the empty one:
 * push reserves room for 16 more groups, which every row in memory would carry.
 */
function addOnly(ks: KeyState, g: Group): void {
  if (ks.windows.length === 0) ks.windows = [g];
  else ks.windows.push(g);
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : (null as unknown as number);
}

/** Find the window with this start (lists are short and ascending; search from the newest). */
function findWindow(list: Group[], start: number): Group | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const g = list[i];
    if (g.start === start) return g;
    if (g.start < start) return undefined;
  }
  return undefined;
}

function insertWindow(list: Group[], g: Group): void {
  let i = list.length;
  while (i > 0 && list[i - 1].start > g.start) i--;
  list.splice(i, 0, g);
}
