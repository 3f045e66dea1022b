// state.max_rows: a running-totals table holds at most that many rows in memory; the others live in
// KV only and come back before a record of theirs is applied. The results must be those of a table
// that holds every row, through cooling, warming, restarts, TTL and pull queries.
import { decodeValue } from '@pcapflow/core';
import { startTestPipeline, type TestPipeline } from '@pcapflow/core/testkit';
import { Aggregator, AppliedSeqs, TableStore, configSchema, queryLocal, type AggregationSpec, type Change } from '../src';
import { KeyFingerprints } from '../src/engine/key-set';
import { MemKv } from '../src/bench/mem-kv';
import { wrapperPlugin } from './helpers/wrapper-plugin';

const SPEC: AggregationSpec = {
  groupBy: ['dev'],
  timestamp: 'ts',
  aggregates: [
    { name: 'n', fn: 'COUNT' }, { name: 'sum', fn: 'SUM', arg: 'v' }, { name: 'lo', fn: 'MIN', arg: 'v' },
    { name: 'vals', fn: 'COLLECT_SET', arg: 'v' }, { name: 'distinct', fn: 'COUNT_DISTINCT', arg: 'v' },
    { name: 'first', fn: 'EARLIEST', arg: 'v' }, { name: 'last', fn: 'LATEST', arg: 'v' },
  ],
};

/** Deterministic records: a few hot keys and a long tail, so rows leave memory and come back. */
function messages(count: number, perMessage: number, keys: number, seed: number, t0 = 0): Record<string, unknown>[][] {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: Record<string, unknown>[][] = [];
  for (let m = 0; m < count; m++) {
    const recs: Record<string, unknown>[] = [];
    for (let j = 0; j < perMessage; j++) {
      const k = rnd() < 0.5 ? Math.floor(rnd() * 5) : Math.floor(rnd() * keys);
      recs.push({ dev: `d${k}`, v: Math.floor(rnd() * 40), ts: t0 + (m * perMessage + j) * 1000 });
    }
    out.push(recs);
  }
  return out;
}

const byKey = (rows: Change[]) => Object.fromEntries(rows.map((r) => [r.key, r.row]));

/** What the actor does per message: warm, add, commit, cool. */
async function applyBounded(agg: Aggregator, store: TableStore, applied: AppliedSeqs, records: Record<string, unknown>[], seq: number): Promise<number> {
  let warmed = 0;
  for (let keys = agg.coldKeys(records); keys.size; keys = agg.coldKeys(records)) {
    agg.warm(keys, await store.readRows(keys.keys(), true));
    warmed += keys.size;
  }
  agg.addBatch(records, seq);
  applied.add('IN', seq, 0);
  agg.drainChanges();
  agg.closeUpTo();
  await store.commit(agg, applied);
  store.forget(agg.coolDown());
  return warmed;
}

/** Every row of a bounded table: those in memory and those read back from KV. */
async function allRows(agg: Aggregator, store: TableStore): Promise<Change[]> {
  const cold = (await store.rowKeys()).filter((k) => !agg.hasRow(k));
  const rows = await store.readRows(cold, false);
  return [...agg.rows(), ...[...rows.values()].map((s) => agg.rowOfSnapshot(s!))];
}

const storeOptions = (maxRows?: number) => ({ table: 't', partitions: 1, dedupeWindowMs: 600_000, dedupeMax: 1000, replayEpochs: 0, clock: () => 0, ...(maxRows ? { maxRows } : {}) });

describe('engine and store with maxRows', () => {
  test('equal to a table holding every row, across cooling, warming and a restart', async () => {
    const input = messages(60, 150, 2000, 7);
    const full = new Aggregator(SPEC);
    const kv = new MemKv();
    let store = new TableStore(kv, storeOptions(100));
    let { aggregator: agg, applied } = await store.load(SPEC);
    let warmed = 0;
    let peak = 0;
    for (let m = 0; m < 40; m++) {
      full.addBatch(input[m], m + 1);
      warmed += await applyBounded(agg, store, applied, input[m], m + 1);
      peak = Math.max(peak, agg.metrics().groups);
    }
    expect(warmed).toBeGreaterThan(0);
    // after each commit at most the bound (a message adds at most 150 rows before its commit)
    expect(agg.metrics().groups).toBeLessThanOrEqual(100);
    expect(peak).toBeLessThanOrEqual(100 + 150);
    expect(agg.metrics().cold).toBeGreaterThan(500);
    expect(byKey(await allRows(agg, store))).toEqual(byKey(full.rows()));

    // restart: the most recently written rows come back, the rest stays in KV
    store = new TableStore(kv, storeOptions(100));
    ({ aggregator: agg, applied } = await store.load(SPEC));
    expect(agg.metrics().groups).toBe(100);
    expect(agg.metrics().groups + agg.metrics().cold).toBe(full.metrics().groups);
    for (let m = 40; m < 60; m++) {
      full.addBatch(input[m], m + 1);
      await applyBounded(agg, store, applied, input[m], m + 1);
    }
    expect(byKey(await allRows(agg, store))).toEqual(byKey(full.rows()));
    // and the KV state read whole equals it too
    const all = await new TableStore(kv, storeOptions()).load(SPEC);
    expect(byKey(all.aggregator.rows())).toEqual(byKey(full.rows()));
  });

  test('every commit writes a row into the slot that does not hold its committed version: cooling, warming, restarts, ttl', async () => {
    // the rule a crash mid-commit relies on (state.ts): the committed version is never overwritten
    // before the commit point; checked at each put against what KV holds as committed
    const input = messages(50, 120, 600, 11);
    const spec: AggregationSpec = { ...SPEC, window: { type: 'none', ttl: 1_500_000 } };
    const kv = new MemKv();
    const committed = new Map<string, { slot: string; e: number }>();
    let epoch = 0;
    let checked = 0;
    const put = kv.put.bind(kv);
    kv.put = async (key, value) => {
      if (key === '_ckpt') {
        epoch = (decodeValue(value) as { e: number }).e;
        // the commit point: the slots written under this epoch hold the committed versions now
        for (const [k, v] of kv.data) if ((k.startsWith('a.') || k.startsWith('b.'))) {
          const e = (decodeValue(v) as { e: number }).e;
          const cur = committed.get(k.slice(2));
          if (e <= epoch && (!cur || e > cur.e)) committed.set(k.slice(2), { slot: k[0], e });
        }
      } else if (key.startsWith('a.') || key.startsWith('b.')) {
        const cur = committed.get(key.slice(2));
        if (cur !== undefined && cur.e <= epoch) expect(key[0]).not.toBe(cur.slot);
        checked++;
      }
      return put(key, value);
    };
    const del = kv.delete.bind(kv);
    kv.delete = async (key) => {
      if (key.startsWith('a.') || key.startsWith('b.')) committed.delete(key.slice(2));
      return del(key);
    };
    for (let part = 0; part < 3; part++) {
      const store = new TableStore(kv, storeOptions(60));
      const { aggregator: agg, applied } = await store.load(spec);
      for (let m = part * 16; m < Math.min(50, part * 16 + 16); m++) await applyBounded(agg, store, applied, input[m], m + 1);
    }
    expect(checked).toBeGreaterThan(2000);
  });

  test('a record of a row held in KV only is refused until the row is warmed', async () => {
    const kv = new MemKv();
    const store = new TableStore(kv, storeOptions(1));
    const { aggregator: agg, applied } = await store.load(SPEC);
    await applyBounded(agg, store, applied, [{ dev: 'a', v: 1, ts: 1 }, { dev: 'b', v: 2, ts: 2 }], 1);
    await applyBounded(agg, store, applied, [{ dev: 'b', v: 3, ts: 3 }], 2);
    expect(agg.hasRow('a')).toBe(false);
    expect(agg.metrics().cold).toBe(1);
    expect(() => agg.addBatch([{ dev: 'a', v: 5, ts: 4 }], 3)).toThrow(/held in KV only/);
  });

  /** Two group columns, two rows over a bound of one: both go to KV after the commit, the last record's row too. */
  async function lastRecordRowInKvOnly() {
    const store = new TableStore(new MemKv(), storeOptions(1));
    const { aggregator: agg, applied } = await store.load({ ...SPEC, groupBy: ['dev', 'kind'] });
    await applyBounded(agg, store, applied, [{ dev: 'b', kind: 1, v: 1, ts: 1 }, { dev: 'a', kind: 1, v: 1, ts: 1 }, { dev: 'a', kind: 1, v: 2, ts: 2 }], 1);
    expect(agg.hasRow('a.=1')).toBe(false);
    return { agg, store, applied };
  }

  test('several group columns: the row of the last record, once in KV only, is refused as well (no stale last key)', async () => {
    const { agg } = await lastRecordRowInKvOnly();
    expect(() => agg.addBatch([{ dev: 'a', kind: 1, v: 5, ts: 4 }], 2)).toThrow(/held in KV only/);
  });

  test('several group columns: the row of the last record comes back from KV with its state', async () => {
    const { agg, store, applied } = await lastRecordRowInKvOnly();
    await applyBounded(agg, store, applied, [{ dev: 'a', kind: 1, v: 5, ts: 4 }], 2);
    expect(byKey(await allRows(agg, store))).toMatchObject({ 'a.=1': { n: 3, sum: 8 }, 'b.=1': { n: 1, sum: 1 } });
  });

  test('a row idle longer than ttl is dropped when it comes back, as the ttl sweep drops resident rows', async () => {
    const spec: AggregationSpec = { ...SPEC, window: { type: 'none', ttl: 10_000 } };
    const store = new TableStore(new MemKv(), storeOptions(1));
    const { aggregator: agg, applied } = await store.load(spec);
    const full = new Aggregator(spec);
    const input = [
      [{ dev: 'old', v: 1, ts: 0 }, { dev: 'x', v: 1, ts: 1000 }],
      [{ dev: 'x', v: 1, ts: 2000 }],
      // 'old' comes back within the message that moves stream time past its ttl: still live
      [{ dev: 'x', v: 1, ts: 60_000 }, { dev: 'old', v: 7, ts: 60_000 }],
      [{ dev: 'x', v: 1, ts: 61_000 }],
      // idle longer than ttl when it comes back: starts again
      [{ dev: 'x', v: 1, ts: 200_000 }],
      [{ dev: 'old', v: 5, ts: 201_000 }],
    ];
    for (let m = 0; m < input.length; m++) {
      await applyBounded(agg, store, applied, input[m], m + 1);
      full.addBatch(input[m], m + 1);
      full.closeUpTo();
      if (m === 1) expect(agg.hasRow('old')).toBe(false);
    }
    // the expected rows, by hand: old restarted at 201000 with v 5; x counted throughout
    expect(byKey(full.rows())).toMatchObject({ old: { n: 1, sum: 5 }, x: { n: 5, sum: 5 } });
    expect(byKey(await allRows(agg, store))).toEqual(byKey(full.rows()));
    expect(agg.metrics().evicted).toBeGreaterThanOrEqual(1);
  });

  test('rows dropped by ttl do not pile up in the CLOCK ring while the table stays under its bound', () => {
    const agg = new Aggregator({ ...SPEC, window: { type: 'none', ttl: 1000 } }, { maxRows: 100_000 });
    for (let m = 0; m < 200; m++) {
      agg.addBatch(Array.from({ length: 100 }, (_, j) => ({ dev: `m${m}-${j}`, v: 1, ts: m * 10_000 + j })), m);
      agg.closeUpTo();
      agg.drainPersistRows();
      agg.coolDown();
    }
    // 20 000 rows made, about 100 alive at a time
    expect(agg.metrics().evicted).toBeGreaterThan(19_000);
    expect((agg as unknown as { ring: unknown[] }).ring.length).toBeLessThan(2 * agg.metrics().groups + 1024 + 100);
  });

  test('maxRows is refused for windowed tables, in the engine and in the config', () => {
    expect(() => new Aggregator({ ...SPEC, window: { type: 'tumbling', size: 1000 } }, { maxRows: 10 })).toThrow(/running totals/);
    const r = configSchema.safeParse({ op: 'aggregate', table: 't', group_by: ['dev'], window: { type: 'tumbling', size: '1m' }, aggregates: { n: 'COUNT(*)' }, state: { max_rows: 10 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['state', 'max_rows'], message: expect.stringContaining('running totals') })]);
  });
});

describe('KeyFingerprints', () => {
  test('add, has and delete agree with a Set through growth and backward-shift deletions', () => {
    const f = new KeyFingerprints();
    const ref = new Set<string>();
    let x = 3;
    let wrongDeletes = 0;
    for (let i = 0; i < 50_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const k = `key-${x % 20_000}`;
      if (x & 0x10000) { f.add(k); ref.add(k); } else if (f.delete(k) !== ref.delete(k)) wrongDeletes++;
    }
    expect(wrongDeletes).toBe(0);
    expect(f.size).toBe(ref.size);
    let wrongHas = 0;
    for (let i = 0; i < 20_000; i++) if (f.has(`key-${i}`) !== ref.has(`key-${i}`)) wrongHas++;
    expect(wrongHas).toBe(0);
    expect(ref.size).toBeGreaterThan(1000);
  });
});

describe('a topology with max_rows (embedded transport)', () => {
  let p: TestPipeline | undefined;
  afterEach(async () => { await p?.stop().catch(() => undefined); p = undefined; });

  test('pull queries see the rows held in KV only: whole table, by key, by prefix', async () => {
    const use = JSON.stringify(wrapperPlugin());
    p = await startTestPipeline({ logLevel: 'silent', yaml: `
streams:
  IN: { subjects: ["in.>"], storage: memory }
  TAB: { subjects: ["tab.>"], storage: memory }
instances:
  stats:
    use: ${use}
    config:
      op: aggregate
      table: bounded_stats
      group_by: [dev]
      aggregates: { n: COUNT(*), sum: SUM(v) }
      state: { max_rows: 3 }
    inputs: { in: "in.x" }
    outputs: { changes: "tab.bounded" }
` });
    const input = messages(20, 30, 40, 11);
    for (const recs of input) await p.feed('in.x', recs);
    await p.drain();
    const expected = new Map<string, { n: number; sum: number }>();
    for (const recs of input) for (const r of recs) {
      const e = expected.get(r.dev as string) ?? { n: 0, sum: 0 };
      e.n++; e.sum += r.v as number;
      expected.set(r.dev as string, e);
    }
    const stats = p.runtime.actors.find((a) => a.name === 'stats')!;
    expect(stats.health().metrics.cold_rows).toBeGreaterThan(20);
    const whole = (await queryLocal('bounded_stats', {}))!;
    expect(Object.fromEntries(whole.rows.map((r) => [r.dev, { n: r.n, sum: r.sum }]))).toEqual(Object.fromEntries(expected));
    // a key held in KV only, by its value
    const coldKey = [...expected.keys()].find((k) => !['d0', 'd1', 'd2', 'd3', 'd4'].includes(k))!;
    const one = (await queryLocal('bounded_stats', { key: coldKey }))!;
    expect(one.rows.map((r) => [r.dev, r.n, r.sum])).toEqual([[coldKey, expected.get(coldKey)!.n, expected.get(coldKey)!.sum]]);
    const pre = (await queryLocal('bounded_stats', { prefix: 'd1' }))!;
    expect(pre.rows.map((r) => r.dev).sort()).toEqual([...expected.keys()].filter((k) => k.startsWith('d1')).sort());
  });
});
