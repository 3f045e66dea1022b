/**
 * A 64-bit string hash computed as two 32-bit lanes with Math.imul (no BigInt): the block and
 * finalisation structure of MurmurHash3 x86_128, reduced to two lanes, fed with UTF-16 code units
 * two at a time (so no TextEncoder allocation per value). Not cryptographic; stable across
 * processes, platforms and versions of this package (hash values are persisted in HyperLogLog
 * sketches and used for partitioning, so do not change it).
 */

// Module-level copies: a global `Math` lookup is slow inside vm contexts (jest), a closure constant is not.
const imul = Math.imul;

let lastLo = 0;

/** Low 32 bits (unsigned) of the most recent `hash64` call. */
export function hashLo(): number {
  return lastLo;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Hash a string to 64 bits. Returns the high 32 bits (unsigned); the low 32 bits are returned by
 * `hashLo()` (read them immediately, before the next call).
 */
export function hash64(s: string, seed = 0): number {
  let h1 = seed ^ 0x9747b28c;
  let h2 = seed ^ 0x5bd1e995;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k1 = imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (imul(h1, 5) + 0x561ccd1b) | 0;
    let k2 = imul(k, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    k2 = imul(k2, C4);
    h2 ^= k2;
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h1) | 0;
    h2 = (imul(h2, 5) + 0x0bcaa747) | 0;
  }
  if (i < n) {
    const k = s.charCodeAt(i);
    let k1 = imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= imul(k1, C2);
    let k2 = imul(k, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= imul(k2, C4);
  }
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  lastLo = h2 >>> 0;
  return h1 >>> 0;
}

/** A stable unsigned 32-bit hash of a string (the high lane of hash64). */
export function hash32(s: string): number {
  return hash64(s);
}

/**
 * Canonical text of a value for hashing and distinct-counting: strings as-is; other values get a
 * type prefix so that 1, '1' and true never collide ("\u0000n:1", "\u0000b:true", "\u0000j:{…}").
 */
export function canonicalKey(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return '\u0000n:' + String(v);
  if (typeof v === 'boolean') return v ? '\u0000b:true' : '\u0000b:false';
  if (v === null || v === undefined) return '\u0000null';
  if (typeof v === 'bigint') return '\u0000n:' + String(v);
  if (v instanceof Date) return '\u0000n:' + String(v.getTime());
  return '\u0000j:' + JSON.stringify(v);
}
