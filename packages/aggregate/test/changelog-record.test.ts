// The actor publishes changelog records built from the drained Change's own row object
// (changeRecord(..., consume = true)); the reference is the copying form the query path uses.
import { Aggregator, type AggregationSpec, type Change } from '../src/engine';
import { changeRecord } from '../src/query/query';

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
