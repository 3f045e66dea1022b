// Address formatting shared by the wired decoders. Output must equal Wireshark's text forms
// (ip.src, ipv6.src, eth.src), so IPv6 follows the BSD/glibc inet_ntop rules Wireshark uses:
// longest run (>= 2 groups) of zero groups compressed, first run on ties, embedded IPv4 for
// ::a.b.c.d and ::ffff:a.b.c.d.

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));

// Small cache: real traffic repeats the same few thousand addresses, and a cached flat string
// is cheaper than 7 concatenations plus the later flattening when it is used as a Map key.
const V4_CACHE = new Map<number, string>();
const V4_CACHE_MAX = 1 << 16;

export function ipv4ToString(b: Uint8Array, off: number): string {
  const n = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  let s = V4_CACHE.get(n);
  if (s === undefined) {
    s = b[off] + '.' + b[off + 1] + '.' + b[off + 2] + '.' + b[off + 3];
    if (V4_CACHE.size >= V4_CACHE_MAX) V4_CACHE.clear();
    V4_CACHE.set(n, s);
  }
  return s;
}

const MAC_CACHE = new Map<number, string>();

export function macToString(b: Uint8Array, off: number): string {
  // 48 bits fit exactly in a double: use them as the cache key.
  const n = (b[off] * 0x10000 + ((b[off + 1] << 8) | b[off + 2])) * 0x1000000 + ((b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]);
  let s = MAC_CACHE.get(n);
  if (s === undefined) {
    s = HEX2[b[off]] + ':' + HEX2[b[off + 1]] + ':' + HEX2[b[off + 2]] + ':' +
      HEX2[b[off + 3]] + ':' + HEX2[b[off + 4]] + ':' + HEX2[b[off + 5]];
    if (MAC_CACHE.size >= V4_CACHE_MAX) MAC_CACHE.clear();
    MAC_CACHE.set(n, s);
  }
  return s;
}

export function ipv6ToString(b: Uint8Array, off: number): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[off + 2 * i] << 8) | b[off + 2 * i + 1];
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
    } else if (curBase !== -1) {
      if (curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
      curBase = -1;
    }
  }
  if (curBase !== -1 && curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    // Embedded IPv4 (::a.b.c.d compat or ::ffff:a.b.c.d mapped), like inet_ntop.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += ipv4ToString(b, off + 12);
      return s;
    }
    s += w[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

export function toHex(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX2[b[i]];
  return s;
}
