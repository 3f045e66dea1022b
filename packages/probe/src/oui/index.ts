// MAC address helpers and Wireshark-compatible name resolution (`wlan.ra_resolved` etc.).
//
// Resolution follows Wireshark 4.0 addr_resolv.c `eth_addr_resolve`: exact well-known address
// (wka / 48-bit entries) → wka/manuf ranges with ≥40, ≥32, ≥24 bit prefixes (the /28 and /36
// manuf entries live there) → 24-bit manuf OUI (retrying with the multicast bit cleared) →
// shorter wka prefixes → the bare address. Names are formatted "<short>_<remaining bytes>".
// Data comes from Wireshark's own `manuf` and `wka` files (Debian: /usr/share/wireshark), so
// results are byte-identical with tshark using the same files. Without them, the IEEE registries
// of the npm package `oui-data` are used instead (./fallback.ts): same form, approximate names.

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadOuiData } from './fallback';

/** Where vendor names come from: Wireshark's manuf/wka files, the `oui-data` fallback, or nowhere. */
export type VendorSource = 'manuf' | 'oui-data' | 'none';

const HEX = '0123456789abcdef';
const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(HEX[i >> 4] + HEX[i & 15]);

/** Lower-case colon form "aa:bb:cc:dd:ee:ff" of 6 bytes at `off`. */
export function macToString(b: Uint8Array, off = 0): string {
  return `${HEX2[b[off]]}:${HEX2[b[off + 1]]}:${HEX2[b[off + 2]]}:${HEX2[b[off + 3]]}:${HEX2[b[off + 4]]}:${HEX2[b[off + 5]]}`;
}

/** 48-bit address as a JS number (exact), handy as a Map key. */
export function macKey(b: Uint8Array, off = 0): number {
  return (((b[off] << 16) | (b[off + 1] << 8) | b[off + 2]) * 16777216) + ((b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]);
}

/** Normalise "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "AABBCCDDEEFF" … to "aa:bb:cc:dd:ee:ff"; undefined if invalid. */
export function normalizeMac(s: string): string | undefined {
  const hex = s.trim().toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || !/^[0-9a-f:.\- ]+$/i.test(s.trim())) return undefined;
  return hex.match(/../g)!.join(':');
}

export function macBytes(mac: string): Uint8Array | undefined {
  const n = normalizeMac(mac);
  if (!n) return undefined;
  return Uint8Array.from(n.split(':').map((h) => parseInt(h, 16)));
}

/** I/G bit: group (multicast/broadcast) address. */
export function isMulticastMac(mac: string | Uint8Array, off = 0): boolean {
  const b0 = typeof mac === 'string' ? parseInt(mac.slice(0, 2), 16) : mac[off];
  return (b0 & 1) === 1;
}

/** U/L bit: locally administered (e.g. randomised) address. */
export function isLocallyAdministeredMac(mac: string | Uint8Array, off = 0): boolean {
  const b0 = typeof mac === 'string' ? parseInt(mac.slice(0, 2), 16) : mac[off];
  return (b0 & 2) === 2;
}

export function isBroadcastMac(mac: string): boolean {
  return mac.toLowerCase() === 'ff:ff:ff:ff:ff:ff';
}

interface Tables {
  /** Full 48-bit names. */
  exact: Map<number, string>;
  /**
   * Ranged wka/manuf entries (/16, /25, /28, /36, /40 ...), keyed by the entry's masked address.
   * Wireshark 4.0 keeps them in one table and probes it with the address masked to 47..1 bits,
   * so a /16 entry already matches at the 40-bit probe ("IPv6mcast_02", not "_00:00:00:02").
   */
  prefix: Map<number, string>;
  /** 24-bit manuf OUI → short name. */
  manuf: Map<number, string>;
  /** The top 24 bits of every `prefix` key: probes with ≥ 24 bits for any other OUI all miss. */
  prefixHi: Set<number>;
  /** The same for the top 16 and top 8 bits (probes with 16..23 and 8..15 bits). */
  prefixHi16: Set<number>;
  prefixHi8: Set<number>;
  source: VendorSource;
}

const DEFAULT_DIRS = ['/usr/share/wireshark', '/usr/local/share/wireshark', '/opt/homebrew/share/wireshark'];

function parseAddrSpec(spec: string): { bytes: number[]; bits: number } | undefined {
  const [a, m] = spec.split('/');
  const parts = a.split(/[:\-.]/).filter((p) => p.length > 0);
  if (parts.length < 3 || parts.length > 6) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    bytes.push(parseInt(p, 16));
  }
  let bits = m !== undefined ? parseInt(m, 10) : parts.length * 8;
  if (!(bits > 0 && bits <= 48)) return undefined;
  while (bytes.length < 6) bytes.push(0);
  if (m === undefined && parts.length === 3) bits = 24;
  return { bytes, bits };
}

function maskedKey(bytes: ArrayLike<number>, bits: number): number {
  let hi = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
  let lo = (bytes[3] << 16) | (bytes[4] << 8) | bytes[5];
  if (bits < 24) {
    hi &= (0xffffff << (24 - bits)) & 0xffffff;
    lo = 0;
  } else if (bits < 48) {
    lo &= (0xffffff << (48 - bits)) & 0xffffff;
  }
  return hi * 16777216 + lo;
}

function parseLineSlow(raw: string, isManuf: boolean, t: Tables): void {
  const line = raw.replace(/#.*/, '');
  const cols = line.split(/\t+| {2,}/).map((c) => c.trim()).filter((c) => c.length > 0);
  if (cols.length < 2) return;
  const spec = parseAddrSpec(cols[0]);
  if (!spec) return;
  const name = cols[1];
  if (spec.bits === 48) t.exact.set(maskedKey(spec.bytes, 48), name);
  else if (spec.bits === 24 && isManuf) t.manuf.set(maskedKey(spec.bytes, 24), name);
  else t.prefix.set(maskedKey(spec.bytes, spec.bits), name);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * A line "ADDR<TAB>Name[<TAB>…]" whose address is 3..6 two-digit hex groups joined by ':' or '-'
 * (optionally "/bits"), parsed without regexes into `t`; false when the line needs the general
 * parser (other address forms, '#' or double spaces, …), which gives the same result.
 */
function fastLine(text: string, pos: number, end: number, isManuf: boolean, t: Tables): boolean {
  const tab = text.indexOf('\t', pos);
  if (tab < 0 || tab >= end) return false;
  const alen = tab - pos;
  let groups = 0;
  let hi = 0;
  let lo = 0;
  let i = pos;
  for (;;) {
    const a = hexVal(text.charCodeAt(i));
    const b = hexVal(text.charCodeAt(i + 1));
    if (a < 0 || b < 0 || i + 2 > tab) return false;
    const v = (a << 4) | b;
    if (groups < 3) hi = (hi << 8) | v; else lo = (lo << 8) | v;
    groups++;
    i += 2;
    const c = text.charCodeAt(i);
    if (i === tab || c === 47 /* / */) break;
    if ((c !== 58 && c !== 45) || groups === 6) return false;
    i++;
  }
  if (groups < 3) return false;
  for (let g = groups; g < 6; g++) { if (g >= 3) lo <<= 8; }
  let bits = groups * 8;
  if (i < tab) {
    // "/bits"
    bits = 0;
    for (let j = i + 1; j < tab; j++) {
      const d = text.charCodeAt(j) - 48;
      if (d < 0 || d > 9 || bits > 100) return false;
      bits = bits * 10 + d;
    }
    if (tab - i < 2 || !(bits > 0 && bits <= 48)) return false;
  } else if (alen <= 0) return false;
  let ns = tab + 1;
  while (ns < end && text.charCodeAt(ns) === 9) ns++;
  let ne = text.indexOf('\t', ns);
  if (ne < 0 || ne > end) ne = end;
  const name = text.slice(ns, ne).trim();
  if (name.length === 0 || name.includes('#') || name.includes('  ')) return false;
  const key = maskedKey([hi >>> 16, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 16, (lo >>> 8) & 0xff, lo & 0xff], bits);
  if (bits === 48) t.exact.set(key, name);
  else if (bits === 24 && isManuf) t.manuf.set(key, name);
  else t.prefix.set(key, name);
  return true;
}

function loadTables(dir?: string): Tables {
  const t: Tables = {
    exact: new Map(), prefix: new Map(), manuf: new Map(), prefixHi: new Set(), prefixHi16: new Set(), prefixHi8: new Set(), source: 'none',
  };
  const dirs = dir ? [dir] : DEFAULT_DIRS;
  const add = (file: string, isManuf: boolean): void => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    // Start-up matters (`pcapflow decode` loads ~50k lines): the common lines are parsed by hand
    // (fastLine); anything else takes the general path (parseLineSlow).
    const n = text.length;
    for (let pos = 0; pos < n;) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = n;
      const c0 = text.charCodeAt(pos);
      if (end > pos && c0 !== 35 /* # */) {
        if (!fastLine(text, pos, end, isManuf, t)) parseLineSlow(text.slice(pos, end), isManuf, t);
      }
      pos = end + 1;
    }
  };
  for (const d of dirs) {
    const mf = path.join(d, 'manuf');
    if (existsSync(mf)) {
      add(mf, true);
      add(path.join(d, 'wka'), false);
      t.source = 'manuf';
      break;
    }
  }
  if (t.source === 'none') {
    // No Wireshark data: the npm dataset, parsed only now (~5 MB of JSON).
    const fb = loadOuiData();
    if (fb) {
      t.exact = fb.exact;
      t.prefix = fb.prefix;
      t.manuf = fb.manuf;
      t.source = 'oui-data';
    }
  }
  for (const k of t.prefix.keys()) {
    const hi = Math.floor(k / 16777216);
    t.prefixHi.add(hi);
    t.prefixHi16.add(hi >>> 8);
    t.prefixHi8.add(hi >>> 16);
  }
  return t;
}

function hex2(n: number): string {
  return HEX2[n & 0xff];
}

/**
 * A sequential (flat) copy of a concatenated string: cached strings are read char by char on hot
 * paths (record packing), which is much slower through V8's cons-string indirection.
 */
function flat(s: string): string {
  return s.length > 12 ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

/** Resolver with a per-address cache (resolution is hot in the ek formatter). */
export class MacResolver {
  private readonly t: Tables;
  private readonly cache = new Map<number, string>();

  constructor(dir?: string) {
    this.t = loadTables(dir);
  }

  /** True when vendor data was found (Wireshark's manuf, else the `oui-data` fallback). */
  get hasData(): boolean {
    return this.t.manuf.size > 0;
  }

  /** Where names come from: 'manuf' (equal to tshark's), 'oui-data' (approximate) or 'none'. */
  get source(): VendorSource {
    return this.t.source;
  }

  resolve(b: Uint8Array, off = 0): string {
    const key = macKey(b, off);
    let r = this.cache.get(key);
    if (r === undefined) {
      r = flat(this.compute(b[off], b[off + 1], b[off + 2], b[off + 3], b[off + 4], b[off + 5]));
      if (this.cache.size > 1_000_000) this.cache.clear();
      this.cache.set(key, r);
    }
    return r;
  }

  private readonly macs = new Map<number, string>();

  /**
   * `macToString` with a per-address cache: hot paths (records) get the same flat string for a
   * repeated address instead of building (and later flattening) a new one per frame.
   */
  macString(b: Uint8Array, off = 0): string {
    const key = macKey(b, off);
    let s = this.macs.get(key);
    if (s === undefined) {
      s = flat(macToString(b, off));
      if (this.macs.size > 1_000_000) this.macs.clear();
      this.macs.set(key, s);
    }
    return s;
  }

  resolveString(mac: string): string {
    const b = macBytes(mac);
    return b ? this.resolve(b) : mac;
  }

  private lookupPrefix(a: number[], bits: number): string | undefined {
    return this.t.prefix.get(maskedKey(a, bits));
  }

  private compute(a0: number, a1: number, a2: number, a3: number, a4: number, a5: number): string {
    const a = [a0, a1, a2, a3, a4, a5];
    const t = this.t;
    const exact = t.exact.get(maskedKey(a, 48));
    if (exact !== undefined) return exact;
    let name: string | undefined;
    const oui = (a0 << 16) | (a1 << 8) | a2;
    if (t.prefixHi.has(oui)) {
      for (let mask = 7; mask >= 0; mask--) {
        if ((name = this.lookupPrefix(a, mask + 40))) return `${name}_${hex2(a5 & (0xff >> mask))}`;
      }
      for (let mask = 7; mask >= 0; mask--) {
        if ((name = this.lookupPrefix(a, mask + 32))) return `${name}_${hex2(a4 & (0xff >> mask))}:${hex2(a5)}`;
      }
      for (let mask = 7; mask >= 0; mask--) {
        if ((name = this.lookupPrefix(a, mask + 24))) return `${name}_${hex2(a3 & (0xff >> mask))}:${hex2(a4)}:${hex2(a5)}`;
      }
    }
    name = t.manuf.get(oui * 16777216);
    if (name === undefined && (oui & 0x010000) !== 0) name = t.manuf.get((oui & 0xfeffff) * 16777216);
    if (name !== undefined) return `${name}_${hex2(a3)}:${hex2(a4)}:${hex2(a5)}`;
    if (t.prefixHi16.has((a0 << 8) | a1)) {
      for (let mask = 7; mask >= 0; mask--) {
        if ((name = this.lookupPrefix(a, mask + 16))) return `${name}_${hex2(a2 & (0xff >> mask))}:${hex2(a3)}:${hex2(a4)}:${hex2(a5)}`;
      }
    }
    if (t.prefixHi8.has(a0)) {
      for (let mask = 7; mask >= 0; mask--) {
        if ((name = this.lookupPrefix(a, mask + 8))) return `${name}_${hex2(a1 & (0xff >> mask))}:${hex2(a2)}:${hex2(a3)}:${hex2(a4)}:${hex2(a5)}`;
      }
    }
    for (let mask = 7; mask > 0; mask--) {
      if ((name = this.lookupPrefix(a, mask))) return `${name}_${hex2(a0 & (0xff >> mask))}:${hex2(a1)}:${hex2(a2)}:${hex2(a3)}:${hex2(a4)}:${hex2(a5)}`;
    }
    return `${hex2(a0)}:${hex2(a1)}:${hex2(a2)}:${hex2(a3)}:${hex2(a4)}:${hex2(a5)}`;
  }

  /** Manufacturer short name for a 24-bit OUI, if known. */
  ouiName(oui: number): string | undefined {
    return this.t.manuf.get((oui & 0xffffff) * 16777216);
  }
}

let defaultResolver: MacResolver | undefined;
/**
 * Process-wide resolver using the installed Wireshark manuf/wka files (env PCAPFLOW_MANUF_DIR: the
 * directory holding them instead); without them, the `oui-data` fallback.
 */
export function getMacResolver(): MacResolver {
  return (defaultResolver ??= new MacResolver(process.env.PCAPFLOW_MANUF_DIR));
}
