// The per-record fast paths give what the general paths give: group keys of several columns found
// through KeyTrie, key text escaping without per-character buffers, TIMESTAMPTOSTRING with a literal
// pattern compiled once per call site.
import fc from 'fast-check';
import { Aggregator, encodeGroupKey, type AggregationSpec, type Change } from '../src/engine';
import { escapeKeyText } from '../src/engine/keys';
import { compileExpression } from '../src/expr';

/** The key-text rule as documented in keys.ts, written out plainly: every character outside [A-Za-z0-9-] as "_XX" per UTF-8 byte. */
function referenceEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/^[A-Za-z0-9-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '_' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

describe('escapeKeyText', () => {
  test.each([
    ['aa:bb', 'aa_3Abb'],
    ['Apple_12:34:56', 'Apple_5F12_3A34_3A56'],
    ['é', '_C3_A9'],
    ['x😀y', 'x_F0_9F_98_80y'],
    ['a\ud800b', 'a_EF_BF_BDb'], // a lone surrogate is written as U+FFFD, as Buffer encodes it
    ['\u0000', '_00'],
    ['', ''],
  ])('%j → %s', (s, key) => {
    expect(escapeKeyText(s)).toBe(key);
  });

  test('agrees with the plain rule on any UTF-16 text (fast-check)', () => {
    const unit = fc.oneof(fc.constantFrom('a', 'Z', '0', '-', ':', '_', '.', '=', 'é', '😀'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
    fc.assert(fc.property(fc.string({ unit, maxLength: 12 }), (s) => expect(escapeKeyText(s)).toBe(referenceEscape(s))), { numRuns: 2000 });
  });
});

const COUNT: AggregationSpec['aggregates'] = [
  { name: 'n', fn: 'COUNT' },
  { name: 'last', fn: 'LATEST', arg: 'ts' },
];

/** Rows by key, the last version of each (deletions remove it). */
function collect(rows: Map<string, Change>, changes: Change[]): void {
  for (const c of changes) {
    if (c.deleted) rows.delete(c.key);
    else rows.set(c.key, c);
  }
}

/** The grouping rule for several columns, written out: values equal as JSON text, a non-finite number or a missing value counting as null. */
function referenceGroup(values: unknown[]): string {
  return JSON.stringify(values.map((v) => (v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v)));
}

describe('group keys of several columns', () => {
  // values that differ only in kind, or look alike as text, and values that group together (NaN, ±Infinity, null, missing; 0 and -0)
  const tricky: unknown[] = [1, '1', 0, -0, '0', null, undefined, NaN, Infinity, -Infinity, 'null', true, 'true', false, '', 'a"b', 'a\\b', '\u0000x', [1], { x: 1 }, '[1]'];

  test('records group as their values compare (fast-check over tricky values, with restarts from a snapshot)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...tricky), fc.constantFrom(...tricky), fc.constantFrom('x', 'y')), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (recs, restartAt) => {
          const spec: AggregationSpec = { groupBy: ['a', 'b', 'c'], timestamp: 'ts', aggregates: COUNT };
          let agg = new Aggregator(spec, { clock: () => 0 });
          const expected = new Map<string, number>();
          recs.forEach(([a, b, c], i) => {
            if (i === restartAt) agg = Aggregator.restore(spec, agg.snapshot(), { clock: () => 0 });
            const r: Record<string, unknown> = { ts: 1000 + i, c };
            if (a !== undefined) r.a = a;
            if (b !== undefined) r.b = b;
            expect(agg.add(r, i)).toBe('added');
            const k = referenceGroup([a, b, c]);
            expected.set(k, (expected.get(k) ?? 0) + 1);
          });
          const got = new Map<string, number>();
          for (const row of agg.rows()) {
            const vals = [row.row.a, row.row.b, row.row.c];
            const k = referenceGroup(vals);
            expect(got.has(k)).toBe(false);
            got.set(k, row.row.n as number);
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a key whose windows were all evicted starts afresh when it comes back', () => {
    const spec: AggregationSpec = {
      groupBy: ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", 'kind'],
      timestamp: 'ts',
      window: { type: 'tumbling', size: '1h', grace: 0, retention: 0 },
      aggregates: COUNT,
    };
    const agg = new Aggregator(spec, { clock: () => 0 });
    const H = 3_600_000;
    const t0 = Date.UTC(2024, 0, 1);
    const rows = new Map<string, Change>();
    const add = (ts: number, kind: string) => {
      expect(agg.add({ ts, kind }, ts)).toBe('added');
      collect(rows, agg.drainChanges());
      collect(rows, agg.closeUpTo());
    };
    add(t0 + 10, 'a');
    add(t0 + 20, 'a');
    add(t0 + 2 * H, 'b'); // closes and evicts the first hour: key (day, 'a') has no window left
    expect(agg.metrics().evicted).toBe(1);
    add(t0 + 2 * H + 1, 'a'); // the same key again: a new key state, counted from 1
    add(t0 + 2 * H + 2, 'a');
    const byWindow = [...rows.values()].map((c) => [c.row.kind, c.windowStart, c.row.n]).sort((x, y) => String(x).localeCompare(String(y)));
    expect(byWindow).toEqual([
      ['a', t0, 2],
      ['a', t0 + 2 * H, 2],
      ['b', t0 + 2 * H, 1],
    ]);
    expect(agg.lookup(['2024-01-01', 'a']).map((c) => c.row.n)).toEqual([2]);
  });

  test('late records of a new key leave nothing behind', () => {
    const spec: AggregationSpec = { groupBy: ['a', 'b'], timestamp: 'ts', window: { type: 'tumbling', size: 1000, grace: 0 }, aggregates: COUNT };
    const agg = new Aggregator(spec, { clock: () => 0 });
    agg.add({ a: 'x', b: 1, ts: 5000 }, 1);
    agg.closeUpTo();
    expect(agg.add({ a: 'y', b: 1, ts: 10 }, 2)).toBe('late');
    expect(agg.lookup(['y', 1])).toEqual([]);
    expect(agg.add({ a: 'y', b: 1, ts: 6000 }, 3)).toBe('added');
    expect(agg.lookup(['y', 1]).map((c) => [c.key, c.row.n])).toEqual([[encodeGroupKey(['y', 1]) + '.=w6000', 1]]);
  });
});

describe('TIMESTAMPTOSTRING with a literal pattern', () => {
  const DAY = 86_400_000;
  const t0 = Date.UTC(2024, 0, 1); // 2024-01-01T00:00:00Z

  test.each([
    [t0 - 0.5, 'UTC', '2023-12-31'],
    [t0, 'UTC', '2024-01-01'],
    [t0 + DAY - 0.25, 'UTC', '2024-01-01'],
    [t0 + DAY, 'UTC', '2024-01-02'],
    [t0 - 5.5 * 3_600_000 - 1, '+05:30', '2023-12-31'],
    [t0 - 5.5 * 3_600_000, '+05:30', '2024-01-01'],
    [t0 - 1, 'Europe/Berlin', '2024-01-01'],
    [t0 - 3_600_000 - 1, 'Europe/Berlin', '2023-12-31'],
  ])('%d in %s → %s, also after other days', (ts, tz, day) => {
    const f = compileExpression(`TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd', '${tz}')`).evaluate;
    // other days first, so a cached day must not answer
    expect(f({ ts: ts - DAY })).not.toBe(day);
    expect(f({ ts: ts + DAY })).not.toBe(day);
    expect(f({ ts })).toBe(day);
  });

  test('equals the general form (pattern not a literal) over any time order and zone (fast-check)', () => {
    const patterns = ['yyyy-MM-dd', 'yyyy-MM-dd HH', 'HH:mm', 'yyyy-MM-dd HH:mm:ss.SSS', "EEE d MMM yyyy 'at' h a"];
    const zones = [undefined, 'UTC', '+05:30', '-03:00', 'Europe/Berlin', 'America/New_York'];
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.constantFrom(...zones),
        fc.array(fc.oneof(fc.integer({ min: t0 - 3 * DAY, max: t0 + 3 * DAY }), fc.double({ min: t0 - 3 * DAY, max: t0 + 3 * DAY, noNaN: true }), fc.constantFrom(t0, t0 - 1, t0 + DAY, null, 'x', String(t0))), { minLength: 1, maxLength: 40 }),
        (pattern, tz, times) => {
          const tzArg = tz === undefined ? '' : `, '${tz}'`;
          const literal = compileExpression(`TIMESTAMPTOSTRING(ts, '${pattern.replace(/'/g, "''")}'${tzArg})`).evaluate;
          const general = compileExpression(`TIMESTAMPTOSTRING(ts, p${tzArg})`).evaluate;
          for (const ts of times) expect(literal({ ts })).toBe(general({ ts, p: pattern }));
        },
      ),
      { numRuns: 200 },
    );
  });
});
