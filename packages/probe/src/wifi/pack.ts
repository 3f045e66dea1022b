// Frame records with their msgpack form, for the runtime's pre-packed fast path (see
// @pcapflow/core codec.ts: PACKED_KEYS, and PACKED_SLAB / PACKED_START / PACKED_END, the span
// form of PACKED_VALUES). `FrameRecordBuilder.build` reads the decoder scratch once and makes both
// the record object and the msgpack encoding of its values (in `keys` order) into a shared slab,
// so the runtime builds a batch message by concatenation. A record holds its span of the slab,
// not a view of it: a view per record cost more to make than the runtime's copy of the bytes.
// Why not pack the object afterwards: reading ~45 properties back and encoding ~10 strings char
// by char cost more than decoding the frame. Strings that repeat (MACs, resolved names, SSIDs,
// country codes, vendor elements) are cached together with their msgpack bytes. The bytes decode
// (with the runtime's Unpackr) to exactly the record object: record-pack.test.ts checks it on
// every frame of the corpus. The runtime releases each record once it has copied its bytes
// (codec.ts PACKED_RELEASE); a slab whose records were all released is written over again, so
// a source running in a topology makes no new slabs (each is megabytes of external memory).

import type { WifiFrame } from './decoder';
import type { MacResolver } from '../oui';
import { asciiText, subtypeName, type VendorIe } from './record';

export const PACKED_KEYS: unique symbol = Symbol.for('pcapflow.packedKeys') as never;
export const PACKED_VALUES: unique symbol = Symbol.for('pcapflow.packedValues') as never;
/** The slab holding a record's packed values, and their span in it (core codec.ts: PACKED_SLAB). */
export const PACKED_SLAB: unique symbol = Symbol.for('pcapflow.packedSlab') as never;
export const PACKED_START: unique symbol = Symbol.for('pcapflow.packedStart') as never;
export const PACKED_END: unique symbol = Symbol.for('pcapflow.packedEnd') as never;
/** `{ released }`, counted up by the runtime once it has copied a record's packed values (core codec.ts: PACKED_RELEASE). */
export const PACKED_RELEASE: unique symbol = Symbol.for('pcapflow.packedRelease') as never;

/** Optional field groups (`detail:` in the probe config); the basic record has none of them. */
export const DETAIL_GROUPS = ['resolved', 'ssid_hex', 'vendor_ies'] as const;
export type DetailGroup = (typeof DETAIL_GROUPS)[number];

/** Keys of the basic frame record, in order. */
export const BASIC_KEYS: readonly string[] = Object.freeze([
  'ts', 'ts_sec', 'ts_nsec', 'linktype', 'cap_len', 'orig_len', 'malformed', 'truncated',
  'channel', 'frequency', 'signal_dbm', 'noise_dbm', 'data_rate_mbps', 'duration_us', 'phy', 'fcs_present', 'bad_fcs',
  'fc_type', 'fc_subtype', 'type_subtype', 'subtype_name', 'flags', 'to_ds', 'from_ds', 'retry', 'protected',
  'duration_id', 'seq', 'frag', 'ra', 'ta', 'da', 'sa', 'sa_resolved', 'bssid', 'sta', 'ssid',
  'ds_channel', 'country', 'wps_device_name', 'frame', 'capture', 'sa_local',
]);

/** Keys each detail group adds (after the basic keys, in DETAIL_GROUPS order). */
export const DETAIL_KEYS: Readonly<Record<DetailGroup, readonly string[]>> = Object.freeze({
  resolved: ['ra_resolved', 'ta_resolved', 'da_resolved', 'bssid_resolved'],
  ssid_hex: ['ssid_hex', 'ssids_hex'],
  vendor_ies: ['vendor_ies'],
});

const keyLists = new Map<string, readonly string[]>();

/**
 * The key list of a record with these groups (and `raw` last with keepRaw). One shared frozen
 * array per shape: the runtime's codec defines a shape once per message, by array identity.
 */
export function frameKeys(groups: readonly DetailGroup[], keepRaw: boolean): readonly string[] {
  const keys = [...BASIC_KEYS];
  for (const g of DETAIL_GROUPS) if (groups.includes(g)) keys.push(...DETAIL_KEYS[g]);
  if (keepRaw) keys.push('raw');
  return sharedKeys(keys);
}

/** Remove the fields of the groups not in `groups` from a full record (records not built here: tshark-ek input). */
export function dropDetail(rec: Record<string, unknown>, groups: readonly DetailGroup[]): void {
  for (const g of DETAIL_GROUPS) if (!groups.includes(g)) for (const k of DETAIL_KEYS[g]) delete rec[k];
}

/** Every field a frame record can have, in record order (basic, then the detail groups, then `raw`). */
export const FRAME_FIELDS: readonly string[] = Object.freeze([...BASIC_KEYS, ...DETAIL_GROUPS.flatMap((g) => DETAIL_KEYS[g]), 'raw']);

/**
 * The fields a record made with these groups can have that `fields` lists (record order, each once),
 * or a message naming the first problem: an unknown field, or one whose detail group (or keep_raw) is off.
 */
export function selectFrameFields(fields: readonly string[], groups: readonly DetailGroup[], keepRaw: boolean): readonly string[] | string {
  const available = frameKeys(groups, keepRaw);
  for (const f of fields) {
    if (available.includes(f)) continue;
    if (!FRAME_FIELDS.includes(f)) return `unknown frames field "${f}"; the fields are: ${FRAME_FIELDS.join(', ')}`;
    if (f === 'raw') return 'field "raw" needs keep_raw: true';
    const group = DETAIL_GROUPS.find((g) => DETAIL_KEYS[g].includes(f))!;
    return `field "${f}" is in detail group "${group}", which detail does not enable (add it: detail: [${[...groups, group].join(', ')}])`;
  }
  return sharedKeys(available.filter((k) => fields.includes(k)));
}

/** One frozen array per key list (the runtime's codec defines a record shape per array identity). */
function sharedKeys(keys: readonly string[]): readonly string[] {
  const id = keys.join();
  let shared = keyLists.get(id);
  if (!shared) { shared = Object.freeze([...keys]); keyLists.set(id, shared); }
  return shared;
}

/** `(record) => record restricted to keys` (in that order), for records not built here. */
export function recordProjection(keys: readonly string[]): (record: Record<string, unknown>) => Record<string, unknown> {
  const body = `return { ${keys.map((k) => `${JSON.stringify(k)}: r[${JSON.stringify(k)}]`).join(', ')} };`;
  return new Function('r', body) as (record: Record<string, unknown>) => Record<string, unknown>;
}

const SLAB = 1 << 22;

// ---- msgpack writers: (buffer, position, value) → new position; the caller made room.

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Numbers as msgpackr writes them with useRecords (0x40..0x7f never as a fixint: those are record ids). */
function wNum(b: Uint8Array, p: number, v: number): number {
  if (Number.isInteger(v)) {
    if (v >= 0) {
      if (v < 0x40) { b[p] = v; return p + 1; }
      if (v < 0x100) { b[p] = 0xcc; b[p + 1] = v; return p + 2; }
      if (v < 0x10000) { b[p] = 0xcd; b[p + 1] = v >>> 8; b[p + 2] = v & 0xff; return p + 3; }
      if (v < 0x100000000) { b[p] = 0xce; b[p + 1] = v >>> 24; b[p + 2] = (v >>> 16) & 0xff; b[p + 3] = (v >>> 8) & 0xff; b[p + 4] = v & 0xff; return p + 5; }
    } else {
      if (v >= -0x20) { b[p] = v & 0xff; return p + 1; }
      if (v >= -0x80) { b[p] = 0xd0; b[p + 1] = v & 0xff; return p + 2; }
      if (v >= -0x8000) { b[p] = 0xd1; b[p + 1] = (v >> 8) & 0xff; b[p + 2] = v & 0xff; return p + 3; }
      if (v >= -0x80000000) { b[p] = 0xd2; b[p + 1] = (v >> 24) & 0xff; b[p + 2] = (v >> 16) & 0xff; b[p + 3] = (v >> 8) & 0xff; b[p + 4] = v & 0xff; return p + 5; }
    }
  }
  b[p] = 0xcb;
  f64[0] = v;
  if (BIG_ENDIAN_HOST) for (let i = 0; i < 8; i++) b[p + 1 + i] = f64b[i];
  else for (let i = 0; i < 8; i++) b[p + 1 + i] = f64b[7 - i];
  return p + 9;
}

/** A non-negative integer below 2^32 (no type checks: the caller knows). */
function wUint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x40) { b[p] = v; return p + 1; }
  if (v < 0x100) { b[p] = 0xcc; b[p + 1] = v; return p + 2; }
  if (v < 0x10000) { b[p] = 0xcd; b[p + 1] = v >>> 8; b[p + 2] = v & 0xff; return p + 3; }
  b[p] = 0xce; b[p + 1] = v >>> 24; b[p + 2] = (v >>> 16) & 0xff; b[p + 3] = (v >>> 8) & 0xff; b[p + 4] = v & 0xff;
  return p + 5;
}

function wNumOrNull(b: Uint8Array, p: number, v: number | null): number {
  if (v === null) { b[p] = 0xc0; return p + 1; }
  return wNum(b, p, v);
}

/** Bytes that are already msgpack (a byte loop beats `set` up to about 16 bytes). */
function wRaw(b: Uint8Array, p: number, v: Uint8Array): number {
  const n = v.length;
  if (n < 16) { for (let i = 0; i < n; i++) b[p + i] = v[i]; }
  else b.set(v, p);
  return p + n;
}

/**
 * A resolved name: most are 17 characters (a MAC without vendor name, or an 8-character vendor
 * and "_xx:xx:xx"), 18 bytes packed, written by straight-line code (`set` is a builtin call).
 */
function wName(b: Uint8Array, p: number, v: Uint8Array): number {
  if (v.length !== 18) return wRaw(b, p, v);
  b[p] = v[0]; b[p + 1] = v[1]; b[p + 2] = v[2]; b[p + 3] = v[3]; b[p + 4] = v[4]; b[p + 5] = v[5];
  b[p + 6] = v[6]; b[p + 7] = v[7]; b[p + 8] = v[8]; b[p + 9] = v[9]; b[p + 10] = v[10]; b[p + 11] = v[11];
  b[p + 12] = v[12]; b[p + 13] = v[13]; b[p + 14] = v[14]; b[p + 15] = v[15]; b[p + 16] = v[16]; b[p + 17] = v[17];
  return p + 18;
}

function strHeader(b: Uint8Array, p: number, len: number): number {
  if (len < 32) { b[p] = 0xa0 | len; return p + 1; }
  if (len < 0x100) { b[p] = 0xd9; b[p + 1] = len; return p + 2; }
  if (len < 0x10000) { b[p] = 0xda; b[p + 1] = len >>> 8; b[p + 2] = len & 0xff; return p + 3; }
  b[p] = 0xdb; b[p + 1] = len >>> 24; b[p + 2] = (len >>> 16) & 0xff; b[p + 3] = (len >>> 8) & 0xff; b[p + 4] = len & 0xff;
  return p + 5;
}

/** Any string (UTF-8); room for 3 bytes per UTF-16 unit + 5. */
function wStr(b: Uint8Array, p: number, s: string): number {
  const n = s.length;
  if (n < 32) {
    let q = p + 1;
    let i = 0;
    for (; i < n; i++) { const c = s.charCodeAt(i); if (c >= 0x80) break; b[q++] = c; }
    if (i === n) { b[p] = 0xa0 | n; return q; }
  }
  const bytes = Buffer.from(s, 'utf8');
  p = strHeader(b, p, bytes.length);
  b.set(bytes, p);
  return p + bytes.length;
}

/** msgpack bytes of one string (cached forms). */
function packStr(s: string | null): Uint8Array {
  if (s === null) return Uint8Array.of(0xc0);
  const u = Buffer.from(s, 'utf8');
  const out = new Uint8Array(u.length + 5);
  const p = strHeader(out, 0, u.length);
  out.set(u, p);
  return out.slice(0, p + u.length);
}

function arrayHeader(b: Uint8Array, p: number, n: number): number {
  if (n < 16) { b[p] = 0x90 | n; return p + 1; }
  b[p] = 0xdc; b[p + 1] = n >>> 8; b[p + 2] = n & 0xff;
  return p + 3;
}

function wBin(b: Uint8Array, p: number, v: Uint8Array): number {
  const n = v.length;
  if (n < 0x100) { b[p] = 0xc4; b[p + 1] = n; p += 2; }
  else if (n < 0x10000) { b[p] = 0xc5; b[p + 1] = n >>> 8; b[p + 2] = n & 0xff; p += 3; }
  else { b[p] = 0xc6; b[p + 1] = n >>> 24; b[p + 2] = (n >>> 16) & 0xff; b[p + 3] = (n >>> 8) & 0xff; b[p + 4] = n & 0xff; p += 5; }
  b.set(v, p);
  return p + n;
}

const HEX_CHARS = Uint8Array.from(Buffer.from('0123456789abcdef'));

/** "aa:bb:cc:dd:ee:ff" (msgpack fixstr of 17) straight from the address bytes. */
function wMac(b: Uint8Array, p: number, a: Uint8Array, o: number): number {
  const H = HEX_CHARS;
  let x = a[o];
  b[p] = 0xb1; b[p + 1] = H[x >> 4]; b[p + 2] = H[x & 15];
  x = a[o + 1]; b[p + 3] = 0x3a; b[p + 4] = H[x >> 4]; b[p + 5] = H[x & 15];
  x = a[o + 2]; b[p + 6] = 0x3a; b[p + 7] = H[x >> 4]; b[p + 8] = H[x & 15];
  x = a[o + 3]; b[p + 9] = 0x3a; b[p + 10] = H[x >> 4]; b[p + 11] = H[x & 15];
  x = a[o + 4]; b[p + 12] = 0x3a; b[p + 13] = H[x >> 4]; b[p + 14] = H[x & 15];
  x = a[o + 5]; b[p + 15] = 0x3a; b[p + 16] = H[x >> 4]; b[p + 17] = H[x & 15];
  return p + 18;
}

// ---- caches

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push((i < 16 ? '0' : '') + i.toString(16));

/** One address of the AddrCache: its MAC string and, once asked for, its resolved name with its msgpack bytes. */
class AddrEntry {
  res: string | undefined = undefined;
  resPacked: Uint8Array | undefined = undefined;
  constructor(readonly hi: number, readonly lo: number, readonly mac: string) {}
}

/**
 * No address: the AddrCache's empty entries (no address has hi -1), and the generated writer's
 * entry before it reads an address (one type for the local: no `null`).
 */
const NO_ADDR = new AddrEntry(-1, -1, '');

/**
 * Direct-mapped per-address cache. Keyed by two 24-bit halves (no heap numbers, no Map hashing);
 * a collision just replaces the entry. One object per address (not one array per property): a
 * lookup reads one entry, where parallel arrays cost a cache miss each (addresses are spread
 * over the table).
 */
class AddrCache {
  private static readonly BITS = 16;
  private readonly entries: AddrEntry[] = new Array<AddrEntry>(1 << AddrCache.BITS).fill(NO_ADDR);

  private readonly scratch = Buffer.alloc(17);

  constructor(private readonly resolver: MacResolver) {}

  /** The entry of the address at `b[o..o+6)` (a new one when the address is not the one cached). */
  entry(b: Uint8Array, o: number): AddrEntry {
    const hi = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
    const lo = (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5];
    const i = (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> (32 - AddrCache.BITS));
    let e = this.entries[i]!;
    if (e.hi !== hi || e.lo !== lo) {
      // built from bytes: a flat string (a concatenated one is slow to read later)
      const t = this.scratch;
      for (let k = 0, q = 0; k < 6; k++) { const x = b[o + k]; if (k) t[q++] = 0x3a; t[q++] = HEX_CHARS[x >> 4]; t[q++] = HEX_CHARS[x & 15]; }
      e = new AddrEntry(hi, lo, t.toString('latin1', 0, 17));
      this.entries[i] = e;
    }
    return e;
  }

  /** The resolved name of the address of `e` (at `b[o..o+6)`); its msgpack bytes are then `e.resPacked`. */
  resolvedOf(e: AddrEntry, b: Uint8Array, o: number): string {
    let r = e.res;
    if (r === undefined) {
      // no cache lookup in the resolver (this entry is the cache), and an address without a vendor
      // name (a randomized one) is its MAC string and bytes, made from the address at no cost
      const name = this.resolver.vendorName(b, o);
      if (name === undefined) { r = e.mac; const packed = new Uint8Array(18); wMac(packed, 0, b, o); e.resPacked = packed; }
      else { r = name; e.resPacked = packStr(name); }
      e.res = r;
    }
    return r;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface SsidEntry {
  len: number;
  bytes: Uint8Array;
  text: string | null;
  textPacked: Uint8Array;
  hex: string;
  hexPacked: Uint8Array;
}

/** Direct-mapped SSID cache keyed by the element bytes (verified on hit). */
class SsidCache {
  private static readonly BITS = 12;
  private readonly e: Array<SsidEntry | undefined> = new Array<SsidEntry | undefined>(1 << SsidCache.BITS).fill(undefined);

  get(b: Uint8Array, o: number, n: number): SsidEntry {
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[o + i], 0x01000193);
    const i = h >>> (32 - SsidCache.BITS);
    let e = this.e[i];
    if (e !== undefined && e.len === n) {
      const eb = e.bytes;
      let k = 0;
      while (k < n && eb[k] === b[o + k]) k++;
      if (k === n) return e;
    }
    const bytes = b.slice(o, o + n);
    let text: string | null;
    try { text = utf8.decode(bytes); } catch { text = null; }
    let hex = '';
    for (let k = 0; k < n; k++) hex += HEX2[bytes[k]];
    e = { len: n, bytes, text, textPacked: packStr(text), hex, hexPacked: packStr(hex) };
    this.e[i] = e;
    return e;
  }
}

function ouiHex(oui: number): string {
  return `${HEX2[(oui >> 16) & 0xff]}:${HEX2[(oui >> 8) & 0xff]}:${HEX2[oui & 0xff]}`;
}

/** `d4 72 7f ["oui","oui_hex","oui_type","vendor"]`: an inline msgpackr record definition (id 0x7f, reserved for nested records). */
const VENDOR_IE_DEF = Uint8Array.from([
  0xd4, 0x72, 0x7f, 0x94,
  0xa3, ...Buffer.from('oui'), 0xa7, ...Buffer.from('oui_hex'), 0xa8, ...Buffer.from('oui_type'), 0xa6, ...Buffer.from('vendor'),
]);

interface VendorEntry { ie: VendorIe; packed: Uint8Array }

/** One `VendorIe` per (OUI, type), frozen and shared by the records (its fields are facts about the OUI). */
class VendorCache {
  private readonly byOui = new Map<number, Array<VendorEntry | undefined>>();
  constructor(private readonly resolver: MacResolver) {}
  get(oui: number, type: number): VendorEntry {
    let a = this.byOui.get(oui);
    if (a === undefined) { a = new Array<VendorEntry | undefined>(257).fill(undefined); this.byOui.set(oui, a); }
    let e = a[type + 1];
    if (e === undefined) {
      const ie: VendorIe = Object.freeze({ oui, oui_hex: ouiHex(oui), oui_type: type >= 0 ? type : null, vendor: this.resolver.ouiName(oui) ?? null });
      const tmp = new Uint8Array(VENDOR_IE_DEF.length + 32 + (ie.vendor?.length ?? 0) * 3 + 5);
      let p = wRaw(tmp, 0, VENDOR_IE_DEF);
      p = wNum(tmp, p, ie.oui);
      p = wStr(tmp, p, ie.oui_hex);
      p = wNumOrNull(tmp, p, ie.oui_type);
      p = ie.vendor === null ? wNumOrNull(tmp, p, null) : wStr(tmp, p, ie.vendor);
      e = { ie, packed: tmp.slice(0, p) };
      a[type + 1] = e;
    }
    return e;
  }
}

const SUBTYPE_PACKED: Uint8Array[] = [];
const SUBTYPE_NAME: string[] = [];
for (let t = 0; t < 64; t++) { SUBTYPE_NAME.push(subtypeName(t)); SUBTYPE_PACKED.push(packStr(subtypeName(t))); }
const NIL = Uint8Array.of(0xc0);

// ---- the selected-fields writer: code generated per field selection

/**
 * Writes the record of a field selection at the builder's `pos`, as `write` does for every field;
 * undefined when it did not fit. The builder comes in as an argument: the generated code reads its
 * slab and caches (buf, bufDv, pos, addrs, ssids, vendors, country, capturePacked, ticket, written).
 */
type SelectedWriter = (builder: FrameRecordBuilder, fr: WifiFrame, frame: number, capture: string, raw: Uint8Array | undefined) => BuiltFrameRecord | undefined;

/** Number-or-null fields: the expression of the value, and whether it can be null. */
const NUMBER_FIELDS: Readonly<Record<string, readonly [string, boolean]>> = {
  ts_sec: ['fr.tsSec', false], ts_nsec: ['fr.tsNsec', false], linktype: ['fr.linktype', false], cap_len: ['fr.capLen', false], orig_len: ['fr.origLen', false],
  channel: ['fr.hasChannel ? fr.channel : null', true], frequency: ['fr.hasFrequency ? fr.frequency : null', true],
  signal_dbm: ['fr.hasSignal ? fr.signalDbm : null', true], noise_dbm: ['fr.hasNoise ? fr.noiseDbm : null', true],
  data_rate_mbps: ['fr.dataRate > 0 ? Math.round(fr.dataRate * 10) / 10 : null', true],
  duration_us: ['fr.hasDuration ? fr.radioDuration : null', true], phy: ['fr.hasRadio ? fr.phy : null', true],
  fc_type: ['fr.hasFc ? fr.fcType : null', true], fc_subtype: ['fr.hasFc ? fr.fcSubtype : null', true],
  type_subtype: ['fr.hasFc ? fr.typeSubtype : null', true], flags: ['fr.hasFc ? fr.fcFlags : null', true],
  duration_id: ['fr.hasDurationId ? fr.durationId : null', true], seq: ['fr.hasSeq ? fr.seq : null', true], frag: ['fr.hasSeq ? fr.frag : null', true],
  ds_channel: ['fr.dsChannel >= 0 ? fr.dsChannel : null', true], frame: ['frame', false],
};
/** Boolean fields: the expression of the value. */
const BOOLEAN_FIELDS: Readonly<Record<string, string>> = {
  malformed: 'fr.malformed', truncated: 'fr.truncated', fcs_present: 'fr.fcsPresent', bad_fcs: 'fr.badFcs',
  to_ds: '(fr.fcFlags & 1) !== 0', from_ds: '(fr.fcFlags & 2) !== 0', retry: '(fr.fcFlags & 8) !== 0', protected: '(fr.fcFlags & 0x40) !== 0',
};
/** Address fields, by the WifiFrame offset they read. */
const ADDRESS_FIELDS: Readonly<Record<string, string>> = { ra: 'ra', ta: 'ta', da: 'da', sa: 'sa', bssid: 'bssid', sta: 'staa' };
/** Resolved-name fields, by their address field (named as its WifiFrame offset). */
const RESOLVED_FIELDS: Readonly<Record<string, string>> = { sa_resolved: 'sa', ra_resolved: 'ra', ta_resolved: 'ta', da_resolved: 'da', bssid_resolved: 'bssid' };
/** The other fields: code that declares `$` (the value) and writes it. */
const OTHER_FIELDS: Readonly<Record<string, string>> = {
  // a fraction of a millisecond (nearly always): a float 64, one DataView store (wNum's byte loop costs as much as the rest of the field)
  ts: 'const $ = fr.tsSec * 1000 + fr.tsNsec / 1e6;\nif (Number.isInteger($)) p = wNum(b, p, $); else { b[p] = 0xcb; s.bufDv.setFloat64(p + 1, $); p += 9; }',
  subtype_name: 'let $ = null;\nif (!fr.hasFc) b[p++] = 0xc0;\nelse { const t = fr.typeSubtype; if (t < 64) { $ = SUBTYPE_NAME[t]; p = wRaw(b, p, SUBTYPE_PACKED[t]); } else { $ = subtypeName(t); p = wStr(b, p, $); } }',
  ssid: 'let $ = null;\nif (ssidE === undefined) b[p++] = 0xc0; else { $ = ssidE.text; p = wRaw(b, p, ssidE.textPacked); }',
  ssid_hex: 'let $ = null;\nif (ssidE === undefined) b[p++] = 0xc0; else { $ = ssidE.hex; p = wRaw(b, p, ssidE.hexPacked); }',
  ssids_hex: 'const $ = [];\n{ const n = fr.ssidCount; p = arrayHeader(b, p, n); for (let i = 0; i < n; i++) { const e = s.ssids.get(a, fr.ssidOff[i], fr.ssidLen[i]); $.push(e.hex); p = wRaw(b, p, e.hexPacked); } }',
  country: 'let $ = null;\nif (!fr.countryCount) b[p++] = 0xc0;\nelse { const co = fr.countryOff[0]; const k = (a[co] << 8) | a[co + 1]; let c = s.country[k]; if (c === undefined) { const t = asciiText(a, co, 2); c = { s: t, p: packStr(t) }; s.country[k] = c; } $ = c.s; p = wRaw(b, p, c.p); }',
  wps_device_name: 'let $ = null;\nif (fr.wpsCount) { $ = asciiText(a, fr.wpsOff[0], fr.wpsLen[0]); p = wStr(b, p, $); } else b[p++] = 0xc0;',
  capture: 'const $ = capture;\np = wRaw(b, p, s.capturePacked);',
  sa_local: 'const $ = fr.sa >= 0 ? (a[fr.sa] & 2) === 2 : null;\nb[p++] = $ === null ? 0xc0 : $ ? 0xc3 : 0xc2;',
  vendor_ies: 'const $ = [];\n{ const n = fr.vendorCount; p = arrayHeader(b, p, n); for (let i = 0; i < n; i++) { const e = s.vendors.get(fr.vendorOui[i], fr.vendorType[i]); $.push(e.ie); p = wRaw(b, p, e.packed); } }',
  raw: 'const $ = raw;\np = wBin(b, p, raw);',
};
for (const f of FRAME_FIELDS) {
  const kinds = [NUMBER_FIELDS, BOOLEAN_FIELDS, ADDRESS_FIELDS, RESOLVED_FIELDS, OTHER_FIELDS].filter((t) => Object.hasOwn(t, f)).length;
  if (kinds !== 1) throw new Error(`wifi/pack.ts: field "${f}" needs exactly one code of the selected-fields writer (has ${kinds})`);
}

/** The number-or-null variable `x` as msgpack: the common cases inline (a call per field costs as much as the write), the rest through wNum. */
function numberCode(x: string, nullable: boolean): string {
  return `${nullable ? `if (${x} === null) b[p++] = 0xc0;\nelse ` : ''}if ((${x} | 0) === ${x} && ${x} >= -0x80 && ${x} < 0x10000) {
  if (${x} >= 0) { if (${x} < 0x40) b[p++] = ${x}; else if (${x} < 0x100) { b[p] = 0xcc; b[p + 1] = ${x}; p += 2; } else { b[p] = 0xcd; b[p + 1] = ${x} >>> 8; b[p + 2] = ${x} & 0xff; p += 3; } }
  else { if (${x} < -0x20) b[p++] = 0xd0; b[p++] = ${x} & 0xff; }
} else p = wNum(b, p, ${x});`;
}

/** What the generated code calls or reads, by the names it uses. */
const WRITER_SCOPE = {
  wNum, wStr, wRaw, wName, wMac, wBin, arrayHeader, asciiText, packStr, subtypeName, SUBTYPE_NAME, SUBTYPE_PACKED, NO_ADDR,
  K: PACKED_KEYS, SL: PACKED_SLAB, ST: PACKED_START, EN: PACKED_END, R: PACKED_RELEASE,
};

const selectedWriters = new Map<readonly string[], SelectedWriter>();

/**
 * The writer of one key list (a shared array of `selectFrameFields`): straight-line code computing
 * each selected field (and nothing else) into a local and writing its bytes, in key order, then one
 * record literal of those locals (one hidden class, one allocation, the packed-form symbols
 * included). A loop over the field ids with a switch and a values array cost about a third more
 * per record. Values and bytes are the ones `write` makes: field-selection.test.ts compares them
 * for each field alone and in combinations, on every corpus frame. Field names are FRAME_FIELDS,
 * written in as JSON string literals.
 */
function selectedWriter(keys: readonly string[]): SelectedWriter {
  let writer = selectedWriters.get(keys);
  if (writer) return writer;
  let body = 'const b = s.buf, start = s.pos, a = fr.buf, addrs = s.addrs;\nlet p = start;\n';
  let ssidLooked = false;
  keys.forEach((f, j) => {
    const v = `v${j}`;
    let code: string;
    if (Object.hasOwn(NUMBER_FIELDS, f)) {
      const [expr, nullable] = NUMBER_FIELDS[f]!;
      code = `const ${v} = ${expr};\n${numberCode(v, nullable)}`;
    } else if (Object.hasOwn(BOOLEAN_FIELDS, f)) {
      code = `const ${v} = ${BOOLEAN_FIELDS[f]!};\nb[p++] = ${v} ? 0xc3 : 0xc2;`;
    } else if (Object.hasOwn(ADDRESS_FIELDS, f)) {
      // offset and cache entry kept in locals for a resolved name right after (sa, sa_resolved)
      const o = `o_${f}`, entry = `e_${f}`;
      code = `const ${o} = fr.${ADDRESS_FIELDS[f]!};\nlet ${entry} = NO_ADDR, ${v} = null;\n`
        + `if (${o} < 0) b[p++] = 0xc0; else { ${entry} = addrs.entry(a, ${o}); ${v} = ${entry}.mac; p = wMac(b, p, a, ${o}); }`;
    } else if (Object.hasOwn(RESOLVED_FIELDS, f)) {
      const addr = RESOLVED_FIELDS[f]!;
      // the entry its address just took (no lookup since), not a second hash
      code = j > 0 && keys[j - 1] === addr
        ? `let ${v} = null;\nif (o_${addr} < 0) b[p++] = 0xc0; else { ${v} = addrs.resolvedOf(e_${addr}, a, o_${addr}); p = wName(b, p, e_${addr}.resPacked); }`
        : `let ${v} = null;\n{ const o = fr.${addr}; if (o < 0) b[p++] = 0xc0; else { const e = addrs.entry(a, o); ${v} = addrs.resolvedOf(e, a, o); p = wName(b, p, e.resPacked); } }`;
    } else {
      code = '';
      if ((f === 'ssid' || f === 'ssid_hex') && !ssidLooked) {
        ssidLooked = true;
        code = 'const ssidE = fr.ssidCount ? s.ssids.get(a, fr.ssidOff[0], fr.ssidLen[0]) : undefined;\n';
      }
      code += OTHER_FIELDS[f]!.replaceAll('$', v);
    }
    body += `// ${f}\n${code}\n`;
  });
  body += 'if (p > b.length) return undefined;\n'
    + `const rec = { ${keys.map((k, j) => `${JSON.stringify(k)}: v${j}`).join(', ')}, [K]: keys, [SL]: b, [ST]: start, [EN]: p, [R]: s.ticket };\n`
    + 's.written++;\n'
    + '// next record 8-byte aligned (cheaper copies of whole records later)\n'
    + 's.pos = (p + 7) & ~7;\nreturn rec;';
  const names = Object.keys(WRITER_SCOPE);
  const make = new Function(...names, 'keys', `return function writeSelected(s, fr, frame, capture, raw) {\n${body}\n};`) as (...args: unknown[]) => SelectedWriter;
  writer = make(...Object.values(WRITER_SCOPE), keys);
  selectedWriters.set(keys, writer);
  return writer;
}

/** A Wi-Fi frame record as the probe publishes it (see processor.ts FrameRecord for the documented type). */
export type BuiltFrameRecord = Record<string, unknown>;

/**
 * Builds frame records (object + msgpack form) for one detail level. One per PacketProcessor:
 * the caches are per builder, so no state is shared between sources.
 */
export class FrameRecordBuilder {
  /** Key order of the records (and of their packed values). */
  readonly keys: readonly string[];
  private readonly resolved: boolean;
  private readonly ssidHex: boolean;
  private readonly vendorIes: boolean;
  private readonly addrs: AddrCache;
  private readonly ssids = new SsidCache();
  private readonly vendors: VendorCache;
  private readonly country: Array<{ s: string; p: Uint8Array } | undefined> = new Array<{ s: string; p: Uint8Array } | undefined>(65536).fill(undefined);
  private captureName = '';
  private capturePacked = packStr('');
  private buf = new Uint8Array(SLAB);
  /** A DataView of `buf`, for the selected-fields writer's float 64 (big-endian on any host). */
  private bufDv = new DataView(this.buf.buffer);
  private pos = 0;
  /** Records written into `buf`, and how many of them the runtime has released (copied out). */
  private written = 0;
  private ticket = { released: 0 };
  /** Scratch of `write`: pcap fields; address offsets (-1: none), their MAC strings and resolved names. */
  private readonly u32 = new Uint32Array(5);
  private readonly addrOff = new Int32Array(6);
  private readonly addrMac: Array<string | null> = [null, null, null, null, null, null];
  private readonly addrRes: Array<string | null> = [null, null, null, null, null, null];
  private readonly addrResPacked: Uint8Array[] = [NIL, NIL, NIL, NIL, NIL, NIL];

  /** With a field selection: its writer (instead of `write`). */
  private readonly writeSelected: SelectedWriter | undefined;

  /**
   * `fields`: only these fields (tshark's `-e`), in record order; undefined = every field of the
   * detail level. Unknown fields, or fields of groups not enabled, throw (the plugin's config
   * schema reports them first, with their place in the topology file).
   */
  constructor(groups: readonly DetailGroup[], readonly keepRaw: boolean, resolver: MacResolver, fields?: readonly string[]) {
    this.keys = frameKeys(groups, keepRaw);
    if (fields !== undefined) {
      const keys = selectFrameFields(fields, groups, keepRaw);
      if (typeof keys === 'string') throw new Error(keys);
      this.keys = keys;
      this.writeSelected = selectedWriter(keys);
    }
    this.resolved = groups.includes('resolved');
    this.ssidHex = groups.includes('ssid_hex');
    this.vendorIes = groups.includes('vendor_ies');
    this.addrs = new AddrCache(resolver);
    this.vendors = new VendorCache(resolver);
  }

  /**
   * Room for one record: an upper bound on its packed size. The fixed part (numbers, MACs, five
   * resolved names, subtype, country) stays far below 4 KiB; `build` checks the bound anyway.
   */
  private room(fr: WifiFrame, raw: Uint8Array | undefined): void {
    let need = 4096 + this.capturePacked.length + (raw ? raw.length + 5 : 0);
    for (let i = 0; i < fr.ssidCount; i++) need += fr.ssidLen[i] * 6 + 16;
    for (let i = 0; i < fr.wpsCount; i++) need += fr.wpsLen[i] * 3 + 8;
    need += fr.vendorCount * 160;
    if (this.pos + need > this.buf.length) {
      // Every record of the slab copied out by the runtime: the slab is free again. A fresh slab
      // each time is megabytes of external memory, which V8 answers with full collections.
      if (this.written === this.ticket.released && need <= this.buf.length) { this.pos = 0; this.written = 0; this.ticket.released = 0; }
      else this.newSlab(Math.max(SLAB, need));
    }
  }

  private newSlab(size: number): void {
    this.buf = new Uint8Array(size);
    this.bufDv = new DataView(this.buf.buffer);
    this.pos = 0;
    this.written = 0;
    this.ticket = { released: 0 };
  }

  /** The record of the decoded frame `fr`, with its packed form. */
  build(fr: WifiFrame, frame: number, capture: string, raw?: Uint8Array): BuiltFrameRecord {
    if (capture !== this.captureName) { this.captureName = capture; this.capturePacked = packStr(capture); }
    this.room(fr, raw);
    for (let size = SLAB; ; size *= 2) {
      try {
        const rec = this.writeSelected === undefined ? this.write(fr, frame, capture, raw) : this.writeSelected(this, fr, frame, capture, raw);
        if (rec !== undefined) return rec;
      } catch (e) {
        if ((e as Error | undefined)?.name !== 'RangeError') throw e; // (by name: jest runs modules in another realm)
      }
      // Did not fit (names far longer than any real one): again, in a fresh slab twice as big each time.
      this.newSlab(Math.max(size, this.buf.length * 2));
    }
  }

  /** Writes the record at `pos`; undefined when it did not fit (typed-array writes past the end are dropped). */
  private write(fr: WifiFrame, frame: number, capture: string, raw: Uint8Array | undefined): BuiltFrameRecord | undefined {
    const b = this.buf;
    const start = this.pos;
    const a = fr.buf;
    const addrs = this.addrs;

    const ts = fr.tsSec * 1000 + fr.tsNsec / 1e6;
    const channel = fr.hasChannel ? fr.channel : null;
    const frequency = fr.hasFrequency ? fr.frequency : null;
    const signal = fr.hasSignal ? fr.signalDbm : null;
    const noise = fr.hasNoise ? fr.noiseDbm : null;
    const rate = fr.dataRate > 0 ? Math.round(fr.dataRate * 10) / 10 : null;
    const durationUs = fr.hasDuration ? fr.radioDuration : null;
    const phy = fr.hasRadio ? fr.phy : null;
    const hasFc = fr.hasFc;
    const ts2 = fr.typeSubtype;
    const fl = fr.fcFlags;
    const durationId = fr.hasDurationId ? fr.durationId : null;
    const seq = fr.hasSeq ? fr.seq : null;
    const frag = fr.hasSeq ? fr.frag : null;

    let p = start;
    // The pcap fields (unsigned 32-bit) through one wUint call site, as the addresses below
    // through one entry lookup and one wMac: `write` is far past V8's inlining budget, so each call site
    // is a real call (as costly as the write) unless it is hot enough to be inlined, as in a loop.
    const u = this.u32;
    u[0] = fr.tsSec; u[1] = fr.tsNsec; u[2] = fr.linktype; u[3] = fr.capLen; u[4] = fr.origLen;
    p = wNum(b, p, ts);
    for (let k = 0; k < 5; k++) p = wUint(b, p, u[k]);
    b[p++] = fr.malformed ? 0xc3 : 0xc2; b[p++] = fr.truncated ? 0xc3 : 0xc2;
    // the common radio values inline (a call per field costs as much as the write)
    if (channel === null) b[p++] = 0xc0; else if ((channel | 0) === channel && channel >= 0 && channel < 0x40) b[p++] = channel; else p = wNum(b, p, channel);
    if (frequency === null) b[p++] = 0xc0; else if ((frequency | 0) === frequency && frequency >= 0x100 && frequency < 0x10000) { b[p] = 0xcd; b[p + 1] = frequency >>> 8; b[p + 2] = frequency & 0xff; p += 3; } else p = wNum(b, p, frequency);
    if (signal === null) b[p++] = 0xc0; else if ((signal | 0) === signal && signal < 0 && signal >= -0x80) { if (signal < -0x20) b[p++] = 0xd0; b[p++] = signal & 0xff; } else p = wNum(b, p, signal);
    p = wNumOrNull(b, p, noise); p = wNumOrNull(b, p, rate);
    p = wNumOrNull(b, p, durationUs);
    if (phy === null) b[p++] = 0xc0; else if (phy < 0x40) b[p++] = phy; else p = wNum(b, p, phy);
    b[p++] = fr.fcsPresent ? 0xc3 : 0xc2; b[p++] = fr.badFcs ? 0xc3 : 0xc2;
    let subtype: string | null = null;
    if (hasFc) {
      b[p++] = fr.fcType; b[p++] = fr.fcSubtype; // 2 and 4 bits
      p = wUint(b, p, ts2);
      if (ts2 < 64) { subtype = SUBTYPE_NAME[ts2]; p = wRaw(b, p, SUBTYPE_PACKED[ts2]); }
      else { subtype = subtypeName(ts2); p = wStr(b, p, subtype); }
      p = wUint(b, p, fl);
    } else {
      b[p++] = 0xc0; b[p++] = 0xc0; b[p++] = 0xc0; b[p++] = 0xc0; b[p++] = 0xc0;
    }
    b[p++] = (fl & 1) !== 0 ? 0xc3 : 0xc2; b[p++] = (fl & 2) !== 0 ? 0xc3 : 0xc2;
    b[p++] = (fl & 8) !== 0 ? 0xc3 : 0xc2; b[p++] = (fl & 0x40) !== 0 ? 0xc3 : 0xc2;
    if (durationId === null) b[p++] = 0xc0; else p = wUint(b, p, durationId);
    if (seq === null) b[p++] = 0xc0; else p = wUint(b, p, seq);
    if (frag === null) b[p++] = 0xc0; else b[p++] = frag; // 4 bits

    // addresses, in key order ra, ta, da, sa, (sa_resolved), bssid, sta; strings read from each
    // address's cache entry as soon as it has it
    const ao = this.addrOff, mac = this.addrMac, res = this.addrRes, resP = this.addrResPacked;
    const resolveAll = this.resolved;
    ao[0] = fr.ra; ao[1] = fr.ta; ao[2] = fr.da; ao[3] = fr.sa; ao[4] = fr.bssid; ao[5] = fr.staa;
    for (let k = 0; k < 6; k++) {
      const o = ao[k];
      if (o < 0) {
        mac[k] = null; res[k] = null; resP[k] = NIL;
        b[p++] = 0xc0;
        if (k === 3) b[p++] = 0xc0;
        continue;
      }
      const e = addrs.entry(a, o);
      mac[k] = e.mac;
      p = wMac(b, p, a, o);
      if (k === 3 || resolveAll) { res[k] = addrs.resolvedOf(e, a, o); resP[k] = e.resPacked!; }
      if (k === 3) p = wName(b, p, resP[3]);
    }
    const saO = ao[3];
    const ra = mac[0], ta = mac[1], da = mac[2], sa = mac[3], bssid = mac[4], sta = mac[5];
    const saResolved = res[3];

    // elements
    const ssidE = fr.ssidCount ? this.ssids.get(a, fr.ssidOff[0], fr.ssidLen[0]) : undefined;
    const ssid = ssidE ? ssidE.text : null;
    p = wRaw(b, p, ssidE ? ssidE.textPacked : NIL);
    const dsChannel = fr.dsChannel >= 0 ? fr.dsChannel : null;
    p = wNumOrNull(b, p, dsChannel);
    let country: string | null = null;
    if (fr.countryCount) {
      const co = fr.countryOff[0];
      const k = (a[co] << 8) | a[co + 1];
      let c = this.country[k];
      if (c === undefined) { const s = asciiText(a, co, 2); c = { s, p: packStr(s) }; this.country[k] = c; }
      country = c.s;
      p = wRaw(b, p, c.p);
    } else b[p++] = 0xc0;
    let wps: string | null = null;
    if (fr.wpsCount) { wps = asciiText(a, fr.wpsOff[0], fr.wpsLen[0]); p = wStr(b, p, wps); } else b[p++] = 0xc0;
    p = wNum(b, p, frame);
    p = wRaw(b, p, this.capturePacked);
    const saLocal = saO >= 0 ? (a[saO] & 2) === 2 : null;
    b[p++] = saLocal === null ? 0xc0 : saLocal ? 0xc3 : 0xc2;

    const rec: BuiltFrameRecord = {
      ts, ts_sec: fr.tsSec, ts_nsec: fr.tsNsec, linktype: fr.linktype, cap_len: fr.capLen, orig_len: fr.origLen,
      malformed: fr.malformed, truncated: fr.truncated,
      channel, frequency, signal_dbm: signal, noise_dbm: noise, data_rate_mbps: rate, duration_us: durationUs, phy,
      fcs_present: fr.fcsPresent, bad_fcs: fr.badFcs,
      fc_type: hasFc ? fr.fcType : null, fc_subtype: hasFc ? fr.fcSubtype : null, type_subtype: hasFc ? ts2 : null,
      subtype_name: subtype, flags: hasFc ? fl : null,
      to_ds: (fl & 1) !== 0, from_ds: (fl & 2) !== 0, retry: (fl & 8) !== 0, protected: (fl & 0x40) !== 0,
      duration_id: durationId, seq, frag,
      ra, ta, da, sa, sa_resolved: saResolved, bssid, sta, ssid,
      ds_channel: dsChannel, country, wps_device_name: wps, frame, capture, sa_local: saLocal,
    };

    if (this.resolved) {
      rec.ra_resolved = res[0]; p = wName(b, p, resP[0]!);
      rec.ta_resolved = res[1]; p = wName(b, p, resP[1]!);
      rec.da_resolved = res[2]; p = wName(b, p, resP[2]!);
      rec.bssid_resolved = res[4]; p = wName(b, p, resP[4]!);
    }
    if (this.ssidHex) {
      rec.ssid_hex = ssidE ? ssidE.hex : null;
      p = wRaw(b, p, ssidE ? ssidE.hexPacked : NIL);
      const n = fr.ssidCount;
      const list: string[] = [];
      p = arrayHeader(b, p, n);
      for (let i = 0; i < n; i++) {
        const e = i === 0 ? ssidE! : this.ssids.get(a, fr.ssidOff[i], fr.ssidLen[i]);
        list.push(e.hex);
        p = wRaw(b, p, e.hexPacked);
      }
      rec.ssids_hex = list;
    }
    if (this.vendorIes) {
      const n = fr.vendorCount;
      const list: VendorIe[] = [];
      p = arrayHeader(b, p, n);
      for (let i = 0; i < n; i++) {
        const e = this.vendors.get(fr.vendorOui[i], fr.vendorType[i]);
        list.push(e.ie);
        p = wRaw(b, p, e.packed);
      }
      rec.vendor_ies = list;
    }
    if (raw !== undefined) { rec.raw = raw; p = wBin(b, p, raw); }

    if (p > b.length) return undefined;
    const rs = rec as Record<symbol, unknown>;
    rs[PACKED_KEYS] = this.keys;
    rs[PACKED_SLAB] = b;
    rs[PACKED_START] = start;
    rs[PACKED_END] = p;
    rs[PACKED_RELEASE] = this.ticket;
    this.written++;
    // next record 8-byte aligned (cheaper copies of whole records later)
    this.pos = (p + 7) & ~7;
    return rec;
  }
}

/** The packed values of a record made here, as a view of its span of the slab (tests, measurements); undefined once released. */
export function packedValues(record: object): Uint8Array | undefined {
  const r = record as Record<symbol, unknown>;
  const slab = r[PACKED_SLAB] as Uint8Array | undefined;
  return slab === undefined ? undefined : slab.subarray(r[PACKED_START] as number, r[PACKED_END] as number);
}

/** msgpack of plain values concatenated by this module's writers (for tests of the writers). */
export function packPlainValues(values: ReadonlyArray<number | string | boolean | null>): Uint8Array {
  let size = 16;
  for (const v of values) size += typeof v === 'string' ? v.length * 3 + 5 : 9;
  const b = new Uint8Array(size);
  let p = 0;
  for (const v of values) {
    if (v === null) b[p++] = 0xc0;
    else if (typeof v === 'boolean') b[p++] = v ? 0xc3 : 0xc2;
    else if (typeof v === 'number') p = Number.isInteger(v) && v >= 0 && v < 2 ** 32 ? wUint(b, p, v) : wNum(b, p, v);
    else p = wStr(b, p, v);
  }
  return b.slice(0, p);
}
