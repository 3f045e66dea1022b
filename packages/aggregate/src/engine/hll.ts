import { hash64, hashLo } from './hash';

/**
 * HyperLogLog cardinality sketch, precision p = 14 (m = 16 384 one-byte registers, 16 KiB),
 * over the 64-bit hash of `hash.ts` (14 index bits, 50 bits for the rank).
 *
 * Estimation uses Otmar Ertl's improved raw estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017), which needs neither the empirical bias tables of HLL++ nor a switch
 * to linear counting: it is unbiased over the whole range from 0 to far beyond 2^32.
 *
 * Standard error: 1.04 / sqrt(m) = 1.04 / 128 ≈ 0.81 % (so 99.7 % of estimates are within ±2.4 %).
 * Sketches merge by taking the register-wise maximum; merging is commutative, associative and
 * idempotent, and merge(A, B) equals the sketch of the union of A's and B's inputs.
 */
export const HLL_PRECISION = 14;
export const HLL_REGISTERS = 1 << HLL_PRECISION;
const clz32 = Math.clz32;
const Q = 64 - HLL_PRECISION; // 50 rank bits
/** Relative standard error of an estimate: 1.04 / sqrt(m). */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(registers?: Uint8Array) {
    if (registers && registers.length !== HLL_REGISTERS) throw new Error(`HyperLogLog: expected ${HLL_REGISTERS} registers, got ${registers.length}`);
    this.registers = registers ?? new Uint8Array(HLL_REGISTERS);
  }

  /** Add a value given as its canonical string (see canonicalKey). */
  addString(s: string): void {
    const hi = hash64(s);
    this.addHash(hi, hashLo());
  }

  /** Add a value by its 64-bit hash (high and low 32 bits, as hash64/hashLo return them). */
  addHash(hi: number, lo: number): void {
    hi >>>= 0;
    lo >>>= 0;
    const idx = hi >>> (32 - HLL_PRECISION);
    const w = hi & ((1 << (32 - HLL_PRECISION)) - 1); // low 18 bits of hi
    let rank: number;
    if (w !== 0) rank = clz32(w) - HLL_PRECISION + 1;
    else if (lo !== 0) rank = 32 - HLL_PRECISION + clz32(lo) + 1;
    else rank = Q + 1;
    if (rank > this.registers[idx]) this.registers[idx] = rank;
  }

  merge(other: HyperLogLog): void {
    const a = this.registers, b = other.registers;
    for (let i = 0; i < HLL_REGISTERS; i++) if (b[i] > a[i]) a[i] = b[i];
  }

  /** Estimated number of distinct values added. */
  estimate(): number {
    const m = HLL_REGISTERS;
    const c = new Float64Array(Q + 2);
    const r = this.registers;
    for (let i = 0; i < m; i++) c[r[i]]++;
    if (c[0] === m) return 0;
    let z = m * tau(1 - c[Q + 1] / m);
    for (let k = Q; k >= 1; k--) z = 0.5 * (z + c[k]);
    z += m * sigma(c[0] / m);
    const alphaInf = 1 / (2 * Math.log(2));
    return (alphaInf * m * m) / z;
  }

  clone(): HyperLogLog {
    return new HyperLogLog(this.registers.slice());
  }

  /** Registers as base64 (JSON-safe). */
  toBase64(): string {
    return Buffer.from(this.registers.buffer, this.registers.byteOffset, this.registers.byteLength).toString('base64');
  }

  static fromBase64(s: string): HyperLogLog {
    const b = Buffer.from(s, 'base64');
    return new HyperLogLog(new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  }
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (prev !== z);
  return z / 3;
}
