// The aggregate op: records → Aggregator (in memory) → commit to KV (exactly once) → changelog.
import { isPcapflowError, PoisonError, type Actor, type ActorContext, type InputBatch, type KvStore } from '@pcapflow/core';
import { Aggregator, type AggregationSpec, type Change } from '../engine';
import type { AggregateConfig } from '../plugin';
import { serveHttp, registerLocal } from '../query/http';
import { ChangelogPacker, candidateRowKeys, changeRecord, checkQuery, decodeJson, encodeJson, querySubject, runQuery, type QueryReply, type QueryRequest, type TableQuery } from '../query/query';
import { DEFAULT_MAX_ROWS, durationMs, toAggregationSpec, type AggregateOpConfig } from './aggspec';
import { fieldsRead } from './fields';
import { AppliedSeqs, TableStore } from './state';

interface Deferred { promise: Promise<void>; resolve(): void; reject(e: unknown): void }
function deferred(): Deferred {
  let resolve!: () => void, reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export function stateBucket(table: string, partition: { index: number; count: number }, bucket?: string): string {
  const base = bucket ?? `pcapflow_table_${table}`;
  return partition.count > 1 ? `${base}_p${partition.index}` : base;
}

export class AggregateActor implements Actor {
  readonly spec: AggregationSpec;
  agg: Aggregator;
  private store: TableStore | undefined;
  private applied: AppliedSeqs;
  private readonly table: string;
  private readonly maxRows: number | undefined;
  /** a commit failed: memory holds uncommitted input; reload from KV before the next batch */
  private broken = false;
  private reloading: Promise<void> | undefined;
  private pending: Deferred | undefined;
  private pumping = false;
  /** reads of rows held in KV only in flight (warmRows) */
  private warming = 0;
  private timer: NodeJS.Timeout | undefined;
  private releaseHttp: (() => Promise<void>) | undefined;
  private unregister: (() => void) | undefined;
  httpPort: number | undefined;
  private readonly m;
  private readonly packer: ChangelogPacker;

  constructor(private readonly ctx: ActorContext, private readonly c: AggregateConfig) {
    this.spec = toAggregationSpec(c as unknown as AggregateOpConfig);
    // the bound on rows in memory: running totals with persisted state only (KV holds the rest)
    this.maxRows = c.state.persist && (c.window?.type ?? 'none') === 'none' ? c.state.max_rows ?? DEFAULT_MAX_ROWS : undefined;
    this.agg = new Aggregator(this.spec, this.maxRows ? { maxRows: this.maxRows } : {});
    this.table = c.table;
    this.packer = new ChangelogPacker(this.table, this.agg.groupNames, this.spec.aggregates.map((a) => a.name), this.agg.window.type !== 'none');
    this.applied = new AppliedSeqs(durationMs(c.state.dedupe_window), c.state.dedupe_max);
    this.m = {
      records: ctx.counter('records'),
      late: ctx.counter('late'),
      invalid: ctx.counter('invalid'),
      duplicates: ctx.counter('duplicates_skipped'),
      horizon: ctx.counter('dedupe_horizon_exceeded'),
      changes: ctx.counter('changes'),
      commits: ctx.counter('commits'),
      commitFailures: ctx.counter('commit_failures'),
      replayed: ctx.counter('replayed_on_start'),
      cooled: ctx.counter('rows_to_kv'),
      warmed: ctx.counter('rows_from_kv'),
    };
  }

  async start(): Promise<void> {
    const ctx = this.ctx;
    if (this.c.state.persist) {
      const kv: KvStore = await ctx.kv(stateBucket(this.table, ctx.partition, this.c.state.bucket));
      this.store = new TableStore(kv, {
        table: this.table, partitions: ctx.partition.count,
        dedupeWindowMs: durationMs(this.c.state.dedupe_window), dedupeMax: this.c.state.dedupe_max, replayEpochs: this.c.state.replay_epochs,
        ...(this.maxRows ? { maxRows: this.maxRows } : {}),
      });
      const loaded = await this.store.load(this.spec);
      this.agg = loaded.aggregator;
      this.applied = loaded.applied;
      ctx.log.info({ table: this.table, rows: loaded.rows, in_memory: this.agg.metrics().groups, discarded: loaded.discarded, epoch: this.store.epoch }, 'table state restored');
      // Changes of the last commits may not have been published before a crash: publish them again
      // (the changelog is upsert-by-key, so a repeated row is harmless; a lost final row is not).
      const names = this.agg.groupNames;
      for (const g of loaded.recent) {
        if (this.c.emit === 'final' && g.c !== 1) continue;
        // from the committed state read back (the row may be held in KV only)
        const ch = this.agg.rowOfSnapshot(g);
        ctx.emit('changes', changeRecord(this.table, names, ch));
        this.m.replayed.inc();
      }
      if (loaded.recent.length) await ctx.flush();
    }
    if (this.c.query) {
      const answer = async (data: Uint8Array): Promise<Uint8Array> => encodeJson(await this.answer(data));
      ctx.serve(querySubject(this.table, ctx.partition.index), answer);
      if (ctx.partition.index === 0) ctx.serve(querySubject(this.table), answer);
    }
    this.unregister = registerLocal({
      table: this.table, partition: ctx.partition.index, partitions: ctx.partition.count,
      query: (q) => this.query(q),
    });
    if (this.c.http) {
      const h = serveHttp(this.c.http.host, this.c.http.port);
      this.releaseHttp = h.release;
      this.httpPort = await h.ready;
      ctx.log.info({ table: this.table, url: `http://${this.c.http.host}:${this.httpPort}/tables/${this.table}` }, 'pull-query HTTP endpoint');
    }
    const w = this.agg.window;
    const tick = Math.min(...[w.idleClose > 0 ? Math.max(10, w.idleClose / 4) : Infinity, this.spec.debounceMs ? Math.max(10, this.spec.debounceMs / 2) : Infinity, 1000]);
    if (w.idleClose > 0 || (this.spec.debounceMs ?? 0) > 0) {
      this.timer = setInterval(() => { void this.onTimer(); }, tick);
      this.timer.unref?.();
    }
  }

  private async answer(data: Uint8Array): Promise<QueryReply> {
    const base = { table: this.table, partition: this.ctx.partition.index, partitions: this.ctx.partition.count, groupColumns: this.agg.groupNames };
    try {
      const req = decodeJson<QueryRequest>(data);
      if (req.op === 'info') return base;
      const r = await this.query(req);
      return { ...base, rows: r.rows, total: r.total };
    } catch (e) {
      // code and hint too: the NATS query client rethrows them as the same PcapflowError
      return { ...base, error: (e as Error).message, ...(isPcapflowError(e) ? { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } : {}) };
    }
  }

  /** A pull query over the rows in memory and, with max_rows, the rows held in KV only (read from KV). */
  private async query(q: TableQuery): Promise<{ rows: Record<string, unknown>[]; total: number }> {
    const agg = this.agg;
    if (!this.store || agg.coldRows === 0) return runQuery(agg, this.table, q);
    const checked = checkQuery(q, { table: this.table, groupColumns: agg.groupNames, windowed: false });
    const keys = (checked.key && candidateRowKeys(agg.groupNames.length, checked.key)) ?? await this.store.rowKeys();
    // rows not in memory: in KV only, or absent (readRows gives undefined)
    const cold = keys.filter((k) => !agg.hasRow(k));
    const rows = cold.length ? await this.store.readRows(cold, false) : new Map();
    const extra = [];
    for (const s of rows.values()) if (s) extra.push(agg.rowOfSnapshot(s));
    return runQuery(agg, this.table, q, extra);
  }

  /**
   * The fields the table reads. Records that leave as they came (late records emitted or
   * dead-lettered, invalid ones dead-lettered) still carry every field: see Actor.inputFields.
   */
  inputFields(): readonly string[] | undefined {
    const s = this.spec;
    return fieldsRead([...s.groupBy, ...s.aggregates.map((a) => a.arg), s.timestamp, s.where]);
  }

  async handle(batch: InputBatch): Promise<void> {
    if (this.broken || this.reloading) await this.reload();
    if (this.isDuplicate(batch)) return;
    await this.apply([batch]);
  }

  /**
   * Messages waiting in the mailbox, applied together under one commit: the commit covers all of
   * their sequences, and the runtime acks them only after it (all or nothing, so exactly-once holds
   * as for one message; see README § "State and exactly-once").
   */
  async handleMany(batches: InputBatch[]): Promise<void> {
    if (this.broken || this.reloading) await this.reload();
    // (the same message twice in one group, handed out twice: the second is a duplicate too)
    const seen = new Set<string>();
    const fresh = batches.filter((b) => {
      const id = `${b.stream}\u0000${b.seq}`;
      if (seen.has(id)) { this.m.duplicates.inc(); return false; }
      seen.add(id);
      return !this.isDuplicate(b);
    });
    if (fresh.length) await this.apply(fresh);
  }

  /**
   * Whether the message was applied already (it is acked without being applied again). Checked
   * for first deliveries too: nats-server may hand a message out again with a delivery count of
   * 1 when the pull it went to has lost its subscriber (a killed aggregator's last pull), and that
   * aggregator may have applied and committed it before it died.
   */
  private isDuplicate(batch: InputBatch): boolean {
    if (this.applied.has(batch.stream, batch.seq)) {
      this.m.duplicates.inc();
      return true;
    }
    if (batch.deliveryCount > 1 && this.applied.beyondHorizon(batch.stream, batch.seq)) {
      this.m.horizon.inc();
      this.ctx.log.warn({ stream: batch.stream, seq: batch.seq }, 'redelivered message older than the dedupe window: applied (it may be counted twice if it was applied before)');
    }
    return false;
  }

  /**
   * Rows of these records that are held in KV only come back into memory first. Nothing is applied
   * before they are all here (a commit in between must not see part of a message), and the check
   * is repeated until it finds none, as a commit finishing meanwhile may have dropped more rows.
   */
  private async warmRows(batches: readonly InputBatch[]): Promise<void> {
    for (;;) {
      let keys: Map<string, unknown[]> | undefined;
      for (const b of batches) {
        const k = this.agg.coldKeys(b.records);
        if (k.size) { keys ??= new Map(); for (const [key, v] of k) keys.set(key, v); }
      }
      if (!keys) return;
      // no row leaves memory while rows are read back (see pump): a row read here can then not
      // have been warmed, updated, committed and sent out again by another input meanwhile
      this.warming++;
      try {
        const rows = await this.store!.readRows(keys.keys(), true);
        this.agg.warm(keys, rows);
      } finally {
        this.warming--;
      }
      this.m.warmed.inc(keys.size);
    }
  }

  private async apply(batches: readonly InputBatch[]): Promise<void> {
    if (this.agg.coldRows > 0) await this.warmRows(batches);
    const r = { late: [] as Record<string, unknown>[], invalid: [] as Record<string, unknown>[] };
    let changes: Change[] = [];
    let n = 0;
    try {
      const now = Date.now();
      for (let i = 0; i < batches.length; i++) {
        const batch = batches[i]!;
        const one = this.agg.addBatch(batch.records, batch.seq);
        for (const x of one.late) r.late.push(x);
        for (const x of one.invalid) r.invalid.push(x);
        this.applied.add(batch.stream, batch.seq, now);
        n += batch.records.length;
        // windows close after each message as if it came alone, so what is late does not depend on grouping
        if (i < batches.length - 1) { const closed = this.agg.closeUpTo(); if (closed.length) changes = changes.concat(closed); }
      }
      const last = this.drain();
      changes = changes.length ? changes.concat(last) : last;
    } catch (e) {
      // memory may hold part of the batches: rebuild it from the last commit before the redelivery
      this.broken = true;
      throw e;
    }
    this.m.records.inc(n);
    await this.commit();
    // Committed: from here on nothing may throw, or the redelivery would be skipped as a duplicate
    // and these outputs lost.
    try {
      this.publish(changes);
      if (r.late.length) {
        this.m.late.inc(r.late.length);
        if (this.c.late === 'dead_letter') await this.ctx.deadLetter(r.late, new PoisonError(`record later than the grace period of table ${this.table} (its window is closed)`));
        else if (this.c.late === 'emit') for (const x of r.late) this.ctx.emit('late', x);
      }
      if (r.invalid.length) {
        this.m.invalid.inc(r.invalid.length);
        await this.ctx.deadLetter(r.invalid, new PoisonError(`record has no valid event time (${this.spec.timestamp}) for table ${this.table}`));
      }
    } catch (e) {
      this.ctx.log.error({ err: (e as Error).message, table: this.table }, 'could not emit outputs of a committed batch');
    }
  }

  private drain(): Change[] {
    const changes = this.agg.drainChanges();
    const closed = this.agg.closeUpTo();
    return closed.length ? changes.concat(closed) : changes;
  }

  private publish(changes: Change[]): void {
    const names = this.agg.groupNames;
    // the changes were drained for this: their row objects become the records
    for (const ch of changes) {
      const r = changeRecord(this.table, names, ch, true);
      this.packer.pack(r, ch);
      this.ctx.emit('changes', r);
    }
    this.m.changes.inc(changes.length);
  }

  /** Group commit: every caller waiting at the same time shares one KV commit. */
  private commit(): Promise<void> {
    if (!this.store) return Promise.resolve();
    const d = (this.pending ??= deferred());
    if (!this.pumping) void this.pump();
    return d.promise;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.pending) {
        const d = this.pending;
        this.pending = undefined;
        if (this.broken) {
          d.reject(new Error(`table ${this.table}: an earlier commit failed; the state is being reloaded`));
          continue;
        }
        try {
          await this.store!.commit(this.agg, this.applied);
          this.m.commits.inc();
          // Committed, and no other commit in flight: rows beyond max_rows may leave memory now (KV
          // holds their state). Not while rows are being read back: the next commit tries again.
          if (this.warming === 0) {
            const cooled = this.agg.coolDown();
            if (cooled.length) { this.store!.forget(cooled); this.m.cooled.inc(cooled.length); }
          }
          d.resolve();
        } catch (e) {
          this.broken = true;
          this.m.commitFailures.inc();
          this.ctx.log.error({ err: (e as Error).message, table: this.table }, 'commit failed; state will be reloaded from KV');
          d.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Rebuild memory from the last commit (after a failed commit, memory holds input that was never committed). */
  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      while (this.pumping) await new Promise((r) => setTimeout(r, 5));
      const loaded = await this.store!.load(this.spec);
      this.agg = loaded.aggregator;
      this.applied = loaded.applied;
      this.broken = false;
    })().finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  private timerBusy = false;
  private async onTimer(): Promise<void> {
    if (this.timerBusy || this.broken || this.reloading) return;
    this.timerBusy = true;
    try {
      const closed = this.agg.advanceWallClock(Date.now());
      const changes = this.agg.drainChanges().concat(closed);
      if (changes.length === 0) return;
      await this.commit();
      this.publish(changes);
      await this.ctx.flush();
    } catch (e) {
      this.ctx.log.warn({ err: (e as Error).message }, 'idle close / debounce flush failed');
    } finally {
      this.timerBusy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unregister?.();
    await this.releaseHttp?.();
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
  }

  health() {
    const a = this.agg.metrics();
    return {
      ok: !this.broken,
      ...(this.broken ? { detail: 'a KV commit failed; reloading state' } : {}),
      metrics: {
        groups: a.groups, cold_rows: a.cold, closed: a.closed, evicted: a.evicted, late: a.late, filtered: a.filtered,
        epoch: this.store?.epoch ?? 0, commits: this.store?.commits ?? 0, row_puts: this.store?.rowPuts ?? 0,
        applied_seqs: this.applied.size(), applied_ranges: this.applied.ranges(), ...(this.httpPort !== undefined ? { http_port: this.httpPort } : {}),
      },
    };
  }
}

export function createAggregateActor(ctx: ActorContext, c: AggregateConfig): Actor {
  return new AggregateActor(ctx, c);
}
