// tshark `-T ek` line for the pcapflow Wi-Fi field set, byte-identical to
// shared/tools/tshark-reference.sh (tshark 4.0.17). Built by string concatenation from the
// decoder scratch (no intermediate objects) so `decode --format ek` stays fast.

import type { WifiFrame } from '../wifi/decoder';
import { getMacResolver, MacResolver, macToString } from '../oui';

const HEX = '0123456789abcdef';
const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(HEX[i >> 4] + HEX[i & 15]);

function hexBytes(b: Uint8Array, off: number, len: number): string {
  if (len === 0) return '<MISSING>';
  let s = '';
  for (let i = 0; i < len; i++) s += HEX2[b[off + i]];
  return s;
}

/** Wireshark ENC_ASCII string: bytes ≥ 0x80 become U+FFFD; stops at NUL. JSON-escaped. */
export function asciiJson(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = b[off + i];
    if (c === 0) break;
    if (c >= 0x80) s += '\ufffd';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c < 0x20) {
      if (c === 0x0a) s += '\\n';
      else if (c === 0x0d) s += '\\r';
      else if (c === 0x09) s += '\\t';
      else if (c === 0x08) s += '\\b';
      else if (c === 0x0c) s += '\\f';
      else s += '\\u00' + HEX2[c];
    } else s += String.fromCharCode(c);
  }
  return s;
}

/** tshark's ek "timestamp": seconds followed by 3 ms digits. */
export function ekTimestamp(tsSec: number, tsNsec: number): string {
  const ms = Math.floor(tsNsec / 1e6);
  return String(tsSec) + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms;
}

interface MacEntry {
  mac: string;
  resolved: string;
}
/** Per-address cache of the printable and resolved forms (addresses repeat heavily). */
const macCache = new Map<number, MacEntry>();
let macCacheResolver: MacResolver | undefined;

function macEntry(b: Uint8Array, off: number, resolver: MacResolver): MacEntry {
  if (macCacheResolver !== resolver) {
    macCache.clear();
    macCacheResolver = resolver;
  }
  const k = (((b[off] << 16) | (b[off + 1] << 8) | b[off + 2]) * 16777216) + ((b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]);
  let e = macCache.get(k);
  if (e === undefined) {
    if (macCache.size > 500_000) macCache.clear();
    e = { mac: macToString(b, off), resolved: resolver.resolve(b, off) };
    macCache.set(k, e);
  }
  return e;
}

let hexView: Buffer | undefined;
let hexSrc: Uint8Array | undefined;
function hexOf(b: Uint8Array, off: number, len: number): string {
  if (len === 0) return '<MISSING>';
  if (len < 12) return hexBytes(b, off, len);
  if (hexSrc !== b) {
    hexSrc = b;
    hexView = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  return hexView!.toString('hex', off, off + len);
}

/** One ek line (without trailing newline) for a decoded Wi-Fi frame. */
export function formatEkWifi(fr: WifiFrame, resolver: MacResolver = getMacResolver()): string {
  const b = fr.buf;
  let s = '{"timestamp":"' + ekTimestamp(fr.tsSec, fr.tsNsec) + '","layers":{';
  let sep = '"';
  if (fr.hasFc) {
    const h = fr.typeSubtype.toString(16);
    s += '"wlan_fc_type":["' + fr.fcType + '"],"wlan_fc_type_subtype":["0x' + '0000'.slice(h.length) + h + '"]';
    sep = ',"';
  }
  if (fr.hasChannel) { s += sep + 'wlan_radio_channel":["' + fr.channel + '"]'; sep = ',"'; }
  if (fr.hasSignal) { s += sep + 'wlan_radio_signal_dbm":["' + fr.signalDbm + '"]'; sep = ',"'; }
  if (fr.hasDuration) { s += sep + 'wlan_radio_duration":["' + fr.radioDuration + '"]'; sep = ',"'; }
  let e: MacEntry;
  if (fr.ra >= 0) { e = macEntry(b, fr.ra, resolver); s += sep + 'wlan_ra":["' + e.mac + '"],"wlan_ra_resolved":["' + e.resolved + '"]'; sep = ',"'; }
  if (fr.da >= 0) { e = macEntry(b, fr.da, resolver); s += sep + 'wlan_da":["' + e.mac + '"],"wlan_da_resolved":["' + e.resolved + '"]'; sep = ',"'; }
  if (fr.ta >= 0) { e = macEntry(b, fr.ta, resolver); s += sep + 'wlan_ta":["' + e.mac + '"],"wlan_ta_resolved":["' + e.resolved + '"]'; sep = ',"'; }
  if (fr.sa >= 0) { e = macEntry(b, fr.sa, resolver); s += sep + 'wlan_sa":["' + e.mac + '"],"wlan_sa_resolved":["' + e.resolved + '"]'; sep = ',"'; }
  if (fr.bssid >= 0) { s += sep + 'wlan_bssid":["' + macEntry(b, fr.bssid, resolver).mac + '"]'; sep = ',"'; }
  if (fr.staa >= 0) { s += sep + 'wlan_staa":["' + macEntry(b, fr.staa, resolver).mac + '"]'; sep = ',"'; }
  if (fr.ssidCount) {
    s += sep + 'wlan_ssid":[';
    sep = ',"';
    for (let i = 0; i < fr.ssidCount; i++) s += (i ? ',"' : '"') + hexOf(b, fr.ssidOff[i], fr.ssidLen[i]) + '"';
    s += ']';
  }
  if (fr.vendorCount) {
    s += sep + 'wlan_tag_oui":[';
    sep = ',"';
    for (let i = 0; i < fr.vendorCount; i++) s += (i ? ',"' : '"') + fr.vendorOui[i] + '"';
    s += ']';
    let any = false;
    for (let i = 0; i < fr.vendorCount; i++) {
      if (fr.vendorType[i] < 0) continue;
      s += (any ? ',"' : ',"wlan_tag_vendor_oui_type":["') + fr.vendorType[i] + '"';
      any = true;
    }
    if (any) s += ']';
  }
  if (fr.vdataCount) {
    s += sep + 'wlan_tag_vendor_data":[';
    sep = ',"';
    for (let i = 0; i < fr.vdataCount; i++) s += (i ? ',"' : '"') + hexOf(b, fr.vdataOff[i], fr.vdataLen[i]) + '"';
    s += ']';
  }
  if (fr.countryCount) {
    s += sep + 'wlan_country_info_code":[';
    sep = ',"';
    for (let i = 0; i < fr.countryCount; i++) s += (i ? ',"' : '"') + asciiJson(b, fr.countryOff[i], 2) + '"';
    s += ']';
  }
  if (fr.wpsCount) {
    s += sep + 'wps_device_name":[';
    for (let i = 0; i < fr.wpsCount; i++) s += (i ? ',"' : '"') + asciiJson(b, fr.wpsOff[i], fr.wpsLen[i]) + '"';
    s += ']';
  }
  return s + '}}';
}

// ---------------------------------------------------------------------------------------------
// Byte-level writer: the same bytes as formatEkWifi + '\n', written straight into a Buffer.
// A line is assembled from cached byte fragments copied with TypedArray#set (~16 ns each, flat),
// e.g. `","layers":{…fc type…,"wlan_radio_channel":["149"]` or a whole
// `,"wlan_ta":["…"],"wlan_ta_resolved":["…"],"wlan_sa":…`: a typical line is 4-6 copies and a
// few array lookups. Byte loops (~1.5 ns a byte) are left for timestamp digits and element bytes.
// Positions are kept in locals (not in the sink) while a line is written.

const enc = new TextEncoder();
/**
 * Fragments are views into 64 KiB slabs: one backing store for hundreds of fragments (no external
 * allocation each, which drove GC), and fragments made together lie together in memory.
 */
const SLAB = 1 << 16;
let slab = new Uint8Array(SLAB);
let slabPos = 0;

/** UTF-8 bytes of `s` (a JS loop for ASCII: ~10x cheaper than TextEncoder on these short strings). */
function K(s: string): Uint8Array {
  const n = s.length;
  if (n > 4096) return enc.encode(s);
  if (slabPos + n > SLAB) {
    slab = new Uint8Array(SLAB);
    slabPos = 0;
  }
  const p = slabPos;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return enc.encode(s);
    slab[p + i] = c;
  }
  slabPos = p + n;
  return slab.subarray(p, p + n);
}
const HEXB = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  HEXB[2 * i] = HEX.charCodeAt(i >> 4);
  HEXB[2 * i + 1] = HEX.charCodeAt(i & 15);
}
/** Three ASCII digits per value 0..999. */
const DIG3 = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
  DIG3[3 * i] = 48 + ((i / 100) | 0);
  DIG3[3 * i + 1] = 48 + (((i / 10) | 0) % 10);
  DIG3[3 * i + 2] = 48 + (i % 10);
}

const K_CH = 'wlan_radio_channel":["';
const K_SIG = 'wlan_radio_signal_dbm":["';
const K_DUR = 'wlan_radio_duration":["';
const K_ROLE = ['wlan_ra', 'wlan_da', 'wlan_ta', 'wlan_sa', 'wlan_bssid', 'wlan_staa'];
/** Fragment kinds per address: the six roles, then ra+da and ta+sa of one address (most frames). */
const ROLE_RA_DA = 6;
const ROLE_TA_SA = 7;
const ROLES = 8;
const K_SSID = K('wlan_ssid":[');
const K_OUI = K('wlan_tag_oui":[');
const K_OUITYPE = K(',"wlan_tag_vendor_oui_type":[');
const K_VDATA = K('wlan_tag_vendor_data":[');
const K_COUNTRY = K('wlan_country_info_code":[');
const K_WPS = K('wps_device_name":[');
const K_MISSING = K('<MISSING>');

/** Copy `k` to `o[p..]`; returns the new position. Short fragments are copied by a loop (cheaper than #set's flat cost). */
function put(o: Uint8Array, p: number, k: Uint8Array): number {
  const n = k.length;
  if (n > 12) {
    o.set(k, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) o[p + i] = k[i];
  return p + n;
}

/** A `,"key…` fragment as the first key of "layers": without its comma (rare: frames without frame control). */
function putFirst(o: Uint8Array, p: number, k: Uint8Array, first: boolean): number {
  if (!first) return put(o, p, k);
  for (let i = 1; i < k.length; i++) o[p++] = k[i];
  return p;
}

/** Decimal integer (any number: digits via String() outside the int32 range). */
function putInt(o: Uint8Array, p: number, v: number): number {
  if (v >= 0 && v < 1000 && (v | 0) === v) {
    if (v >= 100) o[p++] = DIG3[3 * v];
    if (v >= 10) o[p++] = DIG3[3 * v + 1];
    o[p++] = DIG3[3 * v + 2];
    return p;
  }
  const s = String(v);
  for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
  return p;
}

/** `{"timestamp":"` + seconds without their last 3 digits, for the current thousand-second block. */
let tsBlock = -1;
let tsPrefix: Uint8Array = K('');

function putTimestamp(o: Uint8Array, p: number, sec: number, nsec: number): number {
  const ms = Math.floor(nsec / 1e6);
  if (sec >= 1000 && sec < 9e15 && (ms | 0) === ms && ms >= 0 && ms < 1000 && Math.floor(sec) === sec) {
    const block = Math.floor(sec / 1000);
    if (block !== tsBlock) {
      tsBlock = block;
      tsPrefix = K('{"timestamp":"' + block);
    }
    p = put(o, p, tsPrefix);
    const lo = 3 * (sec - block * 1000);
    o[p] = DIG3[lo];
    o[p + 1] = DIG3[lo + 1];
    o[p + 2] = DIG3[lo + 2];
    o[p + 3] = DIG3[3 * ms];
    o[p + 4] = DIG3[3 * ms + 1];
    o[p + 5] = DIG3[3 * ms + 2];
    return p + 6;
  }
  const s = '{"timestamp":"' + ekTimestamp(sec, nsec);
  for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
  return p;
}

/**
 * `","layers":{` + fc type/subtype + channel, by (fc, channel): `HEAD[fcIdx][chIdx]` with
 * fcIdx = 0 (no fc) or 1 + typeSubtype*4 + fcType, chIdx = 0 (no channel) or 1 + channel.
 */
const HEAD: Array<Array<Uint8Array | undefined> | undefined> = [];
const HEAD_CH_MAX = 4096;

function headString(fr: WifiFrame): string {
  let s = '","layers":{';
  if (fr.hasFc) {
    const h = fr.typeSubtype.toString(16);
    s += '"wlan_fc_type":["' + fr.fcType + '"],"wlan_fc_type_subtype":["0x' + '0000'.slice(h.length) + h + '"]';
  }
  if (fr.hasChannel) s += (fr.hasFc ? ',"' : '"') + K_CH + fr.channel + '"]';
  return s;
}

function headFrag(fr: WifiFrame): Uint8Array {
  const ts = fr.typeSubtype;
  const ch = fr.channel;
  if (ts >= 0 && ts < 0x400 && (ts | 0) === ts && ch >= 0 && ch < HEAD_CH_MAX && (ch | 0) === ch) {
    const fi = fr.hasFc ? 1 + ts * 4 + fr.fcType : 0;
    const ci = fr.hasChannel ? 1 + ch : 0;
    let row = HEAD[fi];
    if (row === undefined) {
      row = new Array<Uint8Array | undefined>(HEAD_CH_MAX + 1).fill(undefined);
      HEAD[fi] = row;
    }
    let f = row[ci];
    if (f === undefined) {
      f = K(headString(fr));
      row[ci] = f;
    }
    return f;
  }
  return K(headString(fr));
}

/** `,"key":["value"]` fragments for small integer values (index value - min), built on first use; others are built per call. */
function valueFrag(table: Array<Uint8Array | undefined>, key: string, min: number, v: number): Uint8Array {
  const i = v - min;
  if (i >= 0 && i < table.length && (i | 0) === i) {
    const f = table[i];
    if (f !== undefined) return f;
    return (table[i] = K(',"' + key + v + '"]'));
  }
  return K(',"' + key + v + '"]');
}
const SIG_MIN = -256;
const SIG_FRAGS = new Array<Uint8Array | undefined>(512).fill(undefined);
const DUR_FRAGS = new Array<Uint8Array | undefined>(1 << 16).fill(undefined);

/**
 * Address cache: open addressing on the two 24-bit halves (typed arrays) → entry id; per id and
 * role (ra, da, ta, sa, bssid, staa) the whole `,"wlan_ra":["…"],"wlan_ra_resolved":["…"]`
 * fragment, built on first use. Cleared when it holds MAC_CACHE_MAX addresses.
 */
const MAC_CACHE_MAX = 1 << 18;
/** Slots of 3 int32 (high 24 bits, low 24 bits, id) side by side: a probe touches one cache line. */
let macCap = 1 << 12;
let macSlots = new Int32Array(3 * macCap).fill(-1);
let macCount = 0;
let macFrags: Array<Uint8Array | undefined> = [];
let macStr: string[] = [];
/** Resolved names, computed on first use (bssid/staa fragments do not need them). */
let macRes: Array<string | undefined> = [];
let macResolver: MacResolver | undefined;

/** Index (into macSlots) of the slot holding hi:lo, or of the empty slot where it goes. */
function macSlot(hi: number, lo: number): number {
  const mask = macCap - 1;
  let i = (Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca6b)) >>> 0;
  i = (i ^ (i >>> 15)) & mask;
  for (;;) {
    const j = 3 * i;
    const h = macSlots[j];
    if (h === -1 || (h === hi && macSlots[j + 1] === lo)) return j;
    i = (i + 1) & mask;
  }
}

function macClear(resolver: MacResolver): void {
  macCap = 1 << 12;
  macSlots = new Int32Array(3 * macCap).fill(-1);
  macCount = 0;
  macFrags = [];
  macStr = [];
  macRes = [];
  macResolver = resolver;
}

function macGrow(): void {
  const old = macSlots;
  macCap *= 2;
  macSlots = new Int32Array(3 * macCap).fill(-1);
  for (let i = 0; i < old.length; i += 3) {
    if (old[i] === -1) continue;
    const j = macSlot(old[i], old[i + 1]);
    macSlots[j] = old[i];
    macSlots[j + 1] = old[i + 1];
    macSlots[j + 2] = old[i + 2];
  }
}

/** Entry id of the address at `b[off..off+6)`, adding it when new. */
function macIdOf(b: Uint8Array, off: number, resolver: MacResolver): number {
  if (macResolver !== resolver || macCount >= MAC_CACHE_MAX) macClear(resolver);
  const hi = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
  const lo = (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
  let j = macSlot(hi, lo);
  if (macSlots[j] !== -1) return macSlots[j + 2];
  if (macCount * 2 >= macCap) {
    macGrow();
    j = macSlot(hi, lo);
  }
  const id = macCount++;
  macSlots[j] = hi;
  macSlots[j + 1] = lo;
  macSlots[j + 2] = id;
  macStr.push(macToString(b, off));
  macRes.push(undefined);
  for (let r = 0; r < ROLES; r++) macFrags.push(undefined);
  return id;
}

function roleString(b: Uint8Array, off: number, id: number, role: number): string {
  const n = K_ROLE[role];
  if (role >= 4) return ',"' + n + '":["' + macStr[id] + '"]';
  let res = macRes[id];
  if (res === undefined) res = macRes[id] = macResolver!.resolve(b, off);
  return ',"' + n + '":["' + macStr[id] + '"],"' + n + '_resolved":["' + res + '"]';
}

/**
 * `,"wlan_<role>":["<mac>"]` (+ `,"wlan_<role>_resolved":["<name>"]` for ra/da/ta/sa), or both
 * the ra and da (ta and sa) fragments for ROLE_RA_DA (ROLE_TA_SA).
 */
function macFrag(b: Uint8Array, off: number, role: number, resolver: MacResolver): Uint8Array {
  const id = macIdOf(b, off, resolver);
  const k = id * ROLES + role;
  const f = macFrags[k];
  if (f !== undefined) return f;
  return (macFrags[k] = K(role === ROLE_RA_DA ? roleString(b, off, id, 0) + roleString(b, off, id, 1)
    : role === ROLE_TA_SA ? roleString(b, off, id, 2) + roleString(b, off, id, 3) : roleString(b, off, id, role)));
}

/** Growable output buffer for ek lines. `take()` hands out the filled bytes (a copy-free view). */
export class EkSink {
  buf: Buffer;
  pos = 0;
  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }
  /** Bytes written so far; resets the sink (the returned view stays valid: a new buffer is used). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }
}

function putHexList(o: Uint8Array, p: number, b: Uint8Array, offs: Int32Array, lens: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) {
    if (i) o[p++] = 44;
    o[p++] = 34;
    const len = lens[i];
    if (len === 0) p = put(o, p, K_MISSING);
    else {
      for (let j = offs[i], e = j + len; j < e; j++) {
        const v = b[j] << 1;
        o[p] = HEXB[v];
        o[p + 1] = HEXB[v + 1];
        p += 2;
      }
    }
    o[p++] = 34;
  }
  o[p++] = 93;
  return p;
}

/** `asciiJson` written as bytes: U+FFFD as its UTF-8 bytes, JSON escapes as asciiJson writes them. */
function putAscii(o: Uint8Array, p: number, b: Uint8Array, off: number, len: number): number {
  for (let i = off, e = off + len; i < e; i++) {
    const c = b[i];
    if (c === 0) break;
    if (c >= 0x80) {
      o[p++] = 0xef;
      o[p++] = 0xbf;
      o[p++] = 0xbd;
    } else if (c === 0x22 || c === 0x5c) {
      o[p++] = 0x5c;
      o[p++] = c;
    } else if (c < 0x20) {
      o[p++] = 0x5c;
      const esc = c === 0x0a ? 0x6e : c === 0x0d ? 0x72 : c === 0x09 ? 0x74 : c === 0x08 ? 0x62 : c === 0x0c ? 0x66 : 0;
      if (esc) o[p++] = esc;
      else {
        o[p++] = 0x75; // u00XX
        o[p++] = 0x30;
        o[p++] = 0x30;
        o[p++] = HEXB[2 * c];
        o[p++] = HEXB[2 * c + 1];
      }
    } else o[p++] = c;
  }
  return p;
}

function putAsciiList(o: Uint8Array, p: number, b: Uint8Array, offs: Int32Array, lens: Int32Array | undefined, len: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (i) o[p++] = 44;
    o[p++] = 34;
    p = putAscii(o, p, b, offs[i], lens === undefined ? len : lens[i]);
    o[p++] = 34;
  }
  o[p++] = 93;
  return p;
}

/** Append one ek line (with trailing '\n') for `fr` to `sink`; byte-identical to formatEkWifi + '\n'. */
export function writeEkWifi(fr: WifiFrame, sink: EkSink, resolver: MacResolver = getMacResolver()): void {
  const b = fr.buf;
  // Worst case: fixed parts + per element byte 6 output bytes (an escaped control character).
  sink.ensure(4096 + 8 * fr.capLen);
  const o = sink.buf;
  let p = putTimestamp(o, sink.pos, fr.tsSec, fr.tsNsec);
  p = put(o, p, headFrag(fr));
  // Fragments below start with ',"'; the first key of "layers" goes without the comma.
  let first = !fr.hasFc && !fr.hasChannel;
  if (fr.hasSignal) { p = putFirst(o, p, valueFrag(SIG_FRAGS, K_SIG, SIG_MIN, fr.signalDbm), first); first = false; }
  if (fr.hasDuration) { p = putFirst(o, p, valueFrag(DUR_FRAGS, K_DUR, 0, fr.radioDuration), first); first = false; }
  // ra = da and ta = sa are the same header field in most frames: one fragment for both.
  const ra = fr.ra, da = fr.da, ta = fr.ta, sa = fr.sa;
  if (ra >= 0 && ra === da) { p = putFirst(o, p, macFrag(b, ra, ROLE_RA_DA, resolver), first); first = false; }
  else {
    if (ra >= 0) { p = putFirst(o, p, macFrag(b, ra, 0, resolver), first); first = false; }
    if (da >= 0) { p = putFirst(o, p, macFrag(b, da, 1, resolver), first); first = false; }
  }
  if (ta >= 0 && ta === sa) { p = putFirst(o, p, macFrag(b, ta, ROLE_TA_SA, resolver), first); first = false; }
  else {
    if (ta >= 0) { p = putFirst(o, p, macFrag(b, ta, 2, resolver), first); first = false; }
    if (sa >= 0) { p = putFirst(o, p, macFrag(b, sa, 3, resolver), first); first = false; }
  }
  if (fr.bssid >= 0) { p = putFirst(o, p, macFrag(b, fr.bssid, 4, resolver), first); first = false; }
  if (fr.staa >= 0) { p = putFirst(o, p, macFrag(b, fr.staa, 5, resolver), first); first = false; }
  if (fr.ssidCount || fr.vendorCount || fr.vdataCount || fr.countryCount || fr.wpsCount) p = putElements(fr, o, p, first);
  o[p] = 125; // }}\n
  o[p + 1] = 125;
  o[p + 2] = 10;
  sink.pos = p + 3;
}

function sep(o: Uint8Array, p: number, first: boolean): number {
  if (!first) o[p++] = 44;
  o[p++] = 34;
  return p;
}

function putElements(fr: WifiFrame, o: Uint8Array, p: number, first: boolean): number {
  const b = fr.buf;
  if (fr.ssidCount) {
    p = put(o, sep(o, p, first), K_SSID);
    first = false;
    p = putHexList(o, p, b, fr.ssidOff, fr.ssidLen, fr.ssidCount);
  }
  if (fr.vendorCount) {
    p = put(o, sep(o, p, first), K_OUI);
    first = false;
    for (let i = 0; i < fr.vendorCount; i++) {
      if (i) o[p++] = 44;
      o[p++] = 34;
      p = putInt(o, p, fr.vendorOui[i]);
      o[p++] = 34;
    }
    o[p++] = 93;
    let any = false;
    for (let i = 0; i < fr.vendorCount; i++) {
      if (fr.vendorType[i] < 0) continue;
      if (!any) p = put(o, p, K_OUITYPE);
      else o[p++] = 44;
      o[p++] = 34;
      p = putInt(o, p, fr.vendorType[i]);
      o[p++] = 34;
      any = true;
    }
    if (any) o[p++] = 93;
  }
  if (fr.vdataCount) {
    p = put(o, sep(o, p, first), K_VDATA);
    first = false;
    p = putHexList(o, p, b, fr.vdataOff, fr.vdataLen, fr.vdataCount);
  }
  if (fr.countryCount) {
    p = put(o, sep(o, p, first), K_COUNTRY);
    first = false;
    p = putAsciiList(o, p, b, fr.countryOff, undefined, 2, fr.countryCount);
  }
  if (fr.wpsCount) {
    p = put(o, sep(o, p, first), K_WPS);
    p = putAsciiList(o, p, b, fr.wpsOff, fr.wpsLen, 0, fr.wpsCount);
  }
  return p;
}
