// SeqRanges: the interval set that holds a table's applied input sequences, against a plain Set model.
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { SeqRanges } from '../src/runtime/seq-ranges';

/** Intervals of a set of integers, computed from the sorted members (the model). */
function intervalsOf(model: Set<number>): Array<[number, number]> {
  const sorted = [...model].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === x) last[1] = x;
    else out.push([x, x]);
  }
  return out;
}

function build(seqs: readonly number[]): SeqRanges {
  const r = new SeqRanges();
  for (const s of seqs) r.add(s, 0);
  return r;
}

describe('SeqRanges', () => {
  test('add, has, size and intervals, in and out of order', () => {
    const r = new SeqRanges();
    for (const s of [1, 2, 3, 7, 5, 10, 6]) r.add(s, 0);
    expect([...r]).toEqual([[1, 3], [5, 7], [10, 10]]);
    expect(r.size).toBe(7);
    expect(r.ranges).toBe(3);
    expect([0, 1, 3, 4, 5, 7, 8, 9, 10, 11].map((s) => r.has(s))).toEqual([false, true, true, false, true, true, false, false, true, false]);
    expect(r.add(6, 0)).toBe(false); // already there
    r.add(4, 0); // fills the gap: two intervals become one
    expect([...r]).toEqual([[1, 7], [10, 10]]);
    r.addRange(8, 9, 0);
    expect([...r]).toEqual([[1, 10]]);
    expect(r.size).toBe(10);
  });

  test('addRange over several intervals counts only the new sequences', () => {
    const r = build([2, 3, 6, 9, 10, 20]);
    expect(r.addRange(1, 12, 0)).toBe(12 - 5);
    expect([...r]).toEqual([[1, 12], [20, 20]]);
    expect(r.size).toBe(13);
  });

  test('a contiguous million encodes to two numbers; isolated sequences to the v1 delta list', () => {
    const r = new SeqRanges();
    for (let s = 1; s <= 1_000_000; s++) r.add(s, 0);
    expect(r.encode()).toEqual([1, -999_999]);
    expect(build([3, 5, 9]).encode()).toEqual([3, 2, 4]);
    expect(build([3, 4, 5, 9]).encode()).toEqual([3, -2, 4]);
  });

  test('decode reads a v1 delta list (ascending sequences, adjacent ones included)', () => {
    const r = SeqRanges.decode([1, 1, 1, 4, 2], 0); // 1, 2, 3, 7, 9
    expect([...r]).toEqual([[1, 3], [7, 7], [9, 9]]);
  });

  test('decode refuses malformed input', () => {
    expect(() => SeqRanges.decode([0], 0)).toThrow('bad applied-sequence encoding');
    expect(() => SeqRanges.decode([-3], 0)).toThrow('a run without a start');
    expect(() => SeqRanges.decode([2, -1, -1], 0)).toThrow('a run without a start');
    expect(() => SeqRanges.decode([1.5], 0)).toThrow('bad applied-sequence encoding');
  });

  test('dropLowest forgets whole intervals and returns the highest forgotten sequence', () => {
    const r = build([1, 2, 3, 7, 10, 11]);
    expect(r.dropLowest(0)).toBe(0);
    expect(r.dropLowest(2)).toBe(7);
    expect([...r]).toEqual([[10, 11]]);
    expect(r.size).toBe(2);
    expect(r.has(2)).toBe(false);
  });

  test('an interval keeps the latest time a sequence was added to it', () => {
    const r = new SeqRanges();
    r.add(1, 100);
    r.add(2, 50);
    r.add(5, 10);
    r.add(4, 20);
    expect(r.range(0)).toEqual({ lo: 1, hi: 2, at: 100 });
    expect(r.range(1)).toEqual({ lo: 4, hi: 5, at: 20 });
    r.add(3, 30);
    expect(r.range(0)).toEqual({ lo: 1, hi: 5, at: 100 });
  });

  // sequences from a small domain so that adds collide, touch and fill gaps often
  const seqs = fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 400 });
  const runs = fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 20 })), { maxLength: 60 });

  test('behaves as a set of its members (fast-check)', () => {
    fc.assert(fc.property(seqs, runs, (singles, ranges) => {
      const r = new SeqRanges();
      const model = new Set<number>();
      for (const s of singles) {
        expect(r.add(s, 0)).toBe(!model.has(s));
        model.add(s);
      }
      for (const [lo, len] of ranges) {
        let fresh = 0;
        for (let s = lo; s <= lo + len; s++) if (!model.has(s)) { model.add(s); fresh++; }
        expect(r.addRange(lo, lo + len, 0)).toBe(fresh);
      }
      expect([...r]).toEqual(intervalsOf(model));
      expect(r.size).toBe(model.size);
      for (let s = 0; s <= 330; s++) expect(r.has(s)).toBe(model.has(s));
    }));
  });

  test('merge is the union (fast-check)', () => {
    fc.assert(fc.property(seqs, seqs, (a, b) => {
      const r = build(a);
      r.merge(build(b));
      expect([...r]).toEqual(intervalsOf(new Set([...a, ...b])));
      expect(r.size).toBe(new Set([...a, ...b]).size);
    }));
  });

  test('encode/decode round trip through msgpack; v1 delta lists decode to the same set (fast-check)', () => {
    fc.assert(fc.property(seqs, fc.integer({ min: 0, max: 2 ** 40 }), (a, offset) => {
      const shifted = a.map((s) => s + offset);
      const r = build(shifted);
      const back = SeqRanges.decode(unpack(pack(r.encode())) as number[], 7);
      expect([...back]).toEqual([...r]);
      expect(back.size).toBe(r.size);
      expect(r.encode().length).toBeLessThanOrEqual(2 * r.ranges);
      // the v1 checkpoint format: ascending sequences as deltas
      const sorted = [...new Set(shifted)].sort((x, y) => x - y);
      const v1 = sorted.map((s, i) => s - (i ? sorted[i - 1] : 0));
      expect([...SeqRanges.decode(v1, 0)]).toEqual([...r]);
      // never longer than the v1 list of the same set
      expect(r.encode().length).toBeLessThanOrEqual(v1.length);
    }));
  });
});
