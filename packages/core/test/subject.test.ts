import { hashKey, partitionOf } from '../src/subject';

// Subjects derive from partitionOf: its results must never change. The reference here is FNV-1a 32
// computed with BigInt (no 32-bit tricks), checked against published FNV-1a test vectors.
function fnv1a(s: string): bigint {
  let h = 0x811c9dc5n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x01000193n) & 0xffffffffn;
  return h;
}

test('the reference is FNV-1a 32 (published vectors)', () => {
  expect(fnv1a('')).toBe(0x811c9dc5n);
  expect(fnv1a('a')).toBe(0xe40c292cn);
  expect(fnv1a('foobar')).toBe(0xbf9cf968n);
});

const values: unknown[] = [
  '', 'a', 'foobar', 'key-0', 'aa:bb:cc:dd:ee:ff', 'é€😀', undefined, null, 0, -1, 42, 3.5, true,
  ...Array.from({ length: 3000 }, (_, i) => `02:00:00:${(i >> 8).toString(16)}:${(i & 255).toString(16)}:${i % 7}`),
];
const counts = [1, 2, 3, 4, 6, 7, 16, 100, 1000, 4096, 32767, 32768, 32769, 65536, 1_000_003, 2 ** 31, 2 ** 31 + 1, 2 ** 32 + 5];

test('hashKey is FNV-1a 32 of the string form', () => {
  for (const v of values) expect(BigInt(hashKey(v))).toBe(fnv1a(v === undefined || v === null ? '' : String(v)));
});

test('partitionOf is the hash modulo the count, for small, power-of-two and huge counts', () => {
  const wrong: string[] = [];
  for (const v of values) {
    const h = fnv1a(v === undefined || v === null ? '' : String(v));
    for (const n of counts) {
      const got = partitionOf(v, n);
      if (BigInt(got) !== h % BigInt(n)) wrong.push(`${String(v)} % ${n}: ${got}`);
    }
  }
  expect(wrong).toEqual([]);
});
