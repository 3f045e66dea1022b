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
  // two fields: memoized on the pair
  'wifi.frames.{subtype_name}.p{sa%16}',
  '{key}.{n}',
  'p{key%4}.q{n%3}',
  'deep.{a.b}.{key%5}',
  'same.{key}.{key%7}',
];

const values: unknown[] = [
  'key-0', 'key-1', 'key-63', '', 'a.b', 'x y', 'aa:bb:cc:dd:ee:ff', '*', '>', 0, 1, -0, 42, 3.5, NaN,
  undefined, null, true, { nested: 1 }, ['arr'],
];

function records(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const v of values) {
    out.push({ key: v, n: v, type_subtype: v, subtype_name: v, sa: v, a: { b: v } });
    out.push({ key: v, n: v, type_subtype: 'beacon', subtype_name: 'beacon', sa: v, a: v }); // a.b through a non-object
    out.push({ key: 'k', n: v, subtype_name: v, sa: 'aa:bb:cc:dd:ee:ff' });
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

test.each(['wifi.frames.{subtype_name}.p{sa%16}', 'by.{key}.{n}', 'x.{key%1000}.{n%7}', 'by.{key}.p{sa%16}', 'p{sa%200}.{key}'])('two-field memo of %s stays exact for many pairs and past its size', (source) => {
  const template = compileSubjectTemplate(source);
  const fast = memoizedRender(template);
  const names = ['probe_req', 'beacon', 'ack', 'rts', 'cts', 'null', 'qos_data', 'data', 'probe_resp'];
  const wrong: string[] = [];
  // 9 names x 4000 keys: 36k pairs, several times the memo's bound, each seen twice
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 36_000; i++) {
      const mac = `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
      const record = { subtype_name: names[i % 9], sa: mac, key: `k-${i % 4000}`, n: i % 9 };
      if (fast(record) !== template.render(record)) wrong.push(JSON.stringify(record));
    }
  }
  expect(wrong).toEqual([]);
});

test('the probe\'s default subject renders as written out by hand', () => {
  // independent of render: FNV-1a 32 of the MAC, modulo 16, computed here with BigInt
  const fnv = (s: string) => { let h = 0x811c9dc5n; for (const c of s) h = ((h ^ BigInt(c.charCodeAt(0))) * 0x01000193n) & 0xffffffffn; return h; };
  const fast = memoizedRender(compileSubjectTemplate('wifi.frames.{subtype_name}.p{sa%16}'));
  for (const sa of ['aa:bb:cc:dd:ee:ff', '02:00:00:00:00:01', 'f0:9f:c2:11:22:33']) {
    expect(fast({ subtype_name: 'probe_req', sa })).toBe(`wifi.frames.probe_req.p${fnv(sa) % 16n}`);
  }
});
