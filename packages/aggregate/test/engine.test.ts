import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import {
  AGGREGATES, AggregationSpecError, Aggregator, compileProjection, compileRoutes, decodeKey, encodeGroupKey, hash64,
  OpsSpecError, type AggregateName, type AggregationSpec, type Change,
} from '../src/engine';
import { ExpressionError } from '../src/expr';

const acc = (fn: AggregateName, options = {}) => AGGREGATES[fn].create(options);

function feed(fn: AggregateName, values: unknown[], options = {}): unknown {
  const a = acc(fn, options);
  values.forEach((v, i) => a.add(v, 1000 + i, i));
  return a.result();
}

describe('aggregate functions', () => {
  test('COUNT counts records (value true) and COUNT(x) non-null values', () => {
    expect(feed('COUNT', [true, true, true])).toBe(3);
    expect(feed('COUNT', [1, null, 'x', undefined, 0, false])).toBe(4);
  });

  test('SUM / AVG ignore nulls and non-numbers; SUM of nothing is 0, AVG of nothing is null', () => {
    expect(feed('SUM', [1, 2, null, '3', 'x', 4.5])).toBe(10.5);
    expect(feed('SUM', [])).toBe(0);
    expect(feed('AVG', [1, 2, null, 6])).toBe(3);
    expect(feed('AVG', [null])).toBeNull();
  });

  test('MIN / MAX over numbers and strings; numbers sort before strings', () => {
    expect(feed('MIN', [-61, -40, null, -75, -50])).toBe(-75);
    expect(feed('MAX', [-61, -40, null, -75, -50])).toBe(-40);
    expect(feed('MIN', ['beta', 'alpha', 'gamma'])).toBe('alpha');
    expect(feed('MAX', ['beta', 'alpha', 'gamma'])).toBe('gamma');
    expect(feed('MAX', [3, 'a', 10])).toBe('a');
    expect(feed('MIN', [])).toBeNull();
  });

  test('COLLECT_SET keeps first-seen order, drops nulls and duplicates, and is bounded', () => {
    expect(feed('COLLECT_SET', ['a', 'b', 'a', null, 'c', 'b'])).toEqual(['a', 'b', 'c']);
    expect(feed('COLLECT_SET', [1, '1', 1])).toEqual([1, '1']);
    const a = acc('COLLECT_SET', { max: 3 });
    for (const v of ['a', 'b', 'c', 'a', 'd', 'e']) a.add(v, 0, 0);
    expect(a.result()).toEqual(['a', 'b', 'c']);
    expect(a.truncated).toBe(true);
    // large sets switch to a hash set internally: same result
    const big = Array.from({ length: 50 }, (_, i) => `s${i % 20}`);
    expect(feed('COLLECT_SET', big)).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
    expect(feed('COLLECT_SET', [{ a: 1 }, { a: 1 }, { a: 2 }])).toEqual([{ a: 1 }, { a: 2 }]);
  });

  test('COLLECT_LIST keeps duplicates in order and is bounded', () => {
    expect(feed('COLLECT_LIST', ['a', 'b', 'a', null])).toEqual(['a', 'b', 'a']);
    const a = acc('COLLECT_LIST', { max: 2 });
    for (const v of [1, 2, 3]) a.add(v, 0, 0);
    expect(a.result()).toEqual([1, 2]);
    expect(a.truncated).toBe(true);
  });

  test('HISTOGRAM counts values (as text) and is bounded', () => {
    expect(feed('HISTOGRAM', ['a', 'b', 'a', null, 1, '1'])).toEqual({ a: 2, b: 1, '1': 2 });
    const a = acc('HISTOGRAM', { max: 2 });
    for (const v of ['x', 'y', 'z', 'x']) a.add(v, 0, 0);
    expect(a.result()).toEqual({ x: 2, y: 1 });
    expect(a.truncated).toBe(true);
  });

  test('EARLIEST / LATEST by event time, ties broken by seq; *_BY_OFFSET by seq only', () => {
    const e = acc('EARLIEST'), l = acc('LATEST'), eo = acc('EARLIEST_BY_OFFSET'), lo = acc('LATEST_BY_OFFSET');
    // value, ts, seq — arrive out of event-time order
    const input: [string, number, number][] = [['b', 200, 1], ['a', 100, 2], ['d', 400, 3], ['c', 300, 4], ['a2', 100, 5], ['d0', 400, 0]];
    for (const [v, ts, seq] of input) for (const x of [e, l, eo, lo]) x.add(v, ts, seq);
    expect(e.result()).toBe('a'); // ts 100: seq 2 < seq 5
    expect(l.result()).toBe('d'); // ts 400: seq 3 > seq 0
    expect(eo.result()).toBe('d0'); // seq 0
    expect(lo.result()).toBe('a2'); // seq 5
  });

  test('EARLIEST / LATEST skip nulls by default, keep them with ignoreNulls false', () => {
    const a = acc('LATEST');
    a.add('x', 1, 1);
    a.add(null, 2, 2);
    expect(a.result()).toBe('x');
    const b = acc('LATEST', { ignoreNulls: false });
    b.add('x', 1, 1);
    b.add(null, 2, 2);
    expect(b.result()).toBeNull();
  });

  const ALL: AggregateName[] = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'COLLECT_SET', 'COLLECT_LIST', 'COUNT_DISTINCT', 'HISTOGRAM', 'EARLIEST', 'LATEST', 'EARLIEST_BY_OFFSET', 'LATEST_BY_OFFSET'];

  test.each(ALL)('%s state survives JSON and msgpack', (fn) => {
    const a = acc(fn, { exactLimit: 5 });
    const vals = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7];
    vals.forEach((v, i) => a.add(v, 1000 - i * 10, i));
    for (const round of [(x: unknown) => JSON.parse(JSON.stringify(x)), (x: unknown) => unpack(pack(x))]) {
      const b = AGGREGATES[fn].fromJSON(round(a.toJSON()), { exactLimit: 5 });
      expect(b.result()).toEqual(a.result());
      expect(b.truncated).toBe(a.truncated);
      // and keeps working the same way
      a.add(11, 5, 100);
      b.add(11, 5, 100);
      expect(b.result()).toEqual(a.result());
    }
  });

  const normalise = (fn: AggregateName, v: unknown) =>
    fn === 'COLLECT_SET' || fn === 'COLLECT_LIST' ? [...(v as number[])].sort((x, y) => x - y) : v;

  test.each(ALL)('%s: merge is associative and equals one accumulator over all input (fast-check)', (fn) => {
    // integers (exact float sums), unique seqs (deterministic ties), unbounded sets
    const item = fc.record({ v: fc.option(fc.integer({ min: -50, max: 50 }), { nil: null }), ts: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), fc.array(item, { maxLength: 30 }), fc.array(item, { maxLength: 30 }), (xs, ys, zs) => {
        let seq = 0;
        const tag = (arr: { v: number | null; ts: number }[]) => arr.map((x) => ({ ...x, seq: seq++ }));
        const [a, b, c] = [tag(xs), tag(ys), tag(zs)];
        const mk = (...parts: { v: number | null; ts: number; seq: number }[][]) => {
          const x = acc(fn);
          for (const p of parts) for (const r of p) x.add(r.v, r.ts, r.seq);
          return x;
        };
        const single = mk(a, b, c);
        const left = mk(a);
        left.merge(mk(b));
        left.merge(mk(c));
        const bc = mk(b);
        bc.merge(mk(c));
        const right = mk(a);
        right.merge(bc);
        const reversed = mk(c);
        reversed.merge(mk(b));
        reversed.merge(mk(a));
        const want = normalise(fn, single.result());
        expect(normalise(fn, left.result())).toEqual(want);
        expect(normalise(fn, right.result())).toEqual(want);
        expect(normalise(fn, reversed.result())).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });
});

describe('group keys', () => {
  test.each([
    [['aa:bb:cc:dd:ee:ff'], 'aa_3Abb_3Acc_3Add_3Aee_3Aff'],
    [['plain-Key09'], 'plain-Key09'],
    [['a.b', 2], 'a_2Eb.=2'],
    [[''], '='],
    [[null], '=n'],
    [[true, false], '=t.=f'],
    [[1.5], '=1_2E5'],
    [[-3], '=-3'],
    [['é'], '_C3_A9'],
    [['=x'], '_3Dx'],
    [['a_b'], 'a_5Fb'],
    [[[1, 'x']], '=j_5B1_2C_22x_22_5D'],
    [[], '=all'],
  ])('%j → %s', (values, key) => {
    expect(encodeGroupKey(values)).toBe(key);
    expect(decodeKey(key).values).toEqual(values);
  });

  test('every key is a valid NATS KV key and decodes back (fast-check)', () => {
    const value = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), (values) => {
        const key = encodeGroupKey(values);
        expect(key).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
        expect(key.startsWith('.') || key.endsWith('.') || key.includes('..')).toBe(false);
        expect(decodeKey(key).values).toEqual(values.map((v) => (Object.is(v, -0) ? 0 : v)));
      }),
      { numRuns: 500 },
    );
  });

  test('distinct group values never share a key', () => {
    const keys = new Set([['1'], [1], [true], ['true'], [null], ['null'], [''], ['=n'], ['a', 'b'], ['a.b'], ['a_2Eb']].map(encodeGroupKey));
    expect(keys.size).toBe(11);
  });
});

const probe = (sa: string, ts: number, extra: Record<string, unknown> = {}) => ({ sa, ts, signal: -50, ssid: 'net', da: 'ff:ff:ff:ff:ff:ff', type_subtype: 4, ...extra });

const DEVICE: AggregationSpec = {
  groupBy: ['sa'],
  timestamp: 'ts',
  where: 'type_subtype = 4',
  aggregates: [
    { name: 'frames', fn: 'COUNT' },
    { name: 'first_seen', fn: 'EARLIEST', arg: 'ts' },
    { name: 'last_seen', fn: 'LATEST', arg: 'ts' },
    { name: 'min_signal', fn: 'MIN', arg: 'signal' },
    { name: 'max_signal', fn: 'MAX', arg: 'signal' },
    { name: 'avg_signal', fn: 'AVG', arg: 'signal' },
    { name: 'ssids', fn: 'COLLECT_SET', arg: 'ssid' },
    { name: 'ssid_count', fn: 'COUNT_DISTINCT', arg: 'ssid' },
    { name: 'da_count', fn: 'COUNT_DISTINCT', arg: 'da' },
  ],
};

describe('Aggregator: running totals', () => {
  test('per-device statistics, hand-computed', () => {
    const a = new Aggregator(DEVICE);
    expect(a.add(probe('aa', 1000, { signal: -60, ssid: 'home' }), 1)).toBe('added');
    expect(a.add(probe('aa', 3000, { signal: -40, ssid: 'work' }), 2)).toBe('added');
    expect(a.add(probe('aa', 2000, { signal: -50, ssid: 'home', da: '02:00:00:00:00:01' }), 3)).toBe('added');
    expect(a.add(probe('bb', 1500, { signal: -70, ssid: null }), 4)).toBe('added');
    expect(a.add(probe('bb', 1600, { type_subtype: 8 }), 5)).toBe('filtered');
    const rows = a.drainChanges();
    expect(rows).toEqual([
      {
        key: 'aa', groupValues: { sa: 'aa' }, final: false,
        row: { sa: 'aa', frames: 3, first_seen: 1000, last_seen: 3000, min_signal: -60, max_signal: -40, avg_signal: -50, ssids: ['home', 'work'], ssid_count: 2, da_count: 2 },
      },
      {
        key: 'bb', groupValues: { sa: 'bb' }, final: false,
        row: { sa: 'bb', frames: 1, first_seen: 1500, last_seen: 1500, min_signal: -70, max_signal: -70, avg_signal: -70, ssids: [], ssid_count: 0, da_count: 1 },
      },
    ]);
    expect(a.metrics()).toMatchObject({ records: 5, filtered: 1, late: 0, groups: 2 });
  });

  test('only keys changed since the last drain are emitted', () => {
    const a = new Aggregator(DEVICE);
    a.add(probe('aa', 1), 1);
    a.add(probe('bb', 2), 2);
    expect(a.drainChanges().map((c) => c.key)).toEqual(['aa', 'bb']);
    expect(a.drainChanges()).toEqual([]);
    a.add(probe('bb', 3), 3);
    a.add(probe('bb', 4), 4);
    const ch = a.drainChanges();
    expect(ch.map((c) => [c.key, c.row.frames])).toEqual([['bb', 3]]);
    expect(a.drainPersist().upserts.map((g) => g.key)).toEqual(['aa', 'bb']);
    a.add(probe('aa', 5), 5);
    expect(a.drainPersist().upserts.map((g) => g.key)).toEqual(['aa']);
  });

  test('debounce: a key is emitted at most once per debounceMs of wall clock', () => {
    let now = 0;
    const a = new Aggregator({ ...DEVICE, debounceMs: 1000 }, { clock: () => now });
    a.add(probe('aa', 1), 1);
    expect(a.drainChanges().length).toBe(1);
    a.add(probe('aa', 2), 2);
    now = 500;
    expect(a.drainChanges()).toEqual([]);
    a.add(probe('aa', 3), 3);
    now = 1000;
    const ch = a.drainChanges();
    expect(ch.map((c) => c.row.frames)).toEqual([3]);
  });

  test('group by several expressions, with AS names and derived names', () => {
    const a = new Aggregator({
      groupBy: ['wlan.sa', "TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", 'UPPER(ssid)'],
      timestamp: 'ts',
      aggregates: [{ name: 'n', fn: 'COUNT' }],
    });
    const day1 = Date.UTC(2024, 0, 1, 10);
    const day2 = Date.UTC(2024, 0, 2, 10);
    a.add({ wlan: { sa: 'aa:bb' }, ts: day1, ssid: 'x' }, 1);
    a.add({ wlan: { sa: 'aa:bb' }, ts: day1 + 1000, ssid: 'x' }, 2);
    a.add({ wlan: { sa: 'aa:bb' }, ts: day2, ssid: 'x' }, 3);
    expect(a.groupNames).toEqual(['wlan_sa', 'day', 'group_2']);
    const rows = a.drainChanges();
    expect(rows.map((r) => [r.key, r.row])).toEqual([
      ['aa_3Abb.2024-01-01.X', { wlan_sa: 'aa:bb', day: '2024-01-01', group_2: 'X', n: 2 }],
      ['aa_3Abb.2024-01-02.X', { wlan_sa: 'aa:bb', day: '2024-01-02', group_2: 'X', n: 1 }],
    ]);
    expect(a.lookup(['aa:bb', '2024-01-02', 'X'])[0].row.n).toBe(1);
    expect(a.get('aa_3Abb.2024-01-01.X')!.row.n).toBe(2);
  });

  test('no GROUP BY: one global row', () => {
    const a = new Aggregator({ groupBy: [], aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 's', fn: 'SUM', arg: 'x' }] });
    for (let i = 1; i <= 4; i++) a.add({ x: i }, i, 0);
    expect(a.drainChanges()).toEqual([{ key: '=all', groupValues: {}, row: { n: 4, s: 10 }, final: false }]);
  });

  test('null group values form their own group', () => {
    const a = new Aggregator({ groupBy: ['sa'], aggregates: [{ name: 'n', fn: 'COUNT' }] });
    a.add({ sa: null }, 1, 0);
    a.add({}, 2, 0);
    a.add({ sa: 'null' }, 3, 0);
    expect(a.drainChanges().map((c) => [c.key, c.row.n])).toEqual([['=n', 2], ['null', 1]]);
  });

  test('truncated columns are flagged', () => {
    const a = new Aggregator({ groupBy: ['sa'], aggregates: [{ name: 'ssids', fn: 'COLLECT_SET', arg: 'ssid', options: { max: 2 } }] });
    for (const ssid of ['a', 'b', 'c']) a.add({ sa: 'x', ssid }, 1, 0);
    const [c] = a.drainChanges();
    expect(c.row.ssids).toEqual(['a', 'b']);
    expect(c.truncated).toEqual(['ssids']);
  });

  test('records without a valid event time are reported invalid', () => {
    const a = new Aggregator(DEVICE);
    expect(a.add(probe('aa', 'not a time' as unknown as number), 1)).toBe('invalid');
    expect(a.add({ sa: 'aa', type_subtype: 4 }, 1)).toBe('invalid');
    expect(a.add(probe('aa', '2024-01-01T00:00:00Z' as unknown as number), 1)).toBe('added');
    expect(a.metrics().invalid).toBe(2);
  });

  test('ingest time is used when no timestamp expression is configured', () => {
    let now = 5000;
    const a = new Aggregator({ groupBy: ['sa'], aggregates: [{ name: 'first', fn: 'EARLIEST', arg: 'v' }, { name: 'last', fn: 'LATEST', arg: 'v' }] }, { clock: () => now });
    a.add({ sa: 'x', v: 'late-ingest' }, 2, 9000);
    a.add({ sa: 'x', v: 'clock' }, 1);
    now = 1000;
    a.add({ sa: 'x', v: 'early-clock' }, 3);
    expect(a.drainChanges()[0].row).toEqual({ sa: 'x', first: 'early-clock', last: 'late-ingest' });
  });

  test('ttl evicts running-total keys idle longer than ttl (event time)', () => {
    const a = new Aggregator({ ...DEVICE, window: { type: 'none', ttl: '10s' } });
    a.add(probe('old', 1000), 1);
    a.add(probe('new', 1000), 2);
    a.add(probe('new', 12_000), 3);
    a.drainPersist();
    a.closeUpTo();
    expect(a.rows().map((r) => r.key)).toEqual(['new']);
    expect(a.metrics()).toMatchObject({ evicted: 1, groups: 1 });
    expect(a.drainPersist().deletes).toEqual(['old']);
    // memory stays flat under a stream of one-off keys
    for (let i = 0; i < 2000; i++) {
      a.add(probe(`k${i}`, 20_000 + i * 100), 10 + i);
      a.closeUpTo();
    }
    expect(a.metrics().groups).toBeLessThan(200);
  });

  test('snapshot/restore: continuing after a restore equals never stopping', () => {
    const recs = Array.from({ length: 400 }, (_, i) => probe(`d${i % 13}`, 1000 + ((i * 7919) % 5000), { signal: 0 - (i % 50), ssid: `s${i % 5}`, da: `da${i % 3}` }));
    const whole = new Aggregator(DEVICE);
    recs.forEach((r, i) => whole.add(r, i));
    const first = new Aggregator(DEVICE);
    recs.slice(0, 250).forEach((r, i) => first.add(r, i));
    const snap = unpack(pack(JSON.parse(JSON.stringify(first.snapshot()))));
    const restored = Aggregator.restore(DEVICE, snap);
    expect(restored.drainChanges()).toEqual([]);
    expect(restored.maxSeq).toBe(249);
    recs.slice(250).forEach((r, i) => restored.add(r, 250 + i));
    const byKey = (cs: Change[]) => Object.fromEntries(cs.map((c) => [c.key, c.row]));
    expect(byKey(restored.rows())).toEqual(byKey(whole.rows()));
    expect(restored.snapshot()).toEqual(whole.snapshot());
  });

  test('per-key state (drainPersist) rebuilds the same table', () => {
    const a = new Aggregator(DEVICE);
    const kv = new Map<string, unknown>();
    const persist = () => {
      const { upserts, deletes } = a.drainPersist();
      for (const u of upserts) kv.set(u.key, unpack(pack(u)));
      for (const d of deletes) kv.delete(d);
    };
    for (let i = 0; i < 100; i++) {
      a.add(probe(`d${i % 7}`, i * 10, { signal: 0 - i }), i);
      if (i % 9 === 0) persist();
    }
    persist();
    const b = Aggregator.restore(DEVICE, { groups: [...kv.values()] as never });
    expect(b.rows()).toEqual(a.rows());
  });
});

describe('Aggregator: a group by its external key (get / exportGroup)', () => {
  const COUNT: AggregationSpec['aggregates'] = [{ name: 'n', fn: 'COUNT' }];
  const GROUPS = 400;
  const T0 = Date.UTC(2024, 0, 1);

  /** Group i gets i % 5 + 1 records, so a lookup that lands on the wrong group shows in n. */
  function filled(spec: AggregationSpec, valuesOf: (i: number) => Record<string, unknown>): Aggregator {
    const a = new Aggregator(spec);
    let seq = 0;
    for (let i = 0; i < GROUPS; i++) for (let j = 0; j <= i % 5; j++) a.add({ ...valuesOf(i), ts: T0 + j }, ++seq);
    return a;
  }

  /** Every group's key answers with that group: its own count and group values. */
  function expectAllFound(a: Aggregator, expectedN: (row: Record<string, unknown>, windowStart?: number) => number): void {
    const rows = a.rows();
    for (const r of rows) {
      const got = a.get(r.key);
      if (!got || got.key !== r.key || got.row.n !== expectedN(r.row, r.windowStart)) throw new Error(`get(${r.key}) gave ${JSON.stringify(got)}`);
      const snap = a.exportGroup(r.key);
      if (!snap || snap.key !== r.key) throw new Error(`exportGroup(${r.key}) gave ${JSON.stringify(snap)}`);
    }
  }

  test('string keys, escaped characters included', () => {
    const odd = ['a.b', '', '=x', 'é', '\u0000z', 'aa:bb', 'a_2Eb'];
    const name = (i: number) => (i < odd.length ? odd[i] : `dev-${i}`);
    const a = filled({ groupBy: ['sa'], aggregates: COUNT }, (i) => ({ sa: name(i) }));
    expect(a.rows()).toHaveLength(GROUPS);
    expectAllFound(a, (row) => { const i = odd.indexOf(row.sa as string); return ((i >= 0 ? i : Number((row.sa as string).slice(4))) % 5) + 1; });
    expect(a.get('dev-7')?.row).toEqual({ sa: 'dev-7', n: 3 });
    expect(a.get('a_2Eb')?.row).toEqual({ sa: 'a.b', n: 1 });
    expect(a.get('a_5F2Eb')?.row).toEqual({ sa: 'a_2Eb', n: 2 });
    expect(a.exportGroup('=')?.g).toEqual(['']);
    expect(a.get('dev-9999')).toBeUndefined();
    expect(a.get('=7')).toBeUndefined(); // the number 7, not a string
    expect(a.get('not a key!')).toBeUndefined();
  });

  test('number keys (negative, fractional)', () => {
    const a = filled({ groupBy: ['ch'], aggregates: COUNT }, (i) => ({ ch: (i - 100) * 1.5 }));
    expectAllFound(a, (row) => ((row.ch as number) / 1.5 + 100) % 5 + 1);
    expect(a.get('=-147')?.row).toEqual({ ch: -147, n: 3 }); // i = 2
    expect(a.get('=1_2E5')?.row).toEqual({ ch: 1.5, n: 2 }); // i = 101
    expect(a.exportGroup('=0')?.g).toEqual([0]);
    expect(a.get('0')).toBeUndefined(); // the string "0"
    expect(a.get('=0_2E25')).toBeUndefined();
  });

  test('Date keys (the key holds epoch milliseconds)', () => {
    const a = filled({ groupBy: ['day'], aggregates: COUNT }, (i) => ({ day: new Date(T0 + i * 86_400_000) }));
    expectAllFound(a, (row) => (Math.round((new Date(row.day as Date).getTime() - T0) / 86_400_000) % 5) + 1);
    expect(a.get(`=${T0 + 3 * 86_400_000}`)?.row.n).toBe(4);
    expect(a.exportGroup(`=${T0}`)?.g).toEqual([new Date(T0)]);
    expect(a.get(`=${T0 + 1}`)).toBeUndefined();
  });

  test('object keys (JSON in the key)', () => {
    const a = filled({ groupBy: ['tag'], aggregates: COUNT }, (i) => ({ tag: { a: i, b: [i % 3] } }));
    expectAllFound(a, (row) => ((row.tag as { a: number }).a % 5) + 1);
    expect(a.get('=j_7B_22a_22_3A7_2C_22b_22_3A_5B1_5D_7D')?.row).toEqual({ tag: { a: 7, b: [1] }, n: 3 });
    expect(a.get('=j_7B_22a_22_3A7_7D')).toBeUndefined();
  });

  test('several group columns (string, number, null)', () => {
    const a = filled({ groupBy: ['sa', 'ch', 'x'], aggregates: COUNT }, (i) => ({ sa: `dev-${i % 40}`, ch: Math.floor(i / 40), x: i % 2 ? null : 'y' }));
    expect(a.rows()).toHaveLength(GROUPS);
    expectAllFound(a, (row) => (((row.ch as number) * 40 + Number((row.sa as string).slice(4))) % 5) + 1);
    expect(a.get('dev-3.=2.=n')?.row).toEqual({ sa: 'dev-3', ch: 2, x: null, n: 4 }); // i = 83
    expect(a.get('dev-4.=2.y')?.row.n).toBe(5); // i = 84
    expect(a.get('dev-3.=2.y')).toBeUndefined(); // odd i has x null
    expect(a.get('dev-3.=2')).toBeUndefined(); // too few parts
  });

  test('no GROUP BY: the one row is "=all"', () => {
    const a = filled({ groupBy: [], aggregates: COUNT }, () => ({}));
    const n = Array.from({ length: GROUPS }, (_, i) => (i % 5) + 1).reduce((x, y) => x + y, 0);
    expect(a.get('=all')?.row).toEqual({ n });
    expect(a.exportGroup('=all')?.g).toEqual([]);
    expect(a.get('=n')).toBeUndefined();
  });

  test('windowed rows: the window start is part of the key', () => {
    const a = new Aggregator({ groupBy: ['ch'], timestamp: 'ts', window: { type: 'tumbling', size: 1000, grace: '1d' }, aggregates: COUNT });
    let seq = 0;
    for (let i = 0; i < GROUPS; i++) for (let w = 0; w < 3; w++) for (let j = 0; j <= (i + w) % 4; j++) a.add({ ch: i, ts: T0 + w * 1000 + j }, ++seq);
    expect(a.rows()).toHaveLength(GROUPS * 3);
    expectAllFound(a, (row, start) => (((row.ch as number) + (start! - T0) / 1000) % 4) + 1);
    expect(a.get(`=5.=w${T0 + 2000}`)?.row.n).toBe(4); // (5 + 2) % 4 + 1
    expect(a.get('=5')).toBeUndefined();
    expect(a.get(`=5.=w${T0 + 3000}`)).toBeUndefined();
  });
});

describe('partition equality', () => {
  const recs = Array.from({ length: 3000 }, (_, i) => probe(`dev-${(i * 31) % 97}`, 10_000 + ((i * 7919) % 100_000), { signal: -30 - ((i * 13) % 60), ssid: i % 11 === 0 ? null : `net-${(i * 3) % 17}`, da: `da-${i % 5}` }));
  const specs: [string, AggregationSpec][] = [
    ['running totals', DEVICE],
    ['tumbling 10s', { ...DEVICE, window: { type: 'tumbling', size: 10_000, grace: '1d' } }],
    ['hopping 10s/5s', { ...DEVICE, window: { type: 'hopping', size: 10_000, advance: 5000, grace: '1d' } }],
    ['session 1s', { ...DEVICE, window: { type: 'session', gap: 1000, grace: '1d' } }],
  ];
  const table = (cs: Change[]) => Object.fromEntries(cs.map((c) => [c.key, { ...c.row, ssids: [...(c.row.ssids as string[])].sort() }]));

  test.each(specs)('%s: records split by key hash over 4 aggregators = one aggregator', (_l, spec) => {
    const one = new Aggregator(spec);
    recs.forEach((r, i) => one.add(r, i));
    const parts = [0, 1, 2, 3].map(() => new Aggregator(spec));
    recs.forEach((r, i) => parts[hash64(r.sa) % 4].add(r, i));
    const union = parts.flatMap((p) => p.rows());
    expect(union.length).toBe(one.rows().length);
    expect(table(union)).toEqual(table(one.rows()));
  });

  test.each(specs)('%s: records split at random, partial states merged = one aggregator', (_l, spec) => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: recs.length, maxLength: recs.length }), (assign) => {
        const one = new Aggregator(spec);
        recs.forEach((r, i) => one.add(r, i));
        const parts = [0, 1, 2].map(() => new Aggregator(spec));
        recs.forEach((r, i) => parts[assign[i]].add(r, i));
        const merged = new Aggregator(spec);
        for (const p of parts) merged.merge(Aggregator.restore(spec, unpack(pack(p.snapshot()))));
        expect(table(merged.rows())).toEqual(table(one.rows()));
      }),
      { numRuns: 5 },
    );
  });
});

describe('spec errors', () => {
  function specError(spec: Partial<AggregationSpec>): AggregationSpecError {
    try {
      new Aggregator({ groupBy: ['sa'], aggregates: [{ name: 'n', fn: 'COUNT' }], ...spec } as AggregationSpec);
    } catch (e) {
      expect(e).toBeInstanceOf(AggregationSpecError);
      return e as AggregationSpecError;
    }
    throw new Error('expected an error');
  }

  test('bad expressions name the spec path and keep the expression position', () => {
    const e = specError({ groupBy: ['sa', 'UPPER(ssid'] });
    expect(e.path).toBe('groupBy[1]');
    expect(e.cause).toBeInstanceOf(ExpressionError);
    expect((e.cause as ExpressionError).position).toEqual({ offset: 10, line: 1, column: 11 });
    expect(specError({ where: 'a = = 1' }).path).toBe('where');
    expect(specError({ aggregates: [{ name: 'x', fn: 'SUM', arg: 'a +' }] }).path).toBe('aggregates[0].arg');
    expect(specError({ timestamp: '`ts' }).path).toBe('timestamp');
  });

  test('unknown functions, missing arguments, duplicate names, bad windows', () => {
    expect(specError({ aggregates: [{ name: 'x', fn: 'MEDIAN', arg: 'a' }] }).path).toBe('aggregates[0].fn');
    expect(specError({ aggregates: [{ name: 'x', fn: 'SUM' }] }).path).toBe('aggregates[0].arg');
    expect(specError({ aggregates: [{ name: 'sa', fn: 'COUNT' }] }).path).toBe('aggregates[0].name');
    expect(specError({ aggregates: [] }).path).toBe('aggregates');
    expect(specError({ window: { type: 'hopping', size: 1000, advance: 2000 } }).path).toBe('window.advance');
    expect(specError({ window: { type: 'tumbling', size: '5 parsecs' } }).path).toBe('window.size');
    expect(specError({ emit: 'final' }).path).toBe('emit');
  });
});

describe('split and projection ops', () => {
  const routes = [
    { name: 'probe_req', where: 'type_subtype = 4' },
    { name: 'mgmt', where: 'type_subtype < 16' },
    { name: 'strong', where: 'signal > -50' },
  ];

  test('first match (default), all matches, otherwise', () => {
    const first = compileRoutes(routes);
    expect(first({ type_subtype: 4, signal: -40 })).toEqual(['probe_req']);
    expect(first({ type_subtype: 8, signal: -60 })).toEqual(['mgmt']);
    expect(first({ type_subtype: 40, signal: -60 })).toEqual([]);
    const all = compileRoutes(routes, { mode: 'all', otherwise: 'rest' });
    expect(all({ type_subtype: 4, signal: -40 })).toEqual(['probe_req', 'mgmt', 'strong']);
    expect(all({ type_subtype: 40, signal: -60 })).toEqual(['rest']);
    expect(all({ signal: null })).toEqual(['rest']);
    expect(compileRoutes([{ name: 'everything' }])({})).toEqual(['everything']);
  });

  test('routes that all test one field against numbers (a split by type code) route as the general loop does', () => {
    const byType = [
      { name: 'probe_req', where: 'type_subtype = 4' },
      { name: 'beacon', where: 'type_subtype = 8' },
      { name: 'again', where: 'type_subtype = 4' },
      { name: 'half', where: 'type_subtype = 2.5' },
      { name: 'zero', where: 'type_subtype = 0' },
      // around the small codes the dispatch keeps in an array, and past 32-bit integers
      { name: 'c255', where: 'type_subtype = 255' },
      { name: 'c256', where: 'type_subtype = 256' },
      { name: 'big', where: 'type_subtype = 4294967300' },
      { name: 'neg', where: 'type_subtype = -4' },
    ];
    const first = compileRoutes(byType, { otherwise: 'rest' });
    // reference: the first of every matching route, through the 'all' mode's loop
    const all = compileRoutes(byType, { mode: 'all' });
    const values = [4, 8, 2.5, 0, -0, 1, 36, 255, 256, 257, 254.5, 4294967300, 4294967296 + 8, -4, -8, 2 ** 31 + 4, NaN, Infinity, -Infinity, '4', ' 4', '4.0', '0x4', '8', 'beacon', '', null, undefined, true, false, 4n, [4], { a: 4 }, new Date(4)];
    for (const v of values) {
      const m = all({ type_subtype: v });
      expect([v, first({ type_subtype: v })]).toEqual([v, m.length ? [m[0]] : ['rest']]);
    }
    expect(first({})).toEqual(['rest']);
    expect(first({ type_subtype: 4 })).toEqual(['probe_req']);
    expect(first({ type_subtype: '8' })).toEqual(['beacon']);
    // a route on another field, or another operator: the general loop only
    const mixed = compileRoutes([{ name: 'a', where: 'type_subtype = 4' }, { name: 'b', where: 'subtype = 4' }]);
    expect(mixed({ subtype: 4 })).toEqual(['b']);
  });

  test('route errors', () => {
    expect(() => compileRoutes([{ name: 'a', where: 'x =' }])).toThrow(OpsSpecError);
    try {
      compileRoutes([{ name: 'a', where: 'x = 1' }, { name: 'b', where: 'x =' }]);
    } catch (e) {
      expect((e as OpsSpecError).path).toBe('routes[1].where');
      expect(((e as OpsSpecError).cause as ExpressionError).position.offset).toBe(3);
    }
    expect(() => compileRoutes([{ name: 'a' }, { name: 'a' }])).toThrow(/duplicate/);
  });

  test('projection: select expressions, rename, drop; input untouched', () => {
    const p = compileProjection({
      select: { sa: 'wlan.sa', day: "TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd')", name: 'COALESCE(device_name, sa_resolved)', oui: 'vendor_ies[0].oui', tmp: '1' },
      rename: { sa: 'mac' },
      drop: ['tmp'],
    });
    const input = { wlan: { sa: 'aa' }, ts: Date.UTC(2024, 4, 6, 23, 59), device_name: null, sa_resolved: 'Apple_aa', vendor_ies: [{ oui: '00:50:f2' }] };
    const copy = JSON.parse(JSON.stringify(input));
    expect(p(input)).toEqual({ mac: 'aa', day: '2024-05-06', name: 'Apple_aa', oui: '00:50:f2' });
    expect(input).toEqual(copy);
    const star = compileProjection({ rename: { a: 'b' }, drop: ['c'] });
    expect(star({ a: 1, c: 2, d: 3 })).toEqual({ b: 1, d: 3 });
    expect(() => compileProjection({ select: { x: 'a +' } })).toThrow(/select\.x/);
  });
});
