// Exactly-once table state in a KV bucket. See README.md § "State and exactly-once" for the argument.
//
// Layout of one partition's bucket:
//   _meta              {v, table, partitions}                      written once
//   _ckpt              {v, e, st, ct, ms, d: {stream: {f, s}}}     the commit record (ONE put = the atomic commit point)
//   a.<rowkey>         {v: GroupSnapshot | null, e: epoch}         row slot A
//   b.<rowkey>         {v: GroupSnapshot | null, e: epoch}         row slot B
//
// Each row has two slots. A commit with epoch E writes every changed row into the slot that does NOT
// hold the row's committed version, then puts _ckpt with e = E (and the applied input sequences). On
// load, a row's value is its slot with the largest epoch ≤ _ckpt.e; slots with an epoch above it were
// written by a commit that never completed and are deleted. So a crash anywhere between the first row
// put and the _ckpt put leaves the previous commit intact, and the batch is simply applied again when
// its message is redelivered; a crash after the _ckpt put is recognised by the applied sequences.
import { decodeValue, encodeValue, type KvStore } from '@pcapflow/core';
import { Aggregator, type AggregationSpec, type GroupSnapshot } from '../engine';

export interface RowValue { v: GroupSnapshot | null; e: number }

interface CheckpointValue {
  v: 1;
  /** epoch of the last completed commit */
  e: number;
  /** stream time, closed-through and max seq of the aggregator (null = -Infinity) */
  st: number | null;
  ct: number | null;
  ms: number | null;
  /** applied input sequences per stream: floor and delta-encoded ascending sequences above it */
  d: Record<string, { f: number; s: number[] }>;
}

/**
 * Input sequences applied to the table, per stream. A message is a duplicate iff its sequence is in
 * the set. Sequences are remembered for `windowMs` of *run time* (time this process has been up since
 * it loaded them; downtime does not count) and at least the newest `minKeep`, at most `max`.
 * `floor` is the largest sequence ever forgotten (for diagnostics: a redelivery at or below it that is
 * not in the set is beyond the dedupe horizon).
 */
export class AppliedSeqs {
  private readonly streams = new Map<string, { floor: number; seqs: Map<number, number> }>();
  constructor(private readonly windowMs: number, private readonly max: number, private readonly minKeep = 1024) {}

  has(stream: string, seq: number): boolean {
    return this.streams.get(stream)?.seqs.has(seq) ?? false;
  }

  /** True when `seq` is at or below the forgotten floor (a redelivery there cannot be recognised). */
  beyondHorizon(stream: string, seq: number): boolean {
    const s = this.streams.get(stream);
    return s !== undefined && seq <= s.floor;
  }

  add(stream: string, seq: number, now: number): void {
    let s = this.streams.get(stream);
    if (!s) {
      s = { floor: 0, seqs: new Map() };
      this.streams.set(stream, s);
    }
    s.seqs.set(seq, now);
  }

  size(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.seqs.size;
    return n;
  }

  prune(now: number): void {
    for (const s of this.streams.values()) {
      const m = s.seqs;
      if (m.size <= this.minKeep) continue;
      // insertion order = application order (times ascending)
      for (const [seq, at] of m) {
        if (m.size <= this.minKeep) break;
        if (m.size <= this.max && now - at < this.windowMs) break;
        m.delete(seq);
        if (seq > s.floor) s.floor = seq;
      }
    }
  }

  encode(): CheckpointValue['d'] {
    const out: CheckpointValue['d'] = {};
    for (const [stream, s] of this.streams) {
      const sorted = [...s.seqs.keys()].sort((a, b) => a - b);
      const deltas = new Array<number>(sorted.length);
      let prev = 0;
      for (let i = 0; i < sorted.length; i++) {
        deltas[i] = sorted[i] - prev;
        prev = sorted[i];
      }
      out[stream] = { f: s.floor, s: deltas };
    }
    return out;
  }

  /** Load from a checkpoint: every remembered sequence counts as applied `now` (run time restarts). */
  static decode(d: CheckpointValue['d'] | undefined, now: number, windowMs: number, max: number): AppliedSeqs {
    const a = new AppliedSeqs(windowMs, max);
    for (const [stream, v] of Object.entries(d ?? {})) {
      const seqs = new Map<number, number>();
      let cur = 0;
      for (const delta of v.s) {
        cur += delta;
        seqs.set(cur, now);
      }
      a.streams.set(stream, { floor: v.f, seqs });
    }
    return a;
  }
}

export interface LoadedState {
  aggregator: Aggregator;
  applied: AppliedSeqs;
  /** rows whose committed epoch is among the last `replayEpochs` commits (to re-emit) */
  recent: GroupSnapshot[];
  rows: number;
  /** uncommitted slots found and deleted */
  discarded: number;
}

export interface StoreOptions {
  table: string;
  partitions: number;
  dedupeWindowMs: number;
  dedupeMax: number;
  replayEpochs: number;
  clock?: () => number;
}

const PUT_CONCURRENCY = 512;

async function inParallel<T>(items: readonly T[], f: (x: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PUT_CONCURRENCY) await Promise.all(items.slice(i, i + PUT_CONCURRENCY).map(f));
}

export class TableStore {
  /** epoch of the last completed commit */
  epoch = 0;
  /** next epoch to use (above every epoch ever written, committed or not) */
  private nextEpoch = 1;
  /** row keys whose committed version is in slot b (all others: slot a, or none) */
  private inB = new Set<string>();
  /** row keys with a committed version in some slot */
  private persisted = new Set<string>();
  commits = 0;
  rowPuts = 0;

  constructor(private readonly kv: KvStore, private readonly o: StoreOptions) {}

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  /** Read the committed state (deleting slots of commits that never completed) and rebuild the aggregator. */
  async load(spec: AggregationSpec, makeClock?: () => number): Promise<LoadedState> {
    const meta = await this.kv.get('_meta');
    if (meta) {
      const m = decodeValue(meta.value) as { partitions?: number };
      if (m.partitions !== undefined && m.partitions !== this.o.partitions) {
        throw new Error(`table "${this.o.table}" was built by ${m.partitions} partition(s) but the topology now runs ${this.o.partitions}; keep instances: ${m.partitions} or delete the KV buckets of the table to rebuild it`);
      }
    } else {
      await this.kv.put('_meta', encodeValue({ v: 1, table: this.o.table, partitions: this.o.partitions }));
    }
    const ck = await this.kv.get('_ckpt');
    const cp = ck ? (decodeValue(ck.value) as CheckpointValue) : undefined;
    const committed = cp?.e ?? 0;
    const slots = new Map<string, { a?: RowValue; b?: RowValue }>();
    const keys: string[] = [];
    for await (const k of this.kv.keys()) if (k.startsWith('a.') || k.startsWith('b.')) keys.push(k);
    let maxEpoch = committed;
    await inParallel(keys, async (k) => {
      const e = await this.kv.get(k);
      if (!e) return;
      const v = decodeValue(e.value) as RowValue;
      const rk = k.slice(2);
      let s = slots.get(rk);
      if (!s) slots.set(rk, (s = {}));
      s[k[0] as 'a' | 'b'] = v;
      if (v.e > maxEpoch) maxEpoch = v.e;
    });
    const groups: GroupSnapshot[] = [];
    const recent: GroupSnapshot[] = [];
    const deletes: string[] = [];
    let discarded = 0;
    this.inB.clear();
    this.persisted.clear();
    for (const [rk, s] of slots) {
      let best: 'a' | 'b' | undefined;
      for (const slot of ['a', 'b'] as const) {
        const v = s[slot];
        if (!v) continue;
        if (v.e > committed) {
          deletes.push(`${slot}.${rk}`);
          discarded++;
          continue;
        }
        if (best === undefined || v.e > s[best]!.e) best = slot;
      }
      if (best === undefined) continue;
      const v = s[best]!;
      if (v.v === null) {
        // committed tombstone: the row was deleted; finish the cleanup
        for (const slot of ['a', 'b'] as const) if (s[slot] && !deletes.includes(`${slot}.${rk}`)) deletes.push(`${slot}.${rk}`);
        continue;
      }
      groups.push(v.v);
      this.persisted.add(rk);
      if (best === 'b') this.inB.add(rk);
      if (v.e > committed - this.o.replayEpochs) recent.push(v.v);
    }
    await inParallel(deletes, (k) => this.kv.delete(k));
    const aggregator = Aggregator.restore(spec, {
      streamTime: cp?.st ?? undefined,
      closedThrough: cp?.ct ?? undefined,
      maxSeq: cp?.ms ?? undefined,
      groups,
    }, makeClock ? { clock: makeClock } : {});
    this.epoch = committed;
    this.nextEpoch = maxEpoch + 1;
    return { aggregator, applied: AppliedSeqs.decode(cp?.d, this.now(), this.o.dedupeWindowMs, this.o.dedupeMax), recent, rows: groups.length, discarded };
  }

  /**
   * Persist what changed in the aggregator and the applied sequences as one commit. Synchronous up to
   * the first await (drains the aggregator), so records applied after the call go to the next commit.
   */
  async commit(agg: Aggregator, applied: AppliedSeqs): Promise<{ upserts: GroupSnapshot[]; deletes: string[] }> {
    const { upserts, deletes } = agg.drainPersist();
    applied.prune(this.now());
    const e = this.nextEpoch++;
    const ckpt: CheckpointValue = {
      v: 1, e,
      st: finiteOrNull(agg.streamTime), ct: finiteOrNull(agg.closedThrough), ms: finiteOrNull(agg.maxSeq),
      d: applied.encode(),
    };
    const ckptBytes = encodeValue(ckpt);
    const puts: Array<[string, Uint8Array]> = [];
    const flipped: string[] = [];
    for (const g of upserts) {
      const slot = this.inB.has(g.key) ? 'a' : this.persisted.has(g.key) ? 'b' : 'a';
      puts.push([`${slot}.${g.key}`, encodeValue({ v: g, e } satisfies RowValue)]);
      flipped.push(g.key);
    }
    const upserted = new Set(flipped);
    const gone = deletes.filter((k) => this.persisted.has(k) && !upserted.has(k));
    for (const k of gone) {
      const slot = this.inB.has(k) ? 'a' : 'b';
      puts.push([`${slot}.${k}`, encodeValue({ v: null, e } satisfies RowValue)]);
    }
    await inParallel(puts, ([k, v]) => this.kv.put(k, v));
    await this.kv.put('_ckpt', ckptBytes);
    // committed: the written slots now hold the committed versions
    this.epoch = e;
    this.commits++;
    this.rowPuts += puts.length;
    for (const k of flipped) {
      const wasPersisted = this.persisted.has(k);
      const toB = wasPersisted ? !this.inB.has(k) : false;
      if (toB) this.inB.add(k);
      else this.inB.delete(k);
      this.persisted.add(k);
    }
    if (gone.length) {
      for (const k of gone) {
        this.persisted.delete(k);
        this.inB.delete(k);
      }
      // both slots of a deleted row go; a crash before this finishes leaves a committed tombstone that load() removes
      await inParallel(gone.flatMap((k) => [`a.${k}`, `b.${k}`]), (k) => this.kv.delete(k));
    }
    return { upserts, deletes };
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}
