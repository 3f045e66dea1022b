// The _ckpt commit record: applied sequences as ranges (v2) stay small however many messages were
// applied; a v1 checkpoint (delta list) written by the previous version still loads and dedupes.
import { decodeValue, encodeValue } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type NatsServerHandle } from '@pcapflow/core/testkit';
import { AppliedSeqs, TableStore, queryTable, stateBucket, type AggregationSpec } from '../src';
import { MemKv } from '../src/bench/mem-kv';
import { wrapperPlugin } from './helpers/wrapper-plugin';

const SPEC: AggregationSpec = { groupBy: ['k'], aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 's', fn: 'SUM', arg: 'v' }] };
const OPTS = { table: 't', partitions: 1, dedupeWindowMs: 600_000, dedupeMax: 200_000, replayEpochs: 0 };

describe('checkpoint size', () => {
  test('100k applied sequences with gaps and out-of-order redeliveries: the checkpoint stays small', async () => {
    const kv = new MemKv();
    const store = new TableStore(kv, OPTS);
    const st = await store.load(SPEC);
    const N = 100_000;
    // every 997th sequence is held back (NAKed) and applied only 5000 sequences later; every 10007th never comes
    const late = new Map<number, number[]>();
    const never = (s: number) => s % 10_007 === 0;
    let applied = 0;
    const apply = (s: number) => {
      st.aggregator.addBatch([{ k: `k${s % 5}`, v: 1 }], s);
      st.applied.add('IN', s, 0);
      applied++;
    };
    for (let s = 1; s <= N; s++) {
      if (never(s)) continue;
      if (s % 997 === 0) { const l = late.get(s + 5000) ?? []; l.push(s); late.set(s + 5000, l); } else apply(s);
      for (const x of late.get(s) ?? []) apply(x);
      late.delete(s);
      if (s % 1000 === 0) await store.commit(st.aggregator, st.applied);
    }
    for (const l of late.values()) for (const x of l) apply(x);
    await store.commit(st.aggregator, st.applied);
    const bytes = kv.data.get('_ckpt')!.length;
    // the 9 sequences that never came split the set into 10 intervals: tens of bytes, not ~100 KB
    expect(st.applied.ranges()).toBe(10);
    expect(bytes).toBeLessThan(300);
    const again = await new TableStore(kv, OPTS).load(SPEC);
    expect(again.applied.size()).toBe(applied);
    for (let s = 1; s <= N; s++) if (again.applied.has('IN', s) === never(s)) throw new Error(`sequence ${s} wrongly ${never(s) ? 'present' : 'absent'}`);
    expect(again.aggregator.rows().reduce((a, r) => a + (r.row.n as number), 0)).toBe(applied);
  });

  test('persistent gaps are bounded by max intervals; forgotten ones are beyond the horizon', () => {
    const a = new AppliedSeqs(600_000, 1000, 10);
    // a partition that sees every 3rd sequence of a shared stream: every sequence is its own interval
    for (let s = 3; s <= 30_000; s += 3) a.add('IN', s, 0);
    a.prune(0);
    expect(a.ranges()).toBe(1000);
    expect(a.has('IN', 30_000)).toBe(true);
    expect(a.has('IN', 30_000 - 3 * 999)).toBe(true);
    expect(a.has('IN', 30_000 - 3 * 1000)).toBe(false);
    expect(a.beyondHorizon('IN', 30_000 - 3 * 1000)).toBe(true);
    expect(a.beyondHorizon('IN', 30_000 - 3 * 999)).toBe(false);
    // and never more than the v1 delta list of the same sequences: one small number each
    expect(encodeValue(a.encode()).length).toBeLessThan(1000 + 100);
  });

  test('sequences that are not stream sequences (< 1, fractional) are not remembered: the checkpoint stays readable', () => {
    const a = new AppliedSeqs(1000, 100);
    for (const s of [0, -1, 1.5, 2]) a.add('IN', s, 0);
    expect(a.size()).toBe(1);
    const b = AppliedSeqs.decode(decodeValue(encodeValue(a.encode())) as never, 0, 1000, 100);
    expect([b.has('IN', 2), b.has('IN', 0)]).toEqual([true, false]);
  });

  test('intervals untouched for the dedupe window (run time) are forgotten, the newest minKeep stay', () => {
    const a = new AppliedSeqs(1000, 100, 2);
    for (let s = 1; s <= 10; s++) a.add('IN', s, 0); // [1,10]
    a.add('IN', 20, 0);
    a.add('IN', 30, 500);
    a.add('IN', 40, 900);
    a.prune(1200); // [1,10] and 20 are older than the window; 30 and 40 are not
    expect([a.has('IN', 5), a.has('IN', 20), a.has('IN', 30), a.has('IN', 40)]).toEqual([false, false, true, true]);
    expect(a.beyondHorizon('IN', 20)).toBe(true);
    a.prune(10_000); // all old: the newest 2 intervals stay
    expect(a.ranges()).toBe(2);
    // a redelivery that fills the gap below the contiguous run joins it
    for (let s = 31; s < 40; s++) a.add('IN', s, 10_000);
    expect(a.ranges()).toBe(1);
    expect(a.size()).toBe(11);
  });
});

describe('v1 checkpoints (written by the previous version)', () => {
  test('loads: sequences of the v1 delta list are duplicates, the others are not; the next commit writes v2', async () => {
    const kv = new MemKv();
    // rows through the current store (their format did not change), then the checkpoint as v1 wrote it
    const s0 = new TableStore(kv, OPTS);
    const st0 = await s0.load(SPEC);
    for (const seq of [1, 2, 3, 4, 5, 6, 9]) st0.aggregator.addBatch([{ k: `k${seq % 2}`, v: seq }], seq);
    await s0.commit(st0.aggregator, st0.applied);
    const e = (decodeValue(kv.data.get('_ckpt')!) as { e: number }).e;
    kv.data.set('_ckpt', encodeValue({ v: 1, e, st: null, ct: null, ms: 9, d: { IN: { f: 0, s: [1, 1, 1, 1, 1, 1, 3] } } }));

    const store = new TableStore(kv, OPTS);
    const st = await store.load(SPEC);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => st.applied.has('IN', s))).toEqual([true, true, true, true, true, true, false, false, true, false]);
    expect(st.applied.ranges()).toBe(2);
    // redeliveries: 3 and 9 are skipped (as the actor does), 7 and 8 applied; then 10
    for (const seq of [3, 7, 9, 8, 10]) {
      if (st.applied.has('IN', seq)) continue;
      st.aggregator.addBatch([{ k: `k${seq % 2}`, v: seq }], seq);
      st.applied.add('IN', seq, 0);
    }
    await store.commit(st.aggregator, st.applied);
    const ck = decodeValue(kv.data.get('_ckpt')!) as { v: number; d: Record<string, { f: number; r: number[] }> };
    expect(ck.v).toBe(2);
    expect(ck.d.IN).toEqual({ f: 0, r: [1, -9] });
    const final = await new TableStore(kv, OPTS).load(SPEC);
    const rows = Object.fromEntries(final.aggregator.rows().map((r) => [r.row.k, [r.row.n, r.row.s]]));
    expect(rows).toEqual({ k0: [5, 2 + 4 + 6 + 8 + 10], k1: [5, 1 + 3 + 5 + 7 + 9] });
  });

  test('an unreadable applied-sequence list is a typed error with a hint', async () => {
    const kv = new MemKv();
    kv.data.set('_ckpt', encodeValue({ v: 2, e: 1, st: null, ct: null, ms: null, d: { IN: { f: 0, r: [-4] } } }));
    await expect(new TableStore(kv, OPTS).load(SPEC)).rejects.toMatchObject({ code: 'PCAPFLOW_CONFIG_INVALID', hint: expect.stringContaining('delete the KV buckets') });
  });
});

describe('v1 checkpoint on a real nats-server', () => {
  let nats: NatsServerHandle;
  let use: string;
  beforeAll(async () => { nats = await startNatsServer(); use = JSON.stringify(wrapperPlugin()); });
  afterAll(async () => { await nats?.stop(); });

  test('a table whose checkpoint the previous version wrote restarts and continues exactly', async () => {
    const prefix = `ckv1${Date.now() % 100000}`;
    const table = `${prefix}_totals`;
    const yaml = `
streams:
  ${prefix}_IN: { subjects: ["${prefix}.in.>"], storage: file }
  ${prefix}_TAB: { subjects: ["${prefix}.tab.>"], storage: file }
instances:
  stats:
    use: ${use}
    config:
      op: aggregate
      table: ${table}
      group_by: [key]
      aggregates: { n: COUNT(*), sum: SUM(value) }
    inputs: { in: "${prefix}.in.>" }
    outputs: { changes: "${prefix}.tab.{key}" }
`;
    const record = (i: number) => ({ key: `d${i % 3}`, value: i });
    let p = await startTestPipeline({ yaml, natsUrl: nats.url });
    for (let m = 0; m < 20; m++) await p.feed(`${prefix}.in.x`, [record(2 * m), record(2 * m + 1)]);
    await p.drain(60_000);
    // rewrite the checkpoint as the previous version wrote it (stream sequences 1..20 as deltas), then
    // stop: the aggregator is idle (no window, no timer), so nothing commits after the rewrite
    const bucket = await p.transport.kv(stateBucket(table, { index: 0, count: 1 }));
    const ck = decodeValue((await bucket.get('_ckpt'))!.value) as { v: number; e: number; st: null; ct: null; ms: number; d: Record<string, { f: number; r: number[] }> };
    expect(ck.d[`${prefix}_IN`]).toEqual({ f: 0, r: [1, -19] });
    await bucket.put('_ckpt', encodeValue({ v: 1, e: ck.e, st: ck.st, ct: ck.ct, ms: ck.ms, d: { [`${prefix}_IN`]: { f: 0, s: Array.from({ length: 20 }, () => 1) } } }));
    await p.stop();

    p = await startTestPipeline({ yaml, natsUrl: nats.url });
    for (let m = 20; m < 30; m++) await p.feed(`${prefix}.in.x`, [record(2 * m), record(2 * m + 1)]);
    await p.drain(60_000);
    const got = await queryTable(p.transport, table, {});
    const want: Record<string, { n: number; sum: number }> = {};
    for (let i = 0; i < 60; i++) { const w = (want[`d${i % 3}`] ??= { n: 0, sum: 0 }); w.n++; w.sum += i; }
    expect(Object.fromEntries(got.rows.map((r) => [r.key, { n: r.n, sum: r.sum }]))).toEqual(want);
    const after = decodeValue((await (await p.transport.kv(stateBucket(table, { index: 0, count: 1 }))).get('_ckpt'))!.value) as { v: number; d: Record<string, { r: number[] }> };
    expect(after.v).toBe(2);
    expect(after.d[`${prefix}_IN`].r).toEqual([1, -29]);
    await p.stop();
  }, 120_000);
});
