// The commit path writes row states with its own msgpack writer (MsgpackWriter, writeGroupState)
// instead of building a GroupSnapshot and handing it to core's encodeValue. The reference is that
// general path: decodeValue of what the writer wrote must be exactly what decodeValue(encodeValue(x))
// gives, for every value and accumulator state, and a table committed through it must load back as
// it was.
import fc from 'fast-check';
import { decodeValue, encodeValue, type KvStore } from '@pcapflow/core';
import { Aggregator, MsgpackWriter, RecordShape, type AggregationSpec } from '../src/engine';
import { TableStore } from '../src/runtime/state';

/** The value written by `write` inside a one-key record, decoded by core's decodeValue. */
function roundTrip(write: (w: MsgpackWriter) => boolean): unknown {
  const w = new MsgpackWriter(16);
  w.reset();
  w.record(new RecordShape(['x']));
  if (!write(w)) throw new Error('writer refused the value');
  return (decodeValue(w.copy()) as { x: unknown }).x;
}

const reference = (v: unknown): unknown => (decodeValue(encodeValue({ x: v })) as { x: unknown }).x;

describe('MsgpackWriter', () => {
  const numbers = [
    0, 1, 63, 64, 65, 100, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -31, -32, -33,
    -127, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 1.5, -0.25, 1704067204835.608, 1704067204835, NaN, Infinity, -Infinity, 1e300, 5e-324,
  ];
  test.each(numbers.map((n) => [n]))('number %p', (n) => {
    expect(roundTrip((w) => (w.number(n), true))).toStrictEqual(reference(n));
  });

  test('integers 64..127 next to records stay numbers (those bytes are also record ids)', () => {
    const w = new MsgpackWriter();
    w.reset();
    const shapes = Array.from({ length: 40 }, (_, i) => new RecordShape([`k${i}`]));
    const outer = new RecordShape(['list']);
    w.record(outer);
    w.arrayHeader(64);
    for (let i = 0; i < 64; i++) {
      // 40 shapes defined (ids 0x41..0x68), then plain integers 64..127 whose bytes would name them
      if (i < 40) {
        w.record(shapes[i]);
        w.number(64 + i);
      } else w.number(64 + i);
    }
    const list = (decodeValue(w.copy()) as { list: unknown[] }).list;
    expect(list).toStrictEqual(Array.from({ length: 64 }, (_, i) => (i < 40 ? { [`k${i}`]: 64 + i } : 64 + i)));
  });

  const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(63), 'y'.repeat(64), 'z'.repeat(255), 'z'.repeat(256), 'w'.repeat(65535), 'w'.repeat(65536),
    'é', 'Gym-B71F', '82:4f:fe:0b:23:ec', 'x😀y', '\u0000', 'é'.repeat(20), 'é'.repeat(200), 'ÿ'.repeat(40)];
  test.each(strings.map((s) => [s.length > 40 ? `${s.slice(0, 12)}… (${s.length})` : s, s]))('string %j', (_label, s) => {
    expect(roundTrip((w) => (w.str(s), true))).toStrictEqual(reference(s));
  });

  test('a lone surrogate is written as U+FFFD, as Buffer and the row keys write it (msgpackr itself gives one to three U+FFFD, by length)', () => {
    expect(roundTrip((w) => (w.str('a\ud800b'), true))).toBe('a\ufffdb');
    expect(roundTrip((w) => (w.str('\udc00'.repeat(70)), true))).toBe('\ufffd'.repeat(70));
  });

  test('any string, number, boolean, null and nested arrays of them: as encodeValue (fast-check)', () => {
    const prim = fc.oneof(fc.string({ unit: 'binary' }), fc.string(), fc.double(), fc.integer(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, prim, fc.array(tie('v'), { maxLength: 5 })) })).v;
    fc.assert(fc.property(value, (v) => {
      expect(roundTrip((w) => w.value(v))).toStrictEqual(reference(v));
    }), { numRuns: 3000 });
  });

  test('objects, Dates, bigints and undefined inside arrays are refused (the caller falls back)', () => {
    for (const v of [{ a: 1 }, new Date(0), 10n, [1, undefined], new Map(), new Uint8Array(2)]) {
      const w = new MsgpackWriter();
      w.reset();
      expect(w.value(v)).toBe(false);
    }
  });

  test('a message has 64 record ids: the 65th shape is refused', () => {
    const w = new MsgpackWriter();
    w.reset();
    const shapes = Array.from({ length: 65 }, (_, i) => new RecordShape([`k${i}`]));
    for (let i = 0; i < 64; i++) expect(w.record(shapes[i])).toBe(true);
    expect(w.record(shapes[64])).toBe(false);
    // a used shape is referenced by its id, and a new message starts over
    expect(w.record(shapes[0])).toBe(true);
    w.reset();
    expect(w.record(shapes[64])).toBe(true);
  });

  test('the same shape in two writers: each message defines its own ids', () => {
    const shape = new RecordShape(['n']);
    const a = new MsgpackWriter(), b = new MsgpackWriter();
    a.reset();
    b.reset();
    a.record(shape);
    a.number(1);
    b.record(shape);
    b.number(2);
    expect([decodeValue(a.copy()), decodeValue(b.copy())]).toStrictEqual([{ n: 1 }, { n: 2 }]);
  });

  test('messages taken as views (beginAfter/take) keep their bytes while later ones fill and replace the buffer', () => {
    // a 64-byte buffer: messages of 3..600 bytes cross its end, and some need more than a fresh one
    const w = new MsgpackWriter(64);
    const shape = new RecordShape(['s', 'n']);
    const taken: { view: Uint8Array; copy: Uint8Array; value: unknown }[] = [];
    for (let i = 0; i < 200; i++) {
      const value = { s: 'x'.repeat((i * 37) % 600), n: i };
      w.beginAfter();
      if (i % 7 === 3) {
        // written, then dropped: the next message starts where it started
        w.record(shape);
        w.str('dropped');
        w.discard();
      }
      w.record(shape);
      w.str(value.s);
      w.number(value.n);
      const view = w.take();
      taken.push({ view, copy: Uint8Array.from(view), value });
    }
    for (const t of taken) {
      expect(Buffer.from(t.view).equals(Buffer.from(t.copy))).toBe(true);
      expect(decodeValue(t.view)).toStrictEqual(t.value);
    }
  });
});

// ---------------------------------------------------------------- writeGroupState

const ALL: AggregationSpec['aggregates'] = [
  { name: 'n', fn: 'COUNT' },
  { name: 'nv', fn: 'COUNT', arg: 'v' },
  { name: 'first', fn: 'EARLIEST', arg: 'v' },
  { name: 'last', fn: 'LATEST', arg: 's' },
  { name: 'firstOff', fn: 'EARLIEST_BY_OFFSET', arg: 'v', options: { ignoreNulls: false } },
  { name: 'lo', fn: 'MIN', arg: 'v' },
  { name: 'hi', fn: 'MAX', arg: 's' },
  { name: 'sum', fn: 'SUM', arg: 'v' },
  { name: 'avg', fn: 'AVG', arg: 'v' },
  { name: 'set', fn: 'COLLECT_SET', arg: 's', options: { max: 4 } },
  { name: 'dist', fn: 'COUNT_DISTINCT', arg: 's', options: { exactLimit: 6 } },
  { name: 'dist2', fn: 'COUNT_DISTINCT', arg: 'v' },
];

const SPECS: [string, AggregationSpec][] = [
  ['no window', { groupBy: ['k'], timestamp: 't', aggregates: ALL }],
  ['two group columns', { groupBy: ['k', 'v % 3 AS m'], timestamp: 't', aggregates: ALL }],
  ['no group', { groupBy: [], timestamp: 't', aggregates: ALL }],
  ['tumbling, closing', { groupBy: ['k'], timestamp: 't', window: { type: 'tumbling', size: 100, grace: 0, retention: 1000 }, aggregates: [...ALL, { name: 'ws', fn: 'WINDOWSTART' }] }],
  ['session', { groupBy: ['k'], timestamp: 't', window: { type: 'session', gap: 30, grace: 10, retention: 1000 }, aggregates: [...ALL, { name: 'we', fn: 'WINDOWEND' }] }],
];

/** Records whose values reach every format: small and large ints, floats, 64..127, text of all lengths, nulls. */
const recordArb = fc.record({
  k: fc.oneof(fc.constantFrom('a', 'b', 'é', 'x'.repeat(40), ''), fc.integer({ min: 60, max: 130 }), fc.constant(null), fc.boolean()),
  v: fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 64, max: 127 }), fc.constant(null)),
  s: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('Gym-B71F', 'é', '😀'), fc.constant(null)),
  dt: fc.integer({ min: 0, max: 80 }),
});

/** Each changed row through writeGroupState vs its GroupSnapshot through encodeValue. */
function compareRows(agg: Aggregator): number {
  const { rows } = agg.drainPersistRows();
  const w = new MsgpackWriter(32);
  let written = 0;
  for (const row of rows) {
    const want = decodeValue(encodeValue(agg.groupState(row)));
    w.reset();
    if (!agg.writeGroupState(row, w)) continue;
    written++;
    expect(decodeValue(w.copy())).toStrictEqual(want);
  }
  return written;
}

describe('writeGroupState', () => {
  test.each(SPECS)('%s: decodes to the GroupSnapshot encodeValue gives (fast-check)', (_name, spec) => {
    fc.assert(fc.property(fc.array(fc.array(recordArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }), (batches) => {
      const agg = new Aggregator(spec, { clock: () => 0 });
      let t = 1000, seq = 0;
      let written = 0;
      for (const batch of batches) {
        agg.addBatch(batch.map((r) => ({ ...r, t: (t += r.dt) })), ++seq);
        agg.closeUpTo();
        written += compareRows(agg);
      }
      // every row of these specs is written by the writer itself (no fallback)
      expect(written).toBeGreaterThan(0);
    }), { numRuns: 150 });
  });

  test('states the writer does not write are refused, not written wrong', () => {
    const date = new Aggregator({ groupBy: ['d'], aggregates: [{ name: 'n', fn: 'COUNT' }] });
    date.addBatch([{ d: new Date(5) }], 1);
    const hist = new Aggregator({ groupBy: ['k'], aggregates: [{ name: 'h', fn: 'HISTOGRAM', arg: 'v' }] });
    hist.addBatch([{ k: 'a', v: 'x' }], 1);
    const objMax = new Aggregator({ groupBy: ['k'], aggregates: [{ name: 'm', fn: 'MAX', arg: 'o' }] });
    objMax.addBatch([{ k: 'a', o: { deep: 1 } }], 1);
    for (const agg of [date, hist, objMax]) {
      const { rows } = agg.drainPersistRows();
      const w = new MsgpackWriter();
      w.reset();
      expect(agg.writeGroupState(rows[0], w)).toBe(false);
    }
  });
});

// ---------------------------------------------------------------- TableStore commits

class SlowKv implements KvStore {
  readonly bucket = 'mem';
  readonly data = new Map<string, Uint8Array>();
  async get(key: string) { const v = this.data.get(key); return v ? { value: v, revision: 1 } : undefined; }
  async put(key: string, value: Uint8Array) {
    // acks arrive later, as from a server: the commit awaits between its batches of puts
    await new Promise((r) => setImmediate(r));
    this.data.set(key, value);
    return 1;
  }
  async delete(key: string) { this.data.delete(key); }
  async *keys() { for (const k of [...this.data.keys()]) yield k; }
  async *watch(): AsyncIterable<{ key: string; revision: number; op: 'put' | 'del' }> { return; }
}

const OPTS = { table: 't', partitions: 1, dedupeWindowMs: 600_000, dedupeMax: 1000, replayEpochs: 0 };
const DEVICE: AggregationSpec = {
  groupBy: ['k'], timestamp: 't',
  aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 'ssids', fn: 'COLLECT_SET', arg: 's' }, { name: 'nd', fn: 'COUNT_DISTINCT', arg: 's' }, { name: 'last', fn: 'LATEST', arg: 's' }],
};

describe('TableStore commit', () => {
  test('rows changed after commit() was called (puts in flight) are not in this commit: a load gives the state at the call', async () => {
    const kv = new SlowKv();
    const store = new TableStore(kv, OPTS);
    const st = await store.load(DEVICE);
    // 2000 rows: more than the puts the commit keeps in flight, so it awaits acks in between
    st.aggregator.addBatch(Array.from({ length: 2000 }, (_, i) => ({ k: `d${i}`, s: `net${i % 7}`, t: i })), 1);
    st.applied.add('IN', 1, 0);
    const atCommit = st.aggregator.rows().map((r) => r.row);
    const committing = store.commit(st.aggregator, st.applied);
    // the next message arrives while the puts are in flight: new SSIDs for every device
    st.aggregator.addBatch(Array.from({ length: 2000 }, (_, i) => ({ k: `d${i}`, s: `late${i}`, t: 5000 + i })), 2);
    await committing;
    const loaded = await new TableStore(kv, OPTS).load(DEVICE);
    const byKey = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [r.k as string, r]));
    expect(byKey(loaded.aggregator.rows().map((r) => r.row))).toStrictEqual(byKey(atCommit));
  });

  test('a row the writer refuses (Date group value) is committed through encodeValue and loads back', async () => {
    const kv = new SlowKv();
    const spec: AggregationSpec = { groupBy: ['d'], aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 'h', fn: 'HISTOGRAM', arg: 'v' }] };
    const store = new TableStore(kv, OPTS);
    const st = await store.load(spec);
    st.aggregator.addBatch([{ d: new Date(5), v: 'x' }, { d: 'plain', v: 'y' }, { d: 'plain', v: 'y' }], 1);
    await store.commit(st.aggregator, st.applied);
    const loaded = await new TableStore(kv, OPTS).load(spec);
    const rows = loaded.aggregator.rows().map((r) => r.row).sort((a, b) => String(a.d).localeCompare(String(b.d)));
    expect(rows).toStrictEqual([{ d: new Date(5), n: 1, h: { x: 1 } }, { d: 'plain', n: 2, h: { y: 2 } }].sort((a, b) => String(a.d).localeCompare(String(b.d))));
  });

  test('rows written by the previous commit path (encodeValue of the GroupSnapshot) load as before', async () => {
    const kv = new SlowKv();
    const agg = new Aggregator(DEVICE);
    agg.addBatch([{ k: 'a', s: 'x', t: 1 }, { k: 'a', s: 'y', t: 2 }, { k: 'b', s: null, t: 3 }], 1);
    const { upserts } = agg.drainPersist();
    for (const g of upserts) kv.data.set(`a.${g.key}`, encodeValue({ v: g, e: 1 }));
    kv.data.set('_ckpt', encodeValue({ v: 2, e: 1, st: 3, ct: null, ms: 1, d: { IN: { f: 0, r: [1] } } }));
    const loaded = await new TableStore(kv, OPTS).load(DEVICE);
    expect(loaded.aggregator.rows().map((r) => r.row)).toStrictEqual(agg.rows().map((r) => r.row));
    expect(loaded.applied.has('IN', 1)).toBe(true);
  });
});
