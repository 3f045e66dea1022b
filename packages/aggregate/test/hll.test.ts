import fc from 'fast-check';
import { AGGREGATES, CountDistinctAcc, hash64, hashLo, HyperLogLog, HLL_REGISTERS, HLL_STANDARD_ERROR } from '../src/engine';

/** Relative standard error for p = 14: 1.04 / sqrt(16384) = 0.008125. */
const SIGMA = 1.04 / Math.sqrt(16384);

function sketchOf(values: Iterable<string>): HyperLogLog {
  const h = new HyperLogLog();
  for (const v of values) h.addString(v);
  return h;
}
function* range(from: number, to: number, fmt: (i: number) => string): Iterable<string> {
  for (let i = from; i < to; i++) yield fmt(i);
}
const mac = (i: number) => `02:${((i >>> 24) & 255).toString(16).padStart(2, '0')}:${((i >>> 16) & 255).toString(16).padStart(2, '0')}:${((i >>> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:00`;

describe('HyperLogLog (p = 14)', () => {
  test('documented standard error is 1.04/sqrt(m) ≈ 0.81 %', () => {
    expect(HLL_REGISTERS).toBe(16384);
    expect(HLL_STANDARD_ERROR).toBeCloseTo(SIGMA, 12);
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.0081, 4);
  });

  test('an empty sketch estimates 0; tiny sets are (almost) exact', () => {
    expect(new HyperLogLog().estimate()).toBe(0);
    expect(Math.round(sketchOf(['a']).estimate())).toBe(1);
    expect(Math.round(sketchOf(['a', 'b', 'c', 'a', 'b']).estimate())).toBe(3);
    const h = sketchOf(range(0, 100, (i) => `x${i}`));
    expect(Math.abs(h.estimate() - 100)).toBeLessThanOrEqual(2);
  });

  test.each([
    [1e5, 'dev-', (i: number) => `dev-${i}`],
    [1e5, 'MAC', mac],
    [1e6, 'dev-', (i: number) => `dev-${i}`],
    [1e6, 'MAC', mac],
  ])('%d distinct %s values: estimate within 3σ (±2.44 %%)', (n, _label, fmt) => {
    const h = new HyperLogLog();
    for (let i = 0; i < n; i++) h.addString(fmt(i));
    // duplicates do not change the estimate
    for (let i = 0; i < n; i += 10) h.addString(fmt(i));
    const err = (h.estimate() - n) / n;
    expect(Math.abs(err)).toBeLessThan(3 * SIGMA);
  });

  test('errors over many independent sketches are unbiased and spread like σ', () => {
    // 40 sketches of 20 000 distinct values each (the range where raw HLL is most biased)
    const errs: number[] = [];
    for (let s = 0; s < 40; s++) {
      const h = sketchOf(range(0, 20000, (i) => `s${s}-${i}`));
      errs.push(h.estimate() / 20000 - 1);
    }
    const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
    const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (errs.length - 1));
    expect(Math.abs(mean)).toBeLessThan(3 * SIGMA / Math.sqrt(errs.length));
    expect(sd).toBeLessThan(2 * SIGMA);
  });

  test('merge = sketch of the union; merge is commutative, associative, idempotent', () => {
    const a = sketchOf(range(0, 30000, (i) => `k${i}`));
    const b = sketchOf(range(20000, 60000, (i) => `k${i}`));
    const c = sketchOf(range(50000, 70000, (i) => `k${i}`));
    const union = sketchOf(range(0, 70000, (i) => `k${i}`));
    const ab_c = a.clone();
    ab_c.merge(b);
    ab_c.merge(c);
    const bc = b.clone();
    bc.merge(c);
    const a_bc = a.clone();
    a_bc.merge(bc);
    const cba = c.clone();
    cba.merge(b);
    cba.merge(a);
    expect(ab_c.registers).toEqual(union.registers);
    expect(a_bc.registers).toEqual(union.registers);
    expect(cba.registers).toEqual(union.registers);
    const again = ab_c.clone();
    again.merge(ab_c);
    expect(again.registers).toEqual(union.registers);
    expect(Math.abs(union.estimate() / 70000 - 1)).toBeLessThan(3 * SIGMA);
  });

  test('base64 state round-trips', () => {
    const a = sketchOf(range(0, 5000, (i) => `k${i}`));
    const b = HyperLogLog.fromBase64(a.toBase64());
    expect(b.registers).toEqual(a.registers);
    expect(b.estimate()).toBe(a.estimate());
  });

  test('the hash spreads keys evenly over registers (chi-square on the 14 index bits, top 4 bits)', () => {
    const buckets = new Array(16).fill(0);
    const n = 160000;
    for (let i = 0; i < n; i++) buckets[hash64(mac(i)) >>> 28]++;
    const expected = n / 16;
    const chi = buckets.reduce((a, b) => a + (b - expected) ** 2 / expected, 0);
    // 15 degrees of freedom: p = 0.001 at 37.7
    expect(chi).toBeLessThan(37.7);
  });

  test('the two 32-bit lanes are independent enough: low lane bits are balanced', () => {
    let ones = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      hash64(`dev-${i}`);
      ones += hashLo() & 1;
    }
    // binomial(n, 1/2): sd = sqrt(n)/2 ≈ 158; 5 sd
    expect(Math.abs(ones - n / 2)).toBeLessThan(5 * 158);
  });

  test('hash64 is stable across versions (persisted in sketches): pinned values', () => {
    // Regression pins recorded when the sketch format was introduced (not derived by hand: a hash
    // has no hand-computable value). If this fails, stored HyperLogLog state becomes incompatible.
    const pins = ['', 'a', 'aa:bb:cc:dd:ee:ff'].map((s) => [hash64(s), hashLo()]);
    expect(pins).toEqual([
      [1307940434, 4203942147],
      [1180809189, 3270328016],
      [612938848, 3671355017],
    ]);
  });
});

describe('COUNT_DISTINCT accumulator', () => {
  const F = AGGREGATES.COUNT_DISTINCT;

  test('exact below the limit (values of different kinds are distinct), approximate above', () => {
    const a = F.create({ exactLimit: 100 }) as CountDistinctAcc;
    for (const v of ['1', 1, true, 'true', null, undefined, '1', 1, { a: 1 }, { a: 1 }]) a.add(v, 0, 0);
    expect(a.result()).toBe(5);
    expect(a.truncated).toBe(false);
    for (let i = 0; i < 95; i++) a.add(`v${i}`, 0, 0);
    expect(a.result()).toBe(100);
    expect(a.truncated).toBe(false);
    a.add('one more', 0, 0);
    expect(a.truncated).toBe(true);
    expect(Math.abs((a.result() as number) - 101)).toBeLessThanOrEqual(3);
  });

  test('through its small, table and sketch forms: the exact hashes, and the sketch of them all', () => {
    const pairsOf = (xs: number[]) => new Set(Array.from({ length: xs.length / 2 }, (_, i) => `${xs[2 * i]}/${xs[2 * i + 1]}`));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 60 }), fc.constantFrom(1, 3, 7, 8, 9, 12, 10_000), (ids, limit) => {
        const a = F.create({ exactLimit: limit }) as CountDistinctAcc;
        const values = ids.map((i) => `ssid-${i}`);
        for (const v of values) a.add(v, 0, 0);
        const distinct = [...new Set(values)];
        // the reference: hash64 of each distinct value, signed halves
        const want = distinct.flatMap((v) => [hash64(v) | 0, hashLo() | 0]);
        if (distinct.length <= limit) {
          expect(a.truncated).toBe(false);
          expect(a.result()).toBe(distinct.length);
          expect(a.hashes()).toHaveLength(want.length);
          expect(pairsOf(a.hashes())).toEqual(pairsOf(want));
          const back = F.fromJSON(JSON.parse(JSON.stringify(a.toJSON())), { exactLimit: limit }) as CountDistinctAcc;
          expect(back.result()).toBe(distinct.length);
          expect(pairsOf(back.hashes())).toEqual(pairsOf(want));
        } else {
          const h = new HyperLogLog();
          for (let i = 0; i < want.length; i += 2) h.addHash(want[i], want[i + 1]);
          expect(a.truncated).toBe(true);
          expect(a.hll!.registers).toEqual(h.registers);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('partitioned counting merges to the same sketch as one accumulator', () => {
    const n = 50000;
    const one = F.create({}) as CountDistinctAcc;
    const parts = [0, 1, 2, 3].map(() => F.create({}) as CountDistinctAcc);
    for (let i = 0; i < n; i++) {
      const v = `dev-${i % 40000}`;
      one.add(v, 0, 0);
      parts[(i * 7) % 4].add(v, 0, 0);
    }
    const merged = F.create({}) as CountDistinctAcc;
    for (const p of parts) merged.merge(F.fromJSON(JSON.parse(JSON.stringify(p.toJSON())), {}) as CountDistinctAcc);
    expect(merged.truncated).toBe(true);
    expect(merged.hll!.registers).toEqual(one.hll!.registers);
    expect(Math.abs(merged.result() / 40000 - 1)).toBeLessThan(3 * SIGMA);
  });

  test('merge is associative and commutative (fast-check), exact and sketched', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }),
        fc.constantFrom(5, 50, 1000),
        (xs, ys, zs, limit) => {
          const mk = (vs: number[]) => {
            const a = F.create({ exactLimit: limit }) as CountDistinctAcc;
            for (const v of vs) a.add(v, 0, 0);
            return a;
          };
          const left = mk(xs);
          left.merge(mk(ys));
          left.merge(mk(zs));
          const yz = mk(ys);
          yz.merge(mk(zs));
          const right = mk(xs);
          right.merge(yz);
          const rev = mk(zs);
          rev.merge(mk(ys));
          rev.merge(mk(xs));
          expect(right.result()).toBe(left.result());
          expect(rev.result()).toBe(left.result());
          const distinct = new Set([...xs, ...ys, ...zs]).size;
          if (distinct <= limit) expect(left.result()).toBe(distinct);
        },
      ),
      { numRuns: 200 },
    );
  });
});
