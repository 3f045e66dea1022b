// A set of positive integer sequences kept as sorted, disjoint, non-adjacent intervals [lo, hi].
// Input stream sequences applied to a table are mostly contiguous, so the set of all of them is a
// handful of intervals, whatever their number; each interval also remembers when (run time) a
// sequence was last added to it, so old intervals can be forgotten.

/**
 * Sorted disjoint intervals. `add` of the next sequence (the common case) extends the last interval
 * in O(1); a sequence below it (a redelivery filling a gap) is a binary search and at most one splice.
 */
export class SeqRanges {
  private lo: number[] = [];
  private hi: number[] = [];
  private at: number[] = [];
  private count = 0;

  /** Number of sequences in the set. */
  get size(): number {
    return this.count;
  }

  /** Number of intervals. */
  get ranges(): number {
    return this.lo.length;
  }

  /** Index of the last interval with lo ≤ seq, or -1. */
  private find(seq: number): number {
    let a = 0;
    let b = this.lo.length - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (this.lo[m] <= seq) a = m + 1;
      else b = m - 1;
    }
    return b;
  }

  has(seq: number): boolean {
    const n = this.lo.length;
    if (n === 0 || seq > this.hi[n - 1]) return false;
    const i = this.find(seq);
    return i >= 0 && seq <= this.hi[i];
  }

  /** Add one sequence applied at run time `now`. Returns false when it was already in the set. */
  add(seq: number, now: number): boolean {
    return this.addRange(seq, seq, now) > 0;
  }

  /** Add [lo, hi]; returns how many sequences were new. */
  addRange(lo: number, hi: number, now: number): number {
    const L = this.lo, H = this.hi, T = this.at;
    const n = L.length;
    if (n === 0 || lo > H[n - 1] + 1) {
      L.push(lo); H.push(hi); T.push(now);
      this.count += hi - lo + 1;
      return hi - lo + 1;
    }
    if (lo === H[n - 1] + 1) {
      H[n - 1] = hi;
      if (now > T[n - 1]) T[n - 1] = now;
      this.count += hi - lo + 1;
      return hi - lo + 1;
    }
    // General case: intervals i..j touch or overlap [lo, hi]; replace them by their union.
    let i = this.find(lo - 1);
    if (i < 0 || H[i] < lo - 1) i++;
    const j = this.find(hi + 1);
    if (j < i) {
      L.splice(i, 0, lo); H.splice(i, 0, hi); T.splice(i, 0, now);
      this.count += hi - lo + 1;
      return hi - lo + 1;
    }
    let t = now;
    let before = 0;
    for (let k = i; k <= j; k++) {
      before += H[k] - L[k] + 1;
      if (T[k] > t) t = T[k];
    }
    // intervals i..j and [lo, hi] touch one another, so their union is one interval
    const nlo = Math.min(lo, L[i]);
    const nhi = Math.max(hi, H[j]);
    L.splice(i, j - i + 1, nlo); H.splice(i, j - i + 1, nhi); T.splice(i, j - i + 1, t);
    const added = nhi - nlo + 1 - before;
    this.count += added;
    return added;
  }

  /** Union with another set (each interval keeps the later of the two times). */
  merge(other: SeqRanges): void {
    for (let k = 0; k < other.lo.length; k++) this.addRange(other.lo[k], other.hi[k], other.at[k]);
  }

  /** Interval k (0 = lowest). */
  range(k: number): { lo: number; hi: number; at: number } {
    return { lo: this.lo[k], hi: this.hi[k], at: this.at[k] };
  }

  /** Forget the lowest k intervals; returns the highest sequence forgotten (0 when none). */
  dropLowest(k: number): number {
    if (k <= 0) return 0;
    const top = this.hi[k - 1];
    for (let x = 0; x < k; x++) this.count -= this.hi[x] - this.lo[x] + 1;
    this.lo.splice(0, k); this.hi.splice(0, k); this.at.splice(0, k);
    return top;
  }

  *[Symbol.iterator](): IterableIterator<[number, number]> {
    for (let k = 0; k < this.lo.length; k++) yield [this.lo[k], this.hi[k]];
  }

  /**
   * Compact form: one number per interval start, the distance from the previous interval's end
   * (positive), followed by a negative number -(hi - lo) when the interval holds more than one
   * sequence. A set of isolated sequences is thus the plain delta list of the v1 checkpoint, and a
   * contiguous run of any length costs two numbers.
   */
  encode(): number[] {
    const out: number[] = [];
    let prev = 0;
    for (let k = 0; k < this.lo.length; k++) {
      out.push(this.lo[k] - prev);
      if (this.hi[k] > this.lo[k]) out.push(this.lo[k] - this.hi[k]);
      prev = this.hi[k];
    }
    return out;
  }

  /** Inverse of encode(); every interval counts as added at `now`. Also reads v1 delta lists. */
  static decode(code: readonly number[], now: number): SeqRanges {
    const r = new SeqRanges();
    let cur = 0;
    let lo = 0;
    for (let k = 0; k < code.length; k++) {
      const x = code[k];
      if (!Number.isSafeInteger(x) || x === 0) throw new Error(`bad applied-sequence encoding at ${k}: ${x}`);
      if (x > 0) {
        cur += x;
        lo = cur;
      } else {
        if (lo === 0 || k === 0 || code[k - 1] < 0) throw new Error(`bad applied-sequence encoding at ${k}: a run without a start`);
        cur -= x;
      }
      if (k + 1 === code.length || code[k + 1] > 0) r.addRange(lo, cur, now);
    }
    return r;
  }
}
