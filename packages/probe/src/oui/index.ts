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
import { builtinWka, loadOuiData, shortVendorName } from './fallback';

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

const DEFAULT_DIRS = ['/usr/share/wireshark', '/usr/local/share/wireshark', '/opt/homebrew/share/wireshark'];

/**
 * The manuf/wka entries, split so that a lookup costs a few small-integer Map probes:
 *  - `exact`: 48-bit entries, keyed by the address as a number (`exactHi`: their top 24 bits);
 *  - `manuf`: 24-bit manuf OUIs, keyed by the OUI;
 *  - ranged entries (wka and /28, /36 manuf ...): Wireshark 4.0 keeps them in one table keyed by the
 *    masked address and probes it with the address masked to 47..1 bits, whatever the entry's own
 *    length (so a /16 entry already matches at the 40-bit probe: "IPv6mcast_02", not
 *    "_00:00:00:02"). `ranged` holds them by top 24 bits, then low 24 bits (probes of ≥ 24 bits);
 *    `rangedLow` those with zero low 24 bits by their top 24 bits (the only ones probes of < 24
 *    bits can hit), with the top 16 and top 8 bits of its keys in `low16` and `low8`.
 * Values are name references (see `names`).
 */
interface Tables {
  exact: Map<number, number>;
  exactHi: Set<number>;
  manuf: Map<number, number>;
  ranged: Map<number, Map<number, number>>;
  rangedLow: Map<number, number>;
  low16: Set<number>;
  low8: Set<number>;
  names: Names;
  source: VendorSource;
}

/**
 * Entry names, decoded on first use: of the ~50k manuf lines a capture needs a few hundred, so at
 * load only the byte range of a name is kept (`text` is the file as bytes); names parsed as strings
 * are kept as they are. IEEE organization names of the oui-data fallback are shortened on first use.
 */
class Names {
  readonly strs: Array<string | undefined> = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** References whose string is still an IEEE organization name (oui-data fallback). */
  readonly orgs = new Set<number>();
  private readonly memo = new Map<string, string>();
  text: Buffer = Buffer.alloc(0);

  addRange(start: number, end: number): number {
    this.strs.push(undefined);
    this.starts.push(start);
    this.ends.push(end);
    return this.strs.length - 1;
  }

  addString(s: string, org = false): number {
    this.strs.push(s);
    this.starts.push(0);
    this.ends.push(0);
    const ref = this.strs.length - 1;
    if (org) this.orgs.add(ref);
    return ref;
  }

  get(ref: number): string {
    let s = this.strs[ref];
    if (s === undefined) {
      s = this.text.toString('utf8', this.starts[ref], this.ends[ref]);
      this.strs[ref] = s;
    } else if (this.orgs.size > 0 && this.orgs.has(ref)) {
      let short = this.memo.get(s);
      if (short === undefined) {
        short = shortVendorName(s);
        this.memo.set(s, short);
      }
      this.orgs.delete(ref);
      this.strs[ref] = s = short;
    }
    return s;
  }
}

/** Low 24 bits of the address masked to `bits` (≥ 24). */
function loMask(bits: number): number {
  return (0xffffff << (48 - bits)) & 0xffffff;
}

/** Adds the entry hi:lo/bits (not yet masked) with name reference `ref`, as Wireshark 4.0 files it. */
function addEntry(t: Tables, hi: number, lo: number, bits: number, isManuf: boolean, ref: number): void {
  if (bits < 24) {
    hi &= (0xffffff << (24 - bits)) & 0xffffff;
    lo = 0;
  } else if (bits < 48) {
    lo &= loMask(bits);
  }
  if (bits === 48) {
    t.exact.set(hi * 16777216 + lo, ref);
    t.exactHi.add(hi);
  } else if (bits === 24 && isManuf) {
    t.manuf.set(hi, ref);
  } else {
    let m = t.ranged.get(hi);
    if (m === undefined) t.ranged.set(hi, (m = new Map()));
    m.set(lo, ref);
    if (lo === 0) {
      t.rangedLow.set(hi, ref);
      t.low16.add(hi >>> 8);
      t.low8.add(hi >>> 16);
    }
  }
}

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

function parseLineSlow(raw: string, isManuf: boolean, t: Tables): void {
  const line = raw.replace(/#.*/, '');
  const cols = line.split(/\t+| {2,}/).map((c) => c.trim()).filter((c) => c.length > 0);
  if (cols.length < 2) return;
  const spec = parseAddrSpec(cols[0]);
  if (!spec) return;
  const [b0, b1, b2, b3, b4, b5] = spec.bytes;
  addEntry(t, (b0 << 16) | (b1 << 8) | b2, (b3 << 16) | (b4 << 8) | b5, spec.bits, isManuf, t.names.addString(cols[1]));
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** JS String#trim whitespace among ASCII bytes. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * A line "ADDR<TAB>Name[<TAB>…]" (bytes `text[pos..end)`) whose address is 3..6 two-digit hex
 * groups joined by ':' or '-' (optionally "/bits"), parsed without regexes or strings into `t`;
 * false when the line needs the general parser (other address forms, '#' or double spaces in the
 * name, non-ASCII at the ends of the name …), which gives the same result.
 */
function fastLine(text: Buffer, pos: number, end: number, isManuf: boolean, t: Tables): boolean {
  const tab = text.indexOf(9, pos);
  if (tab < 0 || tab >= end) return false;
  let groups = 0;
  let hi = 0;
  let lo = 0;
  let i = pos;
  for (;;) {
    if (i + 2 > tab) return false;
    const a = hexVal(text[i]);
    const b = hexVal(text[i + 1]);
    if (a < 0 || b < 0) return false;
    const v = (a << 4) | b;
    if (groups < 3) hi = (hi << 8) | v; else lo = (lo << 8) | v;
    groups++;
    i += 2;
    if (i === tab) break;
    const c = text[i];
    if (c === 47 /* / */) break;
    if ((c !== 58 && c !== 45) || groups === 6) return false;
    i++;
  }
  if (groups < 3) return false;
  if (groups < 6) lo <<= 8 * (6 - groups);
  let bits = groups * 8;
  if (i < tab) {
    // "/bits"
    if (tab - i < 2) return false;
    bits = 0;
    for (let j = i + 1; j < tab; j++) {
      const d = text[j] - 48;
      if (d < 0 || d > 9 || bits > 100) return false;
      bits = bits * 10 + d;
    }
    if (!(bits > 0 && bits <= 48)) return false;
  }
  let ns = tab + 1;
  while (ns < end && text[ns] === 9) ns++;
  let ne = text.indexOf(9, ns);
  if (ne < 0 || ne > end) ne = end;
  while (ns < ne && isSpace(text[ns])) ns++;
  while (ne > ns && isSpace(text[ne - 1])) ne--;
  if (ns === ne || text[ns] >= 0x80 || text[ne - 1] >= 0x80) return false;
  for (let j = ns; j < ne; j++) {
    const c = text[j];
    if (c === 35 /* # */ || (c === 32 && text[j + 1] === 32)) return false;
  }
  addEntry(t, hi, lo, bits, isManuf, t.names.addRange(ns, ne));
  return true;
}

/**
 * The lines of `text[from..to)` into `t`. Start-up matters (`pcapflow decode` reads ~50k lines):
 * lines are scanned as bytes and only the position of each name is kept; lines of other forms take
 * the general path (parseLineSlow).
 */
function parseLines(text: Buffer, from: number, to: number, isManuf: boolean, t: Tables): void {
  for (let pos = from; pos < to;) {
    let end = text.indexOf(10, pos);
    if (end < 0 || end > to) end = to;
    if (end > pos && text[pos] !== 35 /* # */) {
      if (!fastLine(text, pos, end, isManuf, t)) parseLineSlow(text.toString('utf8', pos, end), isManuf, t);
    }
    pos = end + 1;
  }
}

function loadTables(dir?: string): Tables {
  const t: Tables = {
    exact: new Map(), exactHi: new Set(), manuf: new Map(), ranged: new Map(), rangedLow: new Map(),
    low16: new Set(), low8: new Set(), names: new Names(), source: 'none',
  };
  const dirs = dir ? [dir] : DEFAULT_DIRS;
  for (const d of dirs) {
    const mf = path.join(d, 'manuf');
    if (!existsSync(mf)) continue;
    const read = (file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch {
        return Buffer.alloc(0);
      }
    };
    // Both files in one buffer (names are kept as positions in it); [0, split) is manuf.
    const manuf = read(mf);
    const text = Buffer.concat([manuf, read(path.join(d, 'wka'))]);
    t.names.text = text;
    parseLines(text, 0, manuf.length, true, t);
    parseLines(text, manuf.length, text.length, false, t);
    t.source = 'manuf';
    break;
  }
  if (t.source === 'none') {
    // No Wireshark data: the npm dataset, parsed only now (~5 MB of JSON).
    const names = t.names;
    const found = loadOuiData((hi, lo, bits, org) => addEntry(t, hi, lo, bits, true, names.addString(org, true)));
    if (found) {
      builtinWka((hi, lo, bits, name) => addEntry(t, hi, lo, bits, false, names.addString(name)));
      t.source = 'oui-data';
    }
  }
  return t;
}

const HEX_CODES = Uint8Array.from(Array.from(HEX, (c) => c.charCodeAt(0)));

/**
 * Where names are assembled as bytes: a string decoded from a buffer is sequential (flat), while
 * a concatenation is a cons string that hot paths (record packing) read char by char much more
 * slowly, and flattening one costs another copy.
 */
let out = Buffer.allocUnsafe(256);

/** Writes "xx:" groups for bytes `b[from..6)` of the address (the first masked by `mask0`) at `p`, without the last ':'. */
function putHex(p: number, a: ArrayLike<number>, from: number, mask0: number): number {
  for (let i = from; i < 6; i++) {
    const v = i === from ? a[i] & mask0 : a[i];
    if (i > from) out[p++] = 58; /* : */
    out[p++] = HEX_CODES[v >> 4];
    out[p++] = HEX_CODES[v & 15];
  }
  return p;
}

const CACHE_MAX = 65_536;

/** Resolver with a per-address cache (resolution is hot in the ek formatter). */
export class MacResolver {
  private readonly t: Tables;
  private readonly cache = new Map<number, string>();
  /** The address being resolved. */
  private readonly a = new Uint8Array(6);
  /** The name written by putName has non-ASCII bytes. */
  private utf8 = false;

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
      r = this.vendorName(b, off) ?? out.toString('latin1', 0, putHex(0, this.a, 0, 0xff));
      // bounded (about 6 MB): randomized MACs are a new key each rotation, and memory must stay flat
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, r);
    }
    return r;
  }

  private readonly macs = new Map<number, string>();

  /**
   * `macToString` with a per-address cache: hot paths (records) get the same flat string for a
   * repeated address instead of building a new one per frame.
   */
  macString(b: Uint8Array, off = 0): string {
    const key = macKey(b, off);
    let s = this.macs.get(key);
    if (s === undefined) {
      const a = this.a;
      for (let i = 0; i < 6; i++) a[i] = b[off + i];
      s = out.toString('latin1', 0, putHex(0, a, 0, 0xff));
      if (this.macs.size > 1_000_000) this.macs.clear();
      this.macs.set(key, s);
    }
    return s;
  }

  resolveString(mac: string): string {
    const b = macBytes(mac);
    return b ? this.resolve(b) : mac;
  }

  /** Writes the name of `ref` at the start of `out`; its length in bytes (0: an empty name, a miss). */
  private putName(ref: number): number {
    const names = this.t.names;
    if (names.strs[ref] === undefined) {
      const text = names.text;
      const start = names.starts[ref];
      const n = names.ends[ref] - start;
      if (n + 32 > out.length) out = Buffer.allocUnsafe(2 * (n + 32));
      let hiBits = 0;
      for (let i = 0; i < n; i++) hiBits |= out[i] = text[start + i];
      this.utf8 = hiBits >= 0x80;
      return n;
    }
    const s = names.get(ref);
    const len = Buffer.byteLength(s, 'utf8');
    if (len + 32 > out.length) out = Buffer.allocUnsafe(2 * (len + 32));
    this.utf8 = len !== s.length;
    return out.write(s, 0, len, 'utf8');
  }

  /** "<name>_<hex of address bytes from..5, the first masked by mask0>", or undefined when the name is empty. */
  private named(ref: number, from: number, mask0: number): string | undefined {
    let p = this.putName(ref);
    if (p === 0) return undefined;
    out[p++] = 95; /* _ */
    p = putHex(p, this.a, from, mask0);
    return this.utf8 ? out.toString('utf8', 0, p) : out.toString('latin1', 0, p);
  }

  /**
   * `resolve` without its cache, for callers that keep their own per address (the frame record
   * builder): the resolved name when it is a vendor name, undefined when it is the address itself
   * ("aa:bb:cc:dd:ee:ff", which the caller has already made). Wireshark 4.0 addr_resolv.c
   * eth_addr_resolve: the order of probes and the suffix of each. (`this.a` holds the address afterwards.)
   */
  vendorName(b: Uint8Array, off = 0): string | undefined {
    const t = this.t;
    const a = this.a;
    for (let i = 0; i < 6; i++) a[i] = b[off + i];
    const hi = (a[0] << 16) | (a[1] << 8) | a[2];
    const lo = (a[3] << 16) | (a[4] << 8) | a[5];
    let ref: number | undefined;
    if (t.exactHi.has(hi) && (ref = t.exact.get(hi * 16777216 + lo)) !== undefined) return t.names.get(ref);
    let s: string | undefined;
    const r = t.ranged.get(hi);
    if (r !== undefined) {
      // probes of 47..24 bits
      for (let bits = 47; bits >= 24; bits--) {
        if ((ref = r.get(lo & loMask(bits))) !== undefined) {
          const from = bits >> 3;
          if ((s = this.named(ref, from, 0xff >> (bits - 8 * from)))) return s;
        }
      }
    }
    ref = t.manuf.get(hi);
    if (ref === undefined && (hi & 0x010000) !== 0) ref = t.manuf.get(hi & 0xfeffff);
    if (ref !== undefined) {
      // an empty name still gives "_xx:xx:xx"
      const p = this.putName(ref);
      out[p] = 95; /* _ */
      const e = putHex(p + 1, a, 3, 0xff);
      return this.utf8 ? out.toString('utf8', 0, e) : out.toString('latin1', 0, e);
    }
    // probes of 23..1 bits: only entries with zero low 24 bits can match
    const low16 = t.low16.has(hi >>> 8);
    const low8 = t.low8.has(a[0]);
    for (let bits = 23; bits >= 1; bits--) {
      if (bits >= 16 ? !low16 : bits >= 8 && !low8) continue;
      if ((ref = t.rangedLow.get(hi & (0xffffff << (24 - bits)) & 0xffffff)) !== undefined) {
        const from = bits >> 3;
        if ((s = this.named(ref, from, 0xff >> (bits - 8 * from)))) return s;
      }
    }
    return undefined;
  }

  /** Manufacturer short name for a 24-bit OUI, if known. */
  ouiName(oui: number): string | undefined {
    const ref = this.t.manuf.get(oui & 0xffffff);
    return ref === undefined ? undefined : this.t.names.get(ref);
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
