// Exactly-once table state in a KV bucket. See README.md § "State and exactly-once" for the argument.
//
// Layout of one partition's bucket:
//   _meta              {v, table, partitions}                      written once
//   _ckpt              {v, e, st, ct, ms, d: {stream: {f, r}}, z}  the commit record (ONE put = the atomic commit point)
//   a.<rowkey>         {v: GroupSnapshot | null, e: epoch}         row slot A
//   b.<rowkey>         {v: GroupSnapshot | null, e: epoch}         row slot B
//
// Each row has two slots. A commit with epoch E writes every changed row into the slot that does NOT
// hold the row's committed version, then puts _ckpt with e = E (and the applied input sequences). On
// load, a row's value is its slot with the largest epoch ≤ _ckpt.e; slots with an epoch above it were
// written by a commit that never completed and are deleted. So a crash anywhere between the first row
// put and the _ckpt put leaves the previous commit intact, and the batch is simply applied again when
// its message is redelivered; a crash after the _ckpt put is recognised by the applied sequences.
//
// Fences. A writer that died (kill -9, a dropped connection) may still have puts on their way: the
// bytes it wrote to its socket reach the server after its death, possibly after the next writer has
// loaded. Those row slots carry an epoch above the committed one, which the next writer would reach
// with its own commits and then take for committed (a cold row read back would count the dead
// writer's last batch once more when that batch is redelivered). So each load fences the epochs
// from the committed one + 1 to FENCE_EPOCHS above anything seen, records the range in _ckpt at once
// (`z`; the last MAX_FENCES ranges are kept), and commits above it: a slot whose epoch is fenced is
// never read as committed, and load deletes it.
import { decodeValue, encodeValue, PcapflowError, type KvStore } from '@pcapflow/core';
import { Aggregator, MsgpackWriter, RecordShape, type AggregationSpec, type GroupSnapshot, type PersistRow } from '../engine';
import { SeqRanges } from './seq-ranges';

export interface RowValue { v: GroupSnapshot | null; e: number }

interface CheckpointValue {
  /** 2: applied sequences as ranges (`r`); 1: as a delta list (`s`), still read */
  v: 1 | 2;
  /** epoch of the last completed commit */
  e: number;
  /** stream time, closed-through and max seq of the aggregator (null = -Infinity) */
  st: number | null;
  ct: number | null;
  ms: number | null;
  /** applied input sequences per stream: forgotten floor and SeqRanges.encode() (v1: `s`, ascending deltas) */
  d: Record<string, { f: number; r?: number[]; s?: number[] }>;
  /** fenced epoch ranges, inclusive, as pairs [from, to, from, to, …] (absent before fences) */
  z?: number[];
}

/** Epochs reserved above everything seen at load: a dead writer's commits still on their way, at most one each in practice. */
const FENCE_EPOCHS = 16;
/** Fenced ranges kept in _ckpt (a dead writer's puts arrive within moments; older ranges guard nothing). */
const MAX_FENCES = 16;

/**
 * Input sequences applied to the table, per stream. A message is a duplicate iff its sequence is in
 * the set. The set is kept as intervals (SeqRanges): a stream consumed in order is one interval
 * however many messages it held, so the checkpoint that carries the set stays a few bytes.
 *
 * Gaps. A sequence missing below the newest is either in flight or waiting for its redelivery (NAKed,
 * ack_wait expired, delivered again after a restart: the gap closes when it is applied), or never
 * coming (another subject or partition of the same stream, a dead-lettered message). Each gap costs
 * one more interval, i.e. one or two numbers in the checkpoint (a set of isolated sequences encodes
 * to the same delta list as the v1 format, never more). Intervals are forgotten from the lowest up
 * when more than `max` of them exist, or when no sequence was added to them for `windowMs` of *run
 * time* (time this process has been up since it loaded them; downtime does not count); the newest
 * `minKeep` intervals always stay. So the checkpoint holds at most `max` intervals, and the set only
 * grows towards that bound when gaps persist, e.g. a partition consuming a share of a stream.
 * `floor` is the largest sequence ever forgotten: a redelivery at or below it that is not in the set
 * is beyond the dedupe horizon (applied, and reported). Every interval holds at least one sequence,
 * so with the same settings this remembers at least as many sequences as the v1 per-sequence set did.
 */
export class AppliedSeqs {
  private readonly streams = new Map<string, { floor: number; seqs: SeqRanges }>();
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
    // stream sequences start at 1; anything else could not be encoded (and cannot be a redelivery to skip)
    if (!Number.isSafeInteger(seq) || seq < 1) return;
    let s = this.streams.get(stream);
    if (!s) {
      s = { floor: 0, seqs: new SeqRanges() };
      this.streams.set(stream, s);
    }
    s.seqs.add(seq, now);
  }

  /** Remembered sequences (all streams). */
  size(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.seqs.size;
    return n;
  }

  /** Remembered intervals (all streams): what the checkpoint size follows. */
  ranges(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.seqs.ranges;
    return n;
  }

  prune(now: number): void {
    const keep = Math.max(1, this.minKeep);
    for (const s of this.streams.values()) {
      const r = s.seqs;
      const n = r.ranges;
      let k = 0;
      while (n - k > keep && (n - k > this.max || now - r.range(k).at >= this.windowMs)) k++;
      if (k > 0) s.floor = Math.max(s.floor, r.dropLowest(k));
    }
  }

  encode(): CheckpointValue['d'] {
    const out: CheckpointValue['d'] = {};
    for (const [stream, s] of this.streams) out[stream] = { f: s.floor, r: s.seqs.encode() };
    return out;
  }

  /** Load from a checkpoint (v2 or v1): every remembered sequence counts as applied `now` (run time restarts). */
  static decode(d: CheckpointValue['d'] | undefined, now: number, windowMs: number, max: number): AppliedSeqs {
    const a = new AppliedSeqs(windowMs, max);
    for (const [stream, v] of Object.entries(d ?? {})) {
      let seqs: SeqRanges;
      try {
        // v1 wrote a sorted delta list, which is a valid range encoding of isolated sequences
        seqs = SeqRanges.decode(v.r ?? v.s ?? [], now);
      } catch (e) {
        throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `the table checkpoint (_ckpt) has unreadable applied sequences for stream ${stream}: ${(e as Error).message}`, {
          cause: e, hint: 'the KV bucket of the table was written by something else; delete the KV buckets of the table to rebuild it from the stream',
        });
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
  /** most rows held in memory (running totals only; see Aggregator maxRows). Default: all. */
  maxRows?: number;
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
  /** fenced epoch ranges (see Fences above), as in CheckpointValue.z */
  private fences: number[] = [];
  /** row key → the slot ('a' or 'b') holding its committed version; absent: no committed version */
  private committedSlot = new Map<string, 'a' | 'b'>();
  commits = 0;
  rowPuts = 0;
  /**
   * Revision of the bucket's last write when this store made it (the last commit's `_ckpt`, or the
   * deletes after it); undefined when unknown (after load or a failure): the next commit then waits
   * for its row puts before putting `_ckpt`, and learns it.
   */
  private lastRevision: number | undefined;
  /** row values are views of its buffers, each about the size of a Buffer.allocUnsafe pool slab */
  private readonly writer = new MsgpackWriter(8192);

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
    this.lastRevision = undefined;
    const ck = await this.kv.get('_ckpt');
    const cp = ck ? (decodeValue(ck.value) as CheckpointValue) : undefined;
    const committed = cp?.e ?? 0;
    const fences = cp?.z ?? [];
    const slots = new Map<string, { a?: RowValue; b?: RowValue }>();
    const keys: string[] = [];
    for await (const k of this.kv.keys()) if (k.startsWith('a.') || k.startsWith('b.')) keys.push(k);
    // the top of earlier fences counts as seen: a writer that loaded, fenced and died before its
    // first commit may still have commits on their way above its fence
    let maxEpoch = Math.max(committed, ...fences);
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
    const epochs: number[] = [];
    const recent: GroupSnapshot[] = [];
    const deletes: string[] = [];
    let discarded = 0;
    this.committedSlot.clear();
    for (const [rk, s] of slots) {
      let best: 'a' | 'b' | undefined;
      for (const slot of ['a', 'b'] as const) {
        const v = s[slot];
        if (!v) continue;
        if (v.e > committed || fencedIn(fences, v.e)) {
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
      epochs.push(v.e);
      this.committedSlot.set(rk, best);
      if (v.e > committed - this.o.replayEpochs) recent.push(v.v);
    }
    await inParallel(deletes, (k) => this.kv.delete(k));
    // With a bound on the rows in memory, the most recently written ones are brought back; the
    // others stay in KV until a record of theirs comes.
    let resident = groups;
    let cold: GroupSnapshot[] = [];
    const maxRows = this.o.maxRows ?? Infinity;
    if (groups.length > maxRows) {
      const order = groups.map((_, i) => i).sort((x, y) => epochs[y] - epochs[x]);
      resident = order.slice(0, maxRows).map((i) => groups[i]);
      cold = order.slice(maxRows).map((i) => groups[i]);
      for (const g of cold) this.committedSlot.delete(g.key);
    }
    const aggregator = Aggregator.restore(spec, {
      streamTime: cp?.st ?? undefined,
      closedThrough: cp?.ct ?? undefined,
      maxSeq: cp?.ms ?? undefined,
      groups: resident,
    }, { ...(makeClock ? { clock: makeClock } : {}), ...(maxRows !== Infinity ? { maxRows } : {}) });
    if (cold.length) aggregator.markCold(cold.map((g) => g.g));
    this.epoch = committed;
    // fence what a dead writer may still put, record it before anything else is written, commit above it
    this.fences = [...fences, committed + 1, maxEpoch + FENCE_EPOCHS].slice(-2 * MAX_FENCES);
    this.nextEpoch = maxEpoch + FENCE_EPOCHS + 1;
    const applied = AppliedSeqs.decode(cp?.d, this.now(), this.o.dedupeWindowMs, this.o.dedupeMax);
    const fenced: CheckpointValue = cp
      ? { ...cp, z: this.fences }
      : { v: 2, e: 0, st: null, ct: null, ms: null, d: applied.encode(), z: this.fences };
    await this.kv.put('_ckpt', encodeValue(fenced));
    return { aggregator, applied, recent, rows: groups.length, discarded };
  }

  /**
   * The committed state of these rows (undefined: none, or deleted), read from their two slots.
   * `warming`: the rows come back into memory, so the slot of each committed version is remembered
   * again (the next commit writes the other one).
   */
  async readRows(keys: Iterable<string>, warming: boolean): Promise<Map<string, GroupSnapshot | undefined>> {
    const out = new Map<string, GroupSnapshot | undefined>();
    const list = [...keys];
    const found = new Map<string, { slot: 'a' | 'b'; v: RowValue }>();
    await inParallel(list.flatMap((k) => [`a.${k}`, `b.${k}`]), async (sk) => {
      const e = await this.kv.get(sk);
      if (!e) return;
      const v = decodeValue(e.value) as RowValue;
      // a slot newer than the last commit belongs to a commit in flight or one that never completed;
      // a fenced one, to a writer that died (see Fences above)
      if (v.e > this.epoch || fencedIn(this.fences, v.e)) return;
      const rk = sk.slice(2);
      const cur = found.get(rk);
      if (!cur || v.e > cur.v.e) found.set(rk, { slot: sk[0] as 'a' | 'b', v });
    });
    for (const k of list) {
      const f = found.get(k);
      if (f && warming) this.committedSlot.set(k, f.slot);
      out.set(k, f?.v.v ?? undefined);
    }
    return out;
  }

  /** Rows dropped from memory (Aggregator.coolDown): their slots are looked up again when they return. */
  forget(keys: readonly string[]): void {
    for (const k of keys) this.committedSlot.delete(k);
  }

  /** Keys of every row in KV (both slots' names, once each). */
  async rowKeys(): Promise<string[]> {
    const out = new Set<string>();
    for await (const k of this.kv.keys()) if (k.startsWith('a.') || k.startsWith('b.')) out.add(k.slice(2));
    return [...out];
  }

  /**
   * Persist what changed in the aggregator and the applied sequences as one commit. Synchronous up to
   * the first await: the aggregator is drained and every changed row encoded first, so records
   * applied after the call (while the puts are in flight) go to the next commit and never leak into
   * the row values of this one.
   */
  async commit(agg: Aggregator, applied: AppliedSeqs): Promise<{ upserted: string[]; deletes: string[] }> {
    const { rows, deletes } = agg.drainPersistRows();
    applied.prune(this.now());
    const e = this.nextEpoch++;
    const ckpt: CheckpointValue = {
      v: 2, e,
      st: finiteOrNull(agg.streamTime), ct: finiteOrNull(agg.closedThrough), ms: finiteOrNull(agg.maxSeq),
      d: applied.encode(),
      z: this.fences,
    };
    const ckptBytes = encodeValue(ckpt);
    const upserted: string[] = new Array(rows.length);
    const values: Uint8Array[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      upserted[i] = rows[i].key;
      values[i] = this.encodeRow(agg, rows[i], e);
    }
    const written: ('a' | 'b')[] = new Array(upserted.length);
    let gone: string[] = [];
    if (deletes.length) {
      const up = new Set(upserted);
      gone = deletes.filter((k) => this.committedSlot.has(k) && !up.has(k));
    }
    const tombstone = gone.length ? encodeValue({ v: null, e } satisfies RowValue) : undefined;
    // One round trip when the bucket's revision is known: every row put, then `_ckpt` guarded by
    // the revision the bucket has once they are all stored (same connection, in order), so a row put
    // that failed leaves the bucket short of it and `_ckpt` is refused: the commit fails as a whole.
    // Otherwise (first commit after a load or a failure) `_ckpt` waits for the row puts' acks, at most
    // PUT_CONCURRENCY awaited at once (no await per row: what is put in one turn of the event loop
    // goes out in one write), and its own ack gives the revision.
    const guarded = this.kv.putIfLast !== undefined && this.lastRevision !== undefined;
    // Guarded row puts need no acknowledgement of their own (the guard counts them): the server
    // then sends one reply per commit instead of one per row.
    const unacked = guarded && this.kv.putUnacked !== undefined;
    const acks: Promise<number>[] = [];
    const put = (key: string, value: Uint8Array) => {
      if (unacked) this.kv.putUnacked!(key, value);
      else acks.push(this.kv.put(key, value));
    };
    try {
      for (let i = 0; i < upserted.length; i++) {
        // each row to the slot that does not hold its committed version (a new row: slot a)
        const slot = (written[i] = this.committedSlot.get(upserted[i]) === 'a' ? 'b' : 'a');
        put(`${slot}.${upserted[i]}`, values[i]);
        if (!guarded && acks.length >= PUT_CONCURRENCY) await Promise.all(acks.splice(0));
      }
      for (const k of gone) {
        put(`${this.committedSlot.get(k) === 'b' ? 'a' : 'b'}.${k}`, tombstone!);
        if (!guarded && acks.length >= PUT_CONCURRENCY) await Promise.all(acks.splice(0));
      }
      if (guarded) {
        const ckpt = this.kv.putIfLast!('_ckpt', ckptBytes, this.lastRevision! + upserted.length + gone.length);
        this.lastRevision = (await Promise.all([Promise.all(acks), ckpt]))[1];
      } else {
        await Promise.all(acks);
        this.lastRevision = await this.kv.put('_ckpt', ckptBytes);
      }
    } catch (e) {
      this.lastRevision = undefined;
      throw e;
    }
    // committed: the written slots now hold the committed versions
    this.epoch = e;
    this.commits++;
    this.rowPuts += upserted.length + gone.length;
    for (let i = 0; i < upserted.length; i++) this.committedSlot.set(upserted[i], written[i]);
    if (gone.length) {
      for (const k of gone) this.committedSlot.delete(k);
      // both slots of a deleted row go; a crash before this finishes leaves a committed tombstone that load() removes
      const revision = this.lastRevision;
      this.lastRevision = undefined;
      await inParallel(gone.flatMap((k) => [`a.${k}`, `b.${k}`]), (k) => this.kv.delete(k));
      // a delete is one write whether or not the key existed
      if (revision !== undefined) this.lastRevision = revision + 2 * gone.length;
    }
    return { upserted, deletes };
  }

  /**
   * One row slot value, {v: GroupSnapshot, e: epoch} (RowValue), written straight from the
   * aggregator's state in the bytes encodeValue gives for it; a row holding a value the writer does
   * not write (a Date group value, say) goes through encodeValue. Either way decodeValue gives the
   * same RowValue.
   */
  private encodeRow(agg: Aggregator, row: PersistRow, e: number): Uint8Array {
    const w = this.writer;
    w.beginAfter();
    if (!w.record(RS_ROW) || !agg.writeGroupState(row, w)) {
      w.discard();
      return encodeValue({ v: agg.groupState(row), e } satisfies RowValue);
    }
    w.number(e);
    // a view, not a copy: the writer never writes these bytes again (see beginAfter)
    return w.take();
  }
}

const RS_ROW = new RecordShape(['v', 'e']);

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** Whether epoch e lies in one of the fenced ranges (pairs [from, to], inclusive). */
function fencedIn(fences: readonly number[], e: number): boolean {
  for (let i = 0; i + 1 < fences.length; i += 2) if (e >= fences[i]! && e <= fences[i + 1]!) return true;
  return false;
}
