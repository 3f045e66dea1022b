import fc from 'fast-check';
import { Aggregator, parseDuration, windowStarts, type AggregationSpec, type Change, type WindowSpec } from '../src/engine';

const spec = (window: WindowSpec, extra: Partial<AggregationSpec> = {}): AggregationSpec => ({
  groupBy: ['k'],
  timestamp: 't',
  window,
  aggregates: [
    { name: 'n', fn: 'COUNT' },
    { name: 'sum', fn: 'SUM', arg: 'v' },
    { name: 'ws', fn: 'WINDOWSTART' },
    { name: 'we', fn: 'WINDOWEND' },
  ],
  ...extra,
});
const r = (t: number, k = 'a', v = 1) => ({ k, t, v });
const summary = (cs: Change[]) => cs.map((c) => [c.key, c.windowStart, c.windowEnd, c.row.n, c.row.sum, c.final]);

describe('durations', () => {
  test.each([
    [1500, 1500], ['1500', 1500], ['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1d', 86_400_000],
    ['2 hours', 7_200_000], ['1h30m', 5_400_000], ['1w', 604_800_000],
  ])('%p → %d ms', (d, ms) => {
    expect(parseDuration(d)).toBe(ms);
  });
  test('bad durations', () => {
    expect(() => parseDuration('5 parsecs')).toThrow(/unknown unit/);
    expect(() => parseDuration('soon')).toThrow();
    expect(() => parseDuration(-1)).toThrow();
  });
});

describe('window assignment', () => {
  test('tumbling: one window, epoch aligned', () => {
    expect(windowStarts(12_345, 10_000, 10_000)).toEqual([10_000]);
    expect(windowStarts(10_000, 10_000, 10_000)).toEqual([10_000]);
    expect(windowStarts(9_999, 10_000, 10_000)).toEqual([0]);
    expect(windowStarts(-1, 10_000, 10_000)).toEqual([-10_000]);
  });
  test('hopping: every window whose [start, start+size) holds the time', () => {
    expect(windowStarts(12_000, 10_000, 5_000)).toEqual([10_000, 5_000]);
    expect(windowStarts(10_000, 10_000, 5_000)).toEqual([10_000, 5_000]);
    expect(windowStarts(7_000, 10_000, 3_000)).toEqual([6_000, 3_000, 0]);
    expect(windowStarts(9_000, 10_000, 3_000)).toEqual([9_000, 6_000, 3_000, 0]);
  });
});

describe('tumbling windows', () => {
  test('counts per window; closing emits final rows once', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: '10s' }));
    for (const t of [1000, 5000, 12_000]) a.add(r(t), t);
    expect(summary(a.drainChanges())).toEqual([
      ['a.=w0', 0, 10_000, 2, 2, false],
      ['a.=w10000', 10_000, 20_000, 1, 1, false],
    ]);
    expect(a.drainChanges()[0]?.row).toBeUndefined();
    expect(a.watermark).toBe(12_000);
    const closed = a.closeUpTo();
    expect(summary(closed)).toEqual([['a.=w0', 0, 10_000, 2, 2, true]]);
    expect(closed[0].row).toEqual({ k: 'a', n: 2, sum: 2, ws: 0, we: 10_000 });
    expect(a.closeUpTo()).toEqual([]);
    expect(a.metrics()).toMatchObject({ closed: 1, evicted: 1, groups: 1 });
  });

  test('emit final: nothing until the window closes', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000 }, { emit: 'final' }));
    a.add(r(1000), 1);
    a.add(r(2000), 2);
    expect(a.drainChanges()).toEqual([]);
    a.add(r(25_000), 3);
    expect(a.drainChanges()).toEqual([]);
    expect(summary(a.closeUpTo())).toEqual([['a.=w0', 0, 10_000, 2, 2, true]]);
    expect(a.rows().map((c) => [c.key, c.final])).toEqual([['a.=w20000', false]]);
  });

  test('grace: records up to grace after the window end still count, later ones are late', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000, grace: 2000 }));
    expect(a.add(r(1000), 1)).toBe('added');
    expect(a.add(r(11_500), 2)).toBe('added'); // stream time 11 500, watermark 9 500 < end 10 000
    expect(a.add(r(9000), 3)).toBe('added'); // inside grace
    expect(a.add(r(13_000), 4)).toBe('added'); // watermark 11 000 ≥ 10 000: window [0, 10 000) is closed
    expect(a.add(r(9500), 5)).toBe('late');
    expect(a.metrics()).toMatchObject({ late: 1, records: 5 });
    const closed = a.closeUpTo();
    expect(summary(closed)).toEqual([['a.=w0', 0, 10_000, 2, 2, true]]);
    // late for a window closed by closeUpTo, even below the internal watermark
    expect(a.add(r(9999), 6)).toBe('late');
  });

  test('late records of a batch are returned to the caller', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000 }));
    const late = r(500, 'b');
    const res = a.addBatch([r(1000), r(30_000), late, { k: 'c' }], 1);
    expect(res.added).toBe(2);
    expect(res.late).toEqual([late]);
    expect(res.invalid).toEqual([{ k: 'c' }]);
  });

  test('retention keeps closed windows queryable, then evicts them', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000, retention: '30s' }));
    a.add(r(1000), 1);
    a.add(r(15_000), 2);
    a.closeUpTo();
    expect(a.get('a.=w0')).toMatchObject({ final: true, row: { n: 1 } });
    a.add(r(39_000), 3);
    a.closeUpTo();
    expect(a.get('a.=w0')).toBeDefined(); // 10 000 + 30 000 > 39 000
    a.add(r(40_000), 4);
    a.closeUpTo();
    expect(a.get('a.=w0')).toBeUndefined();
    expect(a.rows().map((c) => [c.key, c.final])).toEqual([['a.=w10000', true], ['a.=w30000', true], ['a.=w40000', false]]);
    expect(a.drainPersist().deletes).toEqual([]); // a.=w0 was never persisted
  });

  test('several group columns: a key whose last window was evicted starts again as a key of the table', () => {
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000 }, { groupBy: ['k', 'm'] }));
    const rec = (t: number) => ({ k: 'a', m: 1, t, v: 1 });
    a.add(rec(1000), 1);
    a.closeUpTo(50_000); // closes and evicts a.=1 [0, 10 000): the key has no window left
    expect(a.rows()).toEqual([]);
    // the same group values as the record before: counted in a key the table holds
    a.add(rec(60_000), 2);
    a.add(rec(61_000), 3);
    expect(a.rows().map((c) => [c.key, c.row.n])).toEqual([['a.=1.=w60000', 2]]);
    expect(a.lookup(['a', 1]).map((c) => c.row.n)).toEqual([2]);
  });

  test('idle close: after idleClose of wall-clock silence, stream time advances with the wall clock', () => {
    let now = 0;
    const a = new Aggregator(spec({ type: 'tumbling', size: 10_000, idleClose: '30s' }), { clock: () => now });
    a.add(r(5000), 1); // stream time 5000, last arrival at wall 0
    expect(a.advanceWallClock(10_000)).toEqual([]);
    expect(a.advanceWallClock(29_999)).toEqual([]);
    const closed = a.advanceWallClock(30_000); // stream time 5000 + 30 000 = 35 000
    expect(summary(closed)).toEqual([['a.=w0', 0, 10_000, 1, 1, true]]);
    expect(a.streamTime).toBe(35_000);
    now = 31_000;
    expect(a.add(r(6000), 2)).toBe('late');
    expect(a.add(r(36_000), 3)).toBe('added');
  });
});

describe('hopping windows', () => {
  test('overlapping windows each count the record (hand-computed)', () => {
    // size 10 s, advance 5 s: t=7000 → [0,10000) and [5000,15000); t=12000 → [5000,15000) and [10000,20000)
    const a = new Aggregator(spec({ type: 'hopping', size: '10s', advance: '5s', grace: '1h' }));
    a.add(r(7000, 'a', 2), 1);
    a.add(r(12_000, 'a', 3), 2);
    expect(summary(a.drainChanges()).sort((x, y) => (x[1] as number) - (y[1] as number))).toEqual([
      ['a.=w0', 0, 10_000, 1, 2, false],
      ['a.=w5000', 5000, 15_000, 2, 5, false],
      ['a.=w10000', 10_000, 20_000, 1, 3, false],
    ]);
  });

  test('a record is late only when all its windows are closed', () => {
    const a = new Aggregator(spec({ type: 'hopping', size: 10_000, advance: 5000 }));
    a.add(r(12_000), 1); // watermark 12 000: [0,10000) is closed, [5000,15000) open
    expect(a.add(r(7000), 2)).toBe('added'); // goes to [5000,15000) only
    expect(a.metrics().lateAssignments).toBe(1);
    a.add(r(16_000), 3); // watermark 16 000 closes [5000,15000)
    expect(a.add(r(9000), 4)).toBe('late');
    const rows = Object.fromEntries(a.rows().map((c) => [c.windowStart, c.row.n]));
    expect(rows).toEqual({ 5000: 2, 10_000: 2, 15_000: 1 });
  });
});

describe('session windows', () => {
  test('sessions split on gaps and merge when a record bridges them', () => {
    const a = new Aggregator(spec({ type: 'session', gap: '5s', grace: '10s' }));
    a.add(r(0), 1);
    a.add(r(3000), 2);
    a.add(r(20_000), 3);
    expect(summary(a.drainChanges())).toEqual([
      ['a.=w0', 0, 3000, 2, 2, false],
      ['a.=w20000', 20_000, 20_000, 1, 1, false],
    ]);
    // 11 000 is more than 5 s from 3000 and from 20 000: a new session
    a.add(r(11_000), 4);
    expect(summary(a.drainChanges())).toEqual([['a.=w11000', 11_000, 11_000, 1, 1, false]]);
    // 7000 is within 5 s of 3000 and of 11 000: bridges [0,3000] and [11000,11000]
    expect(a.add(r(7000), 5)).toBe('added');
    const ch = a.drainChanges();
    expect(ch).toContainEqual({ key: 'a.=w11000', groupValues: {}, row: {}, final: true, deleted: true });
    expect(summary(ch.filter((c) => !c.deleted))).toEqual([['a.=w0', 0, 11_000, 4, 4, false]]);
    // 15 000 is within 5 s of 11 000 and of 20 000: everything is one session now
    a.add(r(15_000), 6);
    const ch2 = a.drainChanges();
    expect(ch2.filter((c) => c.deleted).map((c) => c.key)).toEqual(['a.=w20000']);
    expect(summary(ch2.filter((c) => !c.deleted))).toEqual([['a.=w0', 0, 20_000, 6, 6, false]]);
    expect(a.metrics().groups).toBe(1);
  });

  test('a record before a session moves its start (and its key)', () => {
    const a = new Aggregator(spec({ type: 'session', gap: 5000, grace: 60_000 }));
    a.add(r(10_000), 1);
    expect(a.drainChanges().map((c) => c.key)).toEqual(['a.=w10000']);
    a.add(r(6000), 2);
    expect(a.drainChanges().map((c) => [c.key, c.deleted ?? false, c.windowStart, c.row.n])).toEqual([
      ['a.=w10000', true, undefined, undefined],
      ['a.=w6000', false, 6000, 2],
    ]);
    const { upserts } = a.drainPersist();
    expect(upserts.map((u) => u.key)).toEqual(['a.=w6000']);
  });

  test('sessions close at last event + gap + grace; later records for them are late', () => {
    const a = new Aggregator(spec({ type: 'session', gap: 5000, grace: 1000 }, { emit: 'final' }));
    a.add(r(0), 1);
    a.add(r(4000), 2);
    a.add(r(8999), 3); // within 5 s of 4000: session [0, 8999]
    a.add(r(15_999), 4); // a new session; watermark 14 999 ≥ 8999 + 5000: the first session closes
    expect(summary(a.closeUpTo())).toEqual([['a.=w0', 0, 8999, 3, 3, true]]);
    expect(a.add(r(9000), 5)).toBe('late');
    expect(a.add(r(12_000), 6)).toBe('added'); // within 5 s of 15 999: joins the open session
    expect(a.rows().map((c) => [c.windowStart, c.windowEnd, c.row.n])).toEqual([[12_000, 15_999, 2]]);
  });
});

describe('random windows vs a brute-force oracle (fast-check)', () => {
  const events = fc.array(fc.record({ t: fc.integer({ min: 0, max: 100_000 }), k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: -5, max: 5 }) }), { maxLength: 120 });

  test('tumbling and hopping: every window = the records inside [start, start + size)', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), (evs, sizeK, div) => {
        const size = sizeK * 1000;
        const advance = Math.max(1, Math.floor(size / div));
        const a = new Aggregator(spec({ type: 'hopping', size, advance, grace: '1d' }));
        evs.forEach((e, i) => a.add(e, i));
        // oracle: for every key and every candidate start (multiples of advance), count what falls in the window
        const want = new Map<string, [number, number]>();
        for (const e of evs) {
          for (let s = Math.floor((e.t - size) / advance) * advance; s <= e.t; s += advance) {
            if (s <= e.t && e.t < s + size) {
              const key = `${e.k}@${s}`;
              const cur = want.get(key) ?? [0, 0];
              want.set(key, [cur[0] + 1, cur[1] + e.v]);
            }
          }
        }
        const got = new Map(a.rows().map((c) => [`${c.groupValues.k}@${c.windowStart}`, [c.row.n, c.row.sum]]));
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  test('sessions: any arrival order gives the sessions of the sorted stream split on gaps > gap', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 10_000 }), (evs, gap) => {
        const a = new Aggregator(spec({ type: 'session', gap, grace: '1d' }));
        evs.forEach((e, i) => a.add(e, i));
        const want: [string, number, number, number, number][] = [];
        for (const k of ['a', 'b', 'c']) {
          const ts = evs.filter((e) => e.k === k).sort((x, y) => x.t - y.t);
          let cur: [string, number, number, number, number] | undefined;
          for (const e of ts) {
            if (cur && e.t - cur[2] <= gap) {
              cur[2] = e.t;
              cur[3]++;
              cur[4] += e.v;
            } else {
              if (cur) want.push(cur);
              cur = [k, e.t, e.t, 1, e.v];
            }
          }
          if (cur) want.push(cur);
        }
        const got = a.rows().map((c) => [c.groupValues.k, c.windowStart, c.windowEnd, c.row.n, c.row.sum]);
        const order = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0])) || (x[1] as number) - (y[1] as number);
        expect(got.sort(order)).toEqual(want.sort(order));
      }),
      { numRuns: 300 },
    );
  });

  test('late handling matches the watermark rule for random arrival orders', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 0, max: 5000 }), (evs, grace) => {
        const size = 10_000;
        const a = new Aggregator(spec({ type: 'tumbling', size, grace }));
        let streamTime = -Infinity;
        const want = new Map<string, number>();
        let late = 0;
        for (const [i, e] of evs.entries()) {
          streamTime = Math.max(streamTime, e.t);
          const start = Math.floor(e.t / size) * size;
          const isLate = start + size <= streamTime - grace;
          expect(a.add(e, i)).toBe(isLate ? 'late' : 'added');
          if (isLate) late++;
          else want.set(`${e.k}@${start}`, (want.get(`${e.k}@${start}`) ?? 0) + 1);
        }
        expect(a.metrics().late).toBe(late);
        // everything not late is in the table until closed; closing everything emits exactly those rows
        const finals = a.closeUpTo(Infinity);
        expect(new Map(finals.map((c) => [`${c.groupValues.k}@${c.windowStart}`, c.row.n]))).toEqual(want);
        expect(a.metrics().groups).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  test('snapshot/restore at a random point gives the same final rows', () => {
    fc.assert(
      fc.property(events, fc.nat(), fc.constantFrom<WindowSpec>({ type: 'tumbling', size: 5000, grace: 3000 }, { type: 'session', gap: 2000, grace: 3000 }, { type: 'hopping', size: 6000, advance: 2000, grace: 3000 }), (evs, cut, w) => {
        const at = evs.length ? cut % evs.length : 0;
        const s = spec(w, { emit: 'final' });
        const whole = new Aggregator(s);
        const finalsWhole: Change[] = [];
        evs.forEach((e, i) => {
          whole.add(e, i);
          finalsWhole.push(...whole.closeUpTo());
        });
        let part = new Aggregator(s);
        const finalsPart: Change[] = [];
        evs.forEach((e, i) => {
          if (i === at) part = Aggregator.restore(s, JSON.parse(JSON.stringify(part.snapshot())));
          part.add(e, i);
          finalsPart.push(...part.closeUpTo());
        });
        expect(finalsPart).toEqual(finalsWhole);
        expect(part.rows()).toEqual(whole.rows());
      }),
      { numRuns: 200 },
    );
  });
});
