// Exactly-once table state. (1) The commit protocol against a KV that "crashes" after any number of
// puts; (2) a real nats-server topology whose aggregator is killed (connection dropped without
// draining, like kill -9) again and again mid-run: the final table equals values computed here.
import { encodeValue, decodeValue, type KvStore } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { Aggregator, AppliedSeqs, TableStore, queryTable, stateBucket, type AggregationSpec } from '../src';
import { wrapperPlugin } from './helpers/wrapper-plugin';

/** An in-memory KV whose puts start failing after `budget` operations (a process dying mid-commit). */
class CrashingKv implements KvStore {
  readonly bucket = 'mem';
  budget = Infinity;
  constructor(readonly data = new Map<string, Uint8Array>()) {}
  private spend(): void {
    if (this.budget-- <= 0) throw new Error('crashed');
  }
  async get(key: string) { const v = this.data.get(key); return v ? { value: v, revision: 1 } : undefined; }
  async put(key: string, value: Uint8Array) { this.spend(); this.data.set(key, value); return 1; }
  async delete(key: string) { this.spend(); this.data.delete(key); }
  async *keys() { for (const k of [...this.data.keys()]) yield k; }
  async *watch(): AsyncIterable<{ key: string; revision: number; op: 'put' | 'del' }> { return; }
}

const SPEC: AggregationSpec = {
  groupBy: ['k'],
  window: { type: 'session', gap: 10 },
  timestamp: 't',
  aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 's', fn: 'SUM', arg: 'v' }, { name: 'vals', fn: 'COLLECT_LIST', arg: 'v' }],
};

/** Message m: 6 records over 4 keys; event times make sessions that merge and close. */
function message(m: number): Record<string, unknown>[] {
  return Array.from({ length: 6 }, (_, j) => ({ k: `k${(m + j) % 4}`, t: m * 4 + j, v: m * 10 + j }));
}

/** Expected session rows computed directly from the records: per key, sort times, split at gaps > 10. */
function expectedSessions(messages: number, closedThrough = -Infinity): Record<string, { n: number; s: number; start: number; end: number }> {
  const byKey = new Map<string, Array<{ t: number; v: number }>>();
  for (let m = 0; m < messages; m++) for (const r of message(m)) {
    const l = byKey.get(r.k as string) ?? [];
    l.push({ t: r.t as number, v: r.v as number });
    byKey.set(r.k as string, l);
  }
  void closedThrough;
  const out: Record<string, { n: number; s: number; start: number; end: number }> = {};
  for (const [k, l] of byKey) {
    l.sort((a, b) => a.t - b.t);
    let cur: { n: number; s: number; start: number; end: number } | undefined;
    for (const x of l) {
      if (cur && x.t - cur.end <= 10) { cur.n++; cur.s += x.v; cur.end = x.t; } else {
        if (cur) out[`${k}@${cur.start}`] = cur;
        cur = { n: 1, s: x.v, start: x.t, end: x.t };
      }
    }
    if (cur) out[`${k}@${cur.start}`] = cur;
  }
  return out;
}

function tableOf(agg: Aggregator): Record<string, { n: number; s: number; start: number; end: number }> {
  const out: Record<string, { n: number; s: number; start: number; end: number }> = {};
  for (const r of agg.rows()) out[`${r.row.k}@${r.windowStart}`] = { n: r.row.n as number, s: r.row.s as number, start: r.windowStart!, end: r.windowEnd! };
  return out;
}

describe('commit protocol', () => {
  test('a crash after any number of KV operations loses nothing and counts nothing twice', async () => {
    const MESSAGES = 40;
    // The session windows here never close (no grace, stream time grows slowly: gap 10 > time step), so every row stays.
    for (let crashAt = 0; crashAt < 60; crashAt += 3) {
      const kv = new CrashingKv();
      const opts = { table: 't', partitions: 1, dedupeWindowMs: 60_000, dedupeMax: 10_000, replayEpochs: 8 };
      let store = new TableStore(kv, opts);
      let state = await store.load(SPEC);
      // Deliveries: messages in order, the one in flight at the crash and a few before it redelivered afterwards
      let m = 0;
      let crashes = 0;
      const delivered = new Set<number>();
      const queue: Array<{ m: number; redelivery: boolean }> = Array.from({ length: MESSAGES }, (_, i) => ({ m: i, redelivery: false }));
      kv.budget = crashAt + 5;
      while (queue.length) {
        const { m: msg, redelivery } = queue.shift()!;
        m++;
        const dc = redelivery || delivered.has(msg) ? 2 : 1;
        delivered.add(msg);
        if (dc > 1 && state.applied.has('S', msg + 1)) continue; // acked as duplicate
        state.aggregator.addBatch(message(msg), msg + 1);
        state.applied.add('S', msg + 1, 0);
        state.aggregator.drainChanges();
        state.aggregator.closeUpTo();
        try {
          await store.commit(state.aggregator, state.applied);
        } catch {
          // process died: restart from KV; this message and the two before it (unacked) come again, after newer ones
          crashes++;
          kv.budget = Infinity;
          store = new TableStore(kv, opts);
          state = await store.load(SPEC);
          kv.budget = crashAt + 7 * crashes + 5;
          queue.splice(Math.min(2, queue.length), 0, { m: msg, redelivery: true }, ...(msg > 0 ? [{ m: msg - 1, redelivery: true }] : []));
          continue;
        }
        // randomly lose an ack: the message is redelivered later although it was committed
        if (msg % 7 === 3 && !redelivery) queue.splice(Math.min(3, queue.length), 0, { m: msg, redelivery: true });
      }
      expect(crashes).toBeGreaterThan(0);
      // reload once more from KV only: the durable state is the exact result
      const final = await new TableStore(kv, opts).load(SPEC);
      expect(tableOf(final.aggregator)).toEqual(expectedSessions(MESSAGES));
      expect(tableOf(state.aggregator)).toEqual(expectedSessions(MESSAGES));
      void m;
    }
  });

  test('slots of an unfinished commit are discarded on load; tombstones of merged sessions are cleaned', async () => {
    const kv = new CrashingKv();
    const opts = { table: 't', partitions: 1, dedupeWindowMs: 60_000, dedupeMax: 10_000, replayEpochs: 8 };
    const store = new TableStore(kv, opts);
    const st = await store.load(SPEC);
    st.aggregator.addBatch([{ k: 'a', t: 0, v: 1 }, { k: 'a', t: 18, v: 2 }], 1);
    st.applied.add('S', 1, 0);
    await store.commit(st.aggregator, st.applied);
    // a bridging record merges the two sessions (one key disappears); the commit dies before _ckpt
    st.aggregator.addBatch([{ k: 'a', t: 9, v: 4 }], 2);
    st.applied.add('S', 2, 0);
    kv.budget = 2; // the row puts go through, the checkpoint put fails
    await expect(store.commit(st.aggregator, st.applied)).rejects.toThrow('crashed');
    kv.budget = Infinity;
    const again = await new TableStore(kv, opts).load(SPEC);
    expect(again.discarded).toBeGreaterThan(0);
    expect(again.applied.has('S', 2)).toBe(false);
    expect(tableOf(again.aggregator)).toEqual({ 'a@0': { n: 1, s: 1, start: 0, end: 0 }, 'a@18': { n: 1, s: 2, start: 18, end: 18 } });
    // redelivery applies it once; the merged-away key is deleted from KV
    const s2 = new TableStore(kv, opts);
    const st2 = await s2.load(SPEC);
    st2.aggregator.addBatch([{ k: 'a', t: 9, v: 4 }], 2);
    st2.applied.add('S', 2, 0);
    await s2.commit(st2.aggregator, st2.applied);
    const final = await new TableStore(kv, opts).load(SPEC);
    expect(tableOf(final.aggregator)).toEqual({ 'a@0': { n: 3, s: 7, start: 0, end: 18 } });
    expect([...new Set([...kv.data.keys()].filter((k) => k.startsWith('a.') || k.startsWith('b.')).map((k) => k.slice(2)))]).toEqual(['a.=w0']);
  });

  test('a dead writer\'s puts that arrive after the next writer loaded are never read as committed (fences)', async () => {
    const store = new CrashingKv();
    // writer A's puts can be held back: what it wrote to its socket before dying, reaching the server late
    const held: Array<() => void> = [];
    let hold = false;
    const viaA: KvStore = {
      bucket: 'mem', get: (k) => store.get(k), delete: (k) => store.delete(k), keys: () => store.keys(), watch: () => store.watch(),
      put: (k, v) => (hold ? new Promise<number>((resolve) => held.push(() => resolve(store.put(k, v)))) : store.put(k, v)),
    };
    const spec: AggregationSpec = { groupBy: ['k'], aggregates: [{ name: 'n', fn: 'COUNT' }] };
    const opts = { table: 't', partitions: 1, dedupeWindowMs: 60_000, dedupeMax: 10_000, replayEpochs: 0 };
    const a = new TableStore(viaA, opts);
    const stA = await a.load(spec);
    stA.aggregator.addBatch([{ k: 'r' }, { k: 'other' }], 1);
    stA.applied.add('S', 1, 0);
    await a.commit(stA.aggregator, stA.applied);
    // A applies message 2 to row r and commits; its puts are on their way when it dies
    hold = true;
    stA.aggregator.addBatch([{ k: 'r' }], 2);
    stA.applied.add('S', 2, 0);
    const zombie = a.commit(stA.aggregator, stA.applied);
    // B loads meanwhile: r counted once, message 2 not applied
    const b = new TableStore(store, opts);
    const stB = await b.load(spec);
    expect(Object.fromEntries(stB.aggregator.rows().map((r) => [r.row.k, r.row.n]))).toEqual({ r: 1, other: 1 });
    expect(stB.applied.has('S', 2)).toBe(false);
    // A's puts land now, then B commits work of its own (not touching r)
    hold = false;
    for (const release of held.splice(0)) release();
    await zombie;
    stB.aggregator.addBatch([{ k: 'other' }], 3);
    stB.applied.add('S', 3, 0);
    await b.commit(stB.aggregator, stB.applied);
    // r read back from KV (as a row held in KV only is when its key returns) is still the committed r
    const rKey = (await b.rowKeys()).find((k) => k.includes('r') && !k.includes('other'))!;
    const snapshot = (await b.readRows([rKey], false)).get(rKey)!;
    expect(stB.aggregator.rowOfSnapshot(snapshot).row).toMatchObject({ k: 'r', n: 1 });
    const back = new TableStore(store, opts);
    const again = await back.load(spec);
    expect(Object.fromEntries(again.aggregator.rows().map((r) => [r.row.k, r.row.n]))).toEqual({ r: 1, other: 2 });
    expect(again.applied.has('S', 2)).toBe(false);
    expect(again.discarded).toBeGreaterThan(0);
  });

  test('applied sequences: redeliveries after newer messages are recognised; pruning keeps the newest and respects run time', () => {
    const a = new AppliedSeqs(1000, 100, 10);
    for (let s = 1; s <= 50; s++) a.add('S', s * 3, 0);
    expect(a.has('S', 3)).toBe(true);
    expect(a.has('S', 4)).toBe(false);
    a.prune(500); // younger than the window: kept
    expect(a.size()).toBe(50);
    a.prune(2000); // older: only the newest 10 stay
    expect(a.size()).toBe(10);
    expect(a.has('S', 150)).toBe(true);
    expect(a.beyondHorizon('S', 3)).toBe(true);
    const b = AppliedSeqs.decode(decodeValue(encodeValue(a.encode())) as never, 5000, 1000, 100);
    expect(b.has('S', 150)).toBe(true);
    expect(b.has('S', 120)).toBe(false);
    expect(b.beyondHorizon('S', 120)).toBe(true);
  });
});

/** Counts the guarded puts made through a KvStore (wraps its putIfLast). */
function countGuarded(kv: KvStore): { guarded: number; unacked: number } {
  const c = { guarded: 0, unacked: 0 };
  const orig = kv.putIfLast!.bind(kv);
  kv.putIfLast = (k, v, r) => { c.guarded++; return orig(k, v, r); };
  const unacked = kv.putUnacked!.bind(kv);
  kv.putUnacked = (k, v) => { c.unacked++; unacked(k, v); };
  return c;
}

describe('kill -9 on a real nats-server', () => {
  let nats: NatsServerHandle;
  let use: string;
  beforeAll(async () => { nats = await startNatsServer(); use = JSON.stringify(wrapperPlugin()); });
  afterAll(async () => { await nats?.stop(); });

  const MESSAGES = 400;
  const PER_MESSAGE = 25;
  const KEYS = 17;
  const record = (i: number) => ({ key: `dev-${i % KEYS}`, value: i % 13, ts: 1_700_000_000_000 + i * 1000 });

  function expected(): Record<string, { n: number; sum: number; distinct: number; hourly: Record<string, number> }> {
    const out: Record<string, { n: number; sum: number; vals: Set<number> }> = {};
    for (let i = 0; i < MESSAGES * PER_MESSAGE; i++) {
      const r = record(i);
      const e = (out[r.key] ??= { n: 0, sum: 0, vals: new Set() });
      e.n++; e.sum += r.value; e.vals.add(r.value);
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { n: v.n, sum: v.sum, distinct: v.vals.size, hourly: {} }]));
  }

  const topology = (prefix: string, maxRows?: number) => `
streams:
  ${prefix}_IN: { subjects: ["${prefix}.in.>"], storage: file }
  ${prefix}_TAB: { subjects: ["${prefix}.tab.>"], storage: file }
instances:
  stats:
    use: ${use}
    hosts: [agg]
    config:
      op: aggregate
      table: ${prefix}_totals
      group_by: [key]
      aggregates: { n: COUNT(*), sum: SUM(value), distinct: COUNT_DISTINCT(value), first: EARLIEST(ts), last: LATEST(ts) }${maxRows ? `
      state: { max_rows: ${maxRows} }` : ''}
    inputs: { in: "${prefix}.in.>" }
    outputs: { changes: "${prefix}.tab.{key}" }
    consumer: { ack_wait: 1s, max_ack_pending: 8 }
`;

  test('a commit is one round trip: a row put that never reached the server makes the guarded checkpoint refused', async () => {
    const real = await startTestPipeline({ yaml: 'streams: {}\ninstances: {}\n', natsUrl: nats.url });
    try {
      const kv = await real.transport.kv(`guarded${Date.now() % 100000}`);
      // the same bucket, with puts of one key lost on the way (as a publish the client never sent)
      const lose = { key: '' };
      const lossy: KvStore = {
        bucket: kv.bucket, get: (k) => kv.get(k), delete: (k) => kv.delete(k), keys: (f) => kv.keys(f), watch: (f, sig) => kv.watch(f, sig),
        put: (k, v) => (lose.key && k.endsWith(lose.key) ? Promise.reject(new Error('lost')) : kv.put(k, v)),
        // lost without a word: no acknowledgement was asked for
        putUnacked: (k, v) => { if (!(lose.key && k.endsWith(lose.key))) kv.putUnacked!(k, v); },
        putIfLast: (k, v, r) => kv.putIfLast!(k, v, r),
      };
      const spec: AggregationSpec = { groupBy: ['k'], aggregates: [{ name: 'n', fn: 'COUNT' }] };
      const opts = { table: 'g', partitions: 1, dedupeWindowMs: 60_000, dedupeMax: 1000, replayEpochs: 0 };
      const store = new TableStore(lossy, opts);
      const { aggregator: agg, applied } = await store.load(spec);
      const put = countGuarded(kv);
      for (let m = 1; m <= 3; m++) {
        agg.addBatch([{ k: 'x' }, { k: `y${m}` }], m);
        applied.add('S', m, 0);
        await store.commit(agg, applied);
      }
      // commits after the first go out as one round trip, guarded, their row puts unacknowledged
      expect(put.guarded).toBeGreaterThanOrEqual(2);
      expect(put.unacked).toBeGreaterThanOrEqual(2 * put.guarded);
      lose.key = 'y4';
      agg.addBatch([{ k: 'x' }, { k: 'y4' }], 4);
      applied.add('S', 4, 0);
      await expect(store.commit(agg, applied)).rejects.toThrow();
      // what KV holds is the third commit: x counted three times, no y4, message 4 not applied
      const back = await new TableStore(kv, opts).load(spec);
      expect(Object.fromEntries(back.aggregator.rows().map((r) => [r.row.k, r.row.n]))).toEqual({ x: 3, y1: 1, y2: 1, y3: 1 });
      expect(back.applied.has('S', 3)).toBe(true);
      expect(back.applied.has('S', 4)).toBe(false);
    } finally {
      await real.stop();
    }
  });

  // max_rows 5 of 17 keys: every message brings rows back from KV and every commit sends rows out
  test.each([
    ['every row in memory', undefined],
    ['at most 5 of the 17 rows in memory (max_rows)', 5],
  ])('the aggregator killed repeatedly mid-run: the final table is exact (%s)', async (_what, maxRows) => {
    const prefix = `kill${maxRows ?? 0}x${Date.now() % 100000}`;
    const yaml = topology(prefix, maxRows);
    // publish everything up front (the stream is durable) before the aggregator starts, so it works
    // through a backlog (in groups of waiting messages) while we kill it
    const feeder = await startTestPipeline({ yaml, natsUrl: nats.url, host: 'feeder' });
    for (let m = 0; m < MESSAGES; m++) await feeder.feed(`${prefix}.in.x`, Array.from({ length: PER_MESSAGE }, (_, j) => record(m * PER_MESSAGE + j)), `m${m}`);
    await feeder.stop();
    let p: TestPipeline = await startTestPipeline({ yaml, natsUrl: nats.url, host: 'agg' });
    const kills = 6;
    let handledTotal = 0;
    for (let k = 0; k < kills; k++) {
      const actor = p.runtime.actors.find((a) => a.name === 'stats')!;
      const target = (actor.metrics().handled ?? 0) + 5 + k * 3;
      while ((actor.metrics().handled ?? 0) < target) await new Promise((r) => setTimeout(r, 2));
      // die without draining: in-flight messages stay unacked, commits may be cut in half
      await (p.transport as unknown as { nc: { close(): Promise<void> } }).nc.close();
      handledTotal += actor.metrics().handled ?? 0;
      void p.runtime.stop().catch(() => undefined);
      p = await startTestPipeline({ yaml, natsUrl: nats.url, host: 'agg' });
    }
    expect(handledTotal).toBeLessThan(MESSAGES);
    await p.drain(120_000);
    const stats = p.runtime.actors.find((a) => a.name === 'stats')!;
    if (maxRows) {
      const m = stats.health().metrics;
      expect(m.rows_to_kv).toBeGreaterThan(0);
      expect(m.rows_from_kv).toBeGreaterThan(0);
      expect(m.groups).toBeLessThanOrEqual(17);
      expect(m.groups + m.cold_rows).toBe(17);
    }
    // the table over NATS request/reply (the same path `pcapflow query` takes)
    const got = await queryTable(p.transport, `${prefix}_totals`, {});
    const table = Object.fromEntries(got.rows.map((r) => [r.key as string, { n: r.n, sum: r.sum, distinct: r.distinct, hourly: {} }]));
    expect(table).toEqual(expected());
    // a query the table refuses: the reply carries the error's code and hint, not only its message
    const refused = await queryTable(p.transport, `${prefix}_totals`, { from: '2024-01-01', to: '2024-01-02' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'PCAPFLOW_QUERY', message: expect.stringContaining('has no window') });
    expect((refused as { hint?: string }).hint).toMatch(/^filter by key instead: give the group values \(key\) as KEY/);
    // the durable state in KV says the same
    const kv = await p.transport.kv(stateBucket(`${prefix}_totals`, { index: 0, count: 1 }));
    const reloaded = await new TableStore(kv, { table: `${prefix}_totals`, partitions: 1, dedupeWindowMs: 60_000, dedupeMax: 100_000, replayEpochs: 0 })
      .load({ groupBy: ['key'], aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 'sum', fn: 'SUM', arg: 'value' }] });
    expect(Object.fromEntries(reloaded.aggregator.rows().map((r) => [r.row.key, r.row.n]))).toEqual(Object.fromEntries(Object.entries(expected()).map(([k, v]) => [k, v.n])));
    // every input message is in the applied set once, as one interval of stream sequences: [1, MESSAGES]
    const ckpt = decodeValue((await kv.get('_ckpt'))!.value) as { v: number; d: Record<string, unknown> };
    expect(ckpt.v).toBe(2);
    expect(ckpt.d).toEqual({ [`${prefix}_IN`]: { f: 0, r: [1, -(MESSAGES - 1)] } });
    // the last change per key on the changelog equals the table
    void stats;
    await p.stop();
  }, 180_000);
});
