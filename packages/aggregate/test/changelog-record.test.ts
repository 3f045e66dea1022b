// The actor publishes changelog records built from the drained Change's own row object
// (changeRecord(..., consume = true)); the reference is the copying form the query path uses.
import { Aggregator, type AggregationSpec, type Change } from '../src/engine';
import { Packr } from 'msgpackr';
// eslint-disable-next-line no-restricted-imports -- the test checks what the runtime codec makes of packed records
import { decodeBatch, encodeBatch } from '@pcapflow/core/runtime';
import { ChangelogPacker, changeRecord } from '../src/query/query';

const SPECS: [string, AggregationSpec][] = [
  ['running totals, truncated set', { groupBy: ['k'], aggregates: [{ name: 'n', fn: 'COUNT' }, { name: 'set', fn: 'COLLECT_SET', arg: 'v', options: { max: 2 } }] }],
  ['tumbling, two group columns', { groupBy: ['k', 'v'], timestamp: 't', window: { type: 'tumbling', size: 10, grace: 0 }, aggregates: [{ name: 'n', fn: 'COUNT' }, { name: '_key', fn: 'MAX', arg: 't' }] }],
  ['session (merges delete keys)', { groupBy: ['k'], timestamp: 't', window: { type: 'session', gap: 5, grace: 100 }, aggregates: [{ name: 'n', fn: 'COUNT' }] }],
];

/** The same drained changes twice: from two aggregators fed alike. */
function drainTwice(spec: AggregationSpec): [Change[], Change[]] {
  const out: [Change[], Change[]] = [[], []];
  for (const list of out) {
    const agg = new Aggregator(spec, { clock: () => 0 });
    for (let i = 0; i < 40; i++) {
      agg.addBatch([{ k: `k${i % 3}`, v: i % 5, t: i % 2 === 0 ? i : 40 - i }], i + 1);
      list.push(...agg.drainChanges(), ...agg.closeUpTo());
    }
  }
  return out;
}

test.each(SPECS)('%s: consuming the change gives the record the copy gives, keys in the same order', (_name, spec) => {
  const [a, b] = drainTwice(spec);
  expect(a.length).toBeGreaterThan(0);
  for (let i = 0; i < a.length; i++) {
    const copied = changeRecord('tab', ['k', 'v'], a[i]);
    const consumed = changeRecord('tab', ['k', 'v'], b[i], true);
    expect(consumed).toStrictEqual(copied);
    expect(Object.keys(consumed)).toEqual(Object.keys(copied));
  }
  // some of them are deletions in the session case, and final rows in the windowed ones
  if (spec.window?.type === 'session') expect(a.some((c) => c.deleted)).toBe(true);
});

// The actor gives each changelog record its msgpack form (ChangelogPacker); the runtime's
// encodeBatch then concatenates those bytes. What a consumer decodes must be what msgpackr gives
// for the same record without them.
describe('packed changelog records', () => {
  const PACKED_VALUES = Symbol.for('pcapflow.packedValues');
  const DEVICES: AggregationSpec = {
    groupBy: ['COALESCE(name, sa) AS device'], timestamp: 'ts',
    aggregates: [
      { name: 'probes', fn: 'COUNT' }, { name: 'earliest', fn: 'EARLIEST', arg: 'ts' }, { name: 'latest', fn: 'LATEST', arg: 'ts' },
      { name: 'min_signal', fn: 'MIN', arg: 'sig' }, { name: 'avg_signal', fn: 'AVG', arg: 'sig' },
      { name: 'ssids', fn: 'COLLECT_SET', arg: 'ssid', options: { max: 3 } }, { name: 'n_ssids', fn: 'COUNT_DISTINCT', arg: 'ssid' },
      { name: 'last_ssid', fn: 'LATEST', arg: 'ssid' },
    ],
  };
  const device = (i: number) => ({
    // ints across msgpack's formats (64..127 are record ids in msgpackr's record extension), floats, text beyond ASCII
    ts: [5, 70, 127, 300, 70_000, 1_700_000_000_123][i % 6] + i, sa: `aa:bb:${i % 4}`, name: i % 5 === 0 ? 'Café Tablet' : null,
    sig: i % 3 === 0 ? null : -40.5 - i, ssid: i % 7 === 0 ? null : `net-${i % 6}${i % 11 === 0 ? 'é' : ''}`,
  });
  const cases: [string, AggregationSpec, (i: number) => Record<string, unknown>][] = [
    ['device statistics (strings, floats, nulls, sets, truncated)', DEVICES, device],
    ...SPECS.map(([name, spec]): [string, AggregationSpec, (i: number) => Record<string, unknown>] => [name, spec, (i) => ({ k: `k${i % 3}`, v: i % 5, t: i % 2 === 0 ? i : 40 - i })]),
  ];

  test.each(cases)('%s: decodes as the record msgpackr packs', (_name, spec, make) => {
    const agg = new Aggregator(spec, { clock: () => 0 });
    const packer = new ChangelogPacker('tab', agg.groupNames, spec.aggregates.map((a) => a.name), (spec.window?.type ?? 'none') !== 'none');
    const records: Record<string, unknown>[] = [];
    const plain: Record<string, unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      agg.addBatch([make(i)], i + 1);
      for (const ch of [...agg.drainChanges(), ...agg.closeUpTo()]) {
        plain.push(changeRecord('tab', agg.groupNames, ch));
        const r = changeRecord('tab', agg.groupNames, ch, true);
        packer.pack(r, ch);
        records.push(r);
      }
    }
    const packed = records.filter((r) => PACKED_VALUES in r);
    // a column named _key (the windowed case) overwrites changeRecord's own field: never packed
    if (spec.aggregates.some((a) => a.name === '_key')) expect(packed).toHaveLength(0);
    else expect(packed.length).toBe(records.filter((r) => r._deleted !== true).length);
    if (spec === DEVICES) expect(records.some((r) => r._truncated)).toBe(true);
    // every record packed alone, as a batch of its own kind (packed or not), and all together
    for (const batch of [...records.map((r) => [r]), packed, records]) {
      const decoded = decodeBatch(encodeBatch(batch));
      const reference = decodeBatch(new Packr({ useRecords: true }).pack(batch.map((r) => ({ ...r }))));
      expect(decoded).toStrictEqual(reference);
      decoded.forEach((d, i) => expect(Object.keys(d)).toEqual(Object.keys(reference[i])));
    }
    expect(decodeBatch(encodeBatch(records))).toStrictEqual(plain);
  });
});
