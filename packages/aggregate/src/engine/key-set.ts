import { hash64, hashLo } from './hash';

/**
 * A set of row keys held as 64-bit fingerprints (hash64 of the key text), in one open-addressing
 * table of two Int32Arrays: 16 bytes a key at most, where the key text, a Map entry and the row
 * itself would take a kilobyte or more. It remembers which rows live in KV only (see
 * Aggregator `maxRows`). Two different keys share a fingerprint with probability about
 * n²/2⁶⁵ (1e-7 for a million keys); the table treats such keys as one.
 */
export class KeyFingerprints {
  private hi = new Int32Array(64);
  private lo = new Int32Array(64);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(key: string): void {
    const h = hash64(key) | 0;
    const l = hashLo() | 0;
    if (this.find(h, l) >= 0) return;
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    this.insert(h, l);
    this.count++;
  }

  has(key: string): boolean {
    const h = hash64(key) | 0;
    return this.find(h, hashLo() | 0) >= 0;
  }

  delete(key: string): boolean {
    const h = hash64(key) | 0;
    let i = this.find(h, hashLo() | 0);
    if (i < 0) return false;
    // backward-shift deletion: no tombstones, so lookups stay short however many keys come and go
    const mask = this.hi.length - 1;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      if (this.hi[j] === 0 && this.lo[j] === 0) break;
      const home = this.home(this.hi[j], this.lo[j]);
      // move j into the hole at i when its home is not in (i, j] (cyclically)
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.hi[i] = this.hi[j];
        this.lo[i] = this.lo[j];
        i = j;
      }
    }
    this.hi[i] = 0;
    this.lo[i] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.hi = new Int32Array(64);
    this.lo = new Int32Array(64);
    this.count = 0;
  }

  private home(h: number, l: number): number {
    return (Math.imul(h ^ l, 0x9e3779b1) >>> 0) & (this.hi.length - 1);
  }

  private find(h: number, l: number): number {
    if (h === 0 && l === 0) l = 1; // 0/0 marks an empty slot
    const mask = this.hi.length - 1;
    for (let i = this.home(h, l); ; i = (i + 1) & mask) {
      const x = this.hi[i], y = this.lo[i];
      if (x === h && y === l) return i;
      if (x === 0 && y === 0) return -1;
    }
  }

  private insert(h: number, l: number): void {
    if (h === 0 && l === 0) l = 1;
    const mask = this.hi.length - 1;
    let i = this.home(h, l);
    while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & mask;
    this.hi[i] = h;
    this.lo[i] = l;
  }

  private grow(): void {
    const oh = this.hi, ol = this.lo;
    this.hi = new Int32Array(oh.length * 2);
    this.lo = new Int32Array(oh.length * 2);
    for (let i = 0; i < oh.length; i++) if (oh[i] !== 0 || ol[i] !== 0) this.insert(oh[i], ol[i]);
  }
}
