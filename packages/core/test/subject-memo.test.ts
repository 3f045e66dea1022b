import { compileSubjectTemplate } from '../src/subject';
import { memoizedRender } from '../src/runtime/subject-memo';

// The fast renders must give exactly what the template's own render gives, for every kind of value.
const templates = [
  'bench.events',
  'wifi.frames.{type_subtype}.{sa}',
  'events.p{key%4}',
  'events.p{key%1}.x',
  'p{key%16}',
  'deep.{a.b%7}.tail',
  'deep.{a.b}',
  'by.{key}',
  'n.{n%3}',
];

const values: unknown[] = [
  'key-0', 'key-1', 'key-63', '', 'a.b', 'x y', 'aa:bb:cc:dd:ee:ff', '*', '>', 0, 1, -0, 42, 3.5, NaN,
  undefined, null, true, { nested: 1 }, ['arr'],
];

function records(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const v of values) {
    out.push({ key: v, n: v, type_subtype: v, sa: v, a: { b: v } });
    out.push({ key: v, n: v, type_subtype: 'beacon', sa: v, a: v }); // a.b through a non-object
    out.push({});
  }
  return out;
}

test.each(templates)('memoized render of %s equals the template render', (source) => {
  const template = compileSubjectTemplate(source);
  const fast = memoizedRender(template);
  for (let round = 0; round < 3; round++) { // a second and third pass hit the memo
    for (const record of records()) expect(fast(record)).toBe(template.render(record));
  }
});

test('a memo past its size starts over and stays exact', () => {
  const template = compileSubjectTemplate('by.{key}');
  const fast = memoizedRender(template);
  const wrong: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const record = { key: `k${i % 12_000}` };
    if (fast(record) !== template.render(record)) wrong.push(record.key);
  }
  expect(wrong).toEqual([]);
});

test.each(['p{key%7}', 'p{key%16}', 'x.{key%4096}.y', 'x.{key%1000}'])('partition subjects of %s agree with render for many keys', (source) => {
  const template = compileSubjectTemplate(source);
  const fast = memoizedRender(template);
  const wrong: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const record = { key: `k-${i * 7919}` };
    if (fast(record) !== template.render(record)) wrong.push(record.key);
  }
  expect(wrong).toEqual([]);
});
