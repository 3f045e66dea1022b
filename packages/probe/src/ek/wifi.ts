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
// Byte-level writer: same output as formatEkWifi but written straight into a Buffer, avoiding
// JS string ropes (flattening them dominated `decode --format ek` at ~150k lines/s).

const enc = new TextEncoder();
const HEXB = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  HEXB[2 * i] = HEX.charCodeAt(i >> 4);
  HEXB[2 * i + 1] = HEX.charCodeAt(i & 15);
}
const K = (s: string): Uint8Array => enc.encode(s);
const K_TS = K('{"timestamp":"');
const K_LAYERS = K('","layers":{');
const K_CLOSE = K('"]');
const K_CH = K('wlan_radio_channel":["');
const K_SIG = K('wlan_radio_signal_dbm":["');
const K_DUR = K('wlan_radio_duration":["');
const K_NAMES = ['wlan_ra', 'wlan_da', 'wlan_ta', 'wlan_sa'].map((n) => [K(n + '":["'), K('"],"' + n + '_resolved":["')]);
const K_BSSID = K('wlan_bssid":["');
const K_STAA = K('wlan_staa":["');
const K_SSID = K('wlan_ssid":[');
const K_OUI = K('wlan_tag_oui":[');
const K_OUITYPE = K(',"wlan_tag_vendor_oui_type":[');
const K_VDATA = K('wlan_tag_vendor_data":[');
const K_COUNTRY = K('wlan_country_info_code":[');
const K_WPS = K('wps_device_name":[');
const K_MISSING = K('<MISSING>');
const K_END = K('}}\n');

interface MacBytes {
  mac: Uint8Array;
  resolved: Uint8Array;
  /** Whole `wlan_ra":["…"],"wlan_ra_resolved":["…"]` fragments for ra, da, ta, sa, then bssid, staa (built on first use). */
  frags: Array<Uint8Array | undefined>;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** `,"wlan_ra":["…"],"wlan_ra_resolved":["…"]` (leading `,"` included; skip 1 byte when first). */
function macFrag(e: MacBytes, i: number): Uint8Array {
  let f = e.frags[i];
  if (f === undefined) {
    f = i < 4 ? concatBytes([K_SEP, K_NAMES[i][0], e.mac, K_NAMES[i][1], e.resolved, K_CLOSE])
      : concatBytes([K_SEP, i === 4 ? K_BSSID : K_STAA, e.mac, K_CLOSE]);
    e.frags[i] = f;
  }
  return f;
}

const K_SEP = K(',"');

/**
 * Small per-value fragments, built on first use: `,"wlan_radio_channel":["149"]` etc. (leading
 * `,"`). Values outside the tables are written directly.
 */
class FragTable {
  private readonly frags: Array<Uint8Array | undefined>;
  constructor(private readonly key: Uint8Array, private readonly min: number, size: number) {
    this.frags = new Array<Uint8Array | undefined>(size).fill(undefined);
  }
  get(v: number): Uint8Array | undefined {
    const i = v - this.min;
    if (!(i >= 0 && i < this.frags.length) || (i | 0) !== i) return undefined;
    let f = this.frags[i];
    if (f === undefined) { f = concatBytes([K_SEP, this.key, K(String(v)), K_CLOSE]); this.frags[i] = f; }
    return f;
  }
}
const CH_FRAGS = new FragTable(K_CH, 0, 4096);
const SIG_FRAGS = new FragTable(K_SIG, -256, 512);
const DUR_FRAGS = new FragTable(K_DUR, 0, 1 << 16);
/** `"wlan_fc_type":["1"],"wlan_fc_type_subtype":["0x001c"]` by type/subtype (and fc type, for safety). */
const FC_FRAGS = new Map<number, Uint8Array>();

function fcFrag(fcType: number, typeSubtype: number): Uint8Array {
  const k = typeSubtype * 16 + fcType;
  let f = FC_FRAGS.get(k);
  if (f === undefined) {
    const h = typeSubtype.toString(16);
    f = K('"wlan_fc_type":["' + fcType + '"],"wlan_fc_type_subtype":["0x' + '0000'.slice(h.length) + h + '"]');
    FC_FRAGS.set(k, f);
  }
  return f;
}
/**
 * Address cache: open addressing on the two 24-bit halves in typed arrays (~3x faster than
 * nested Maps on the ~3 lookups per frame). Cleared when it reaches MAC_CACHE_MAX entries.
 */
const MAC_CACHE_MAX = 1 << 19;
let macCap = 1 << 12;
let macHi = new Int32Array(macCap).fill(-1);
let macLo = new Int32Array(macCap);
let macVal: Array<MacBytes | undefined> = new Array<MacBytes | undefined>(macCap).fill(undefined);
let macBytesCount = 0;
let macBytesResolver: MacResolver | undefined;

function macSlot(hi: number, lo: number): number {
  const mask = macCap - 1;
  let i = (Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca6b)) >>> 0;
  i = (i ^ (i >>> 15)) & mask;
  for (;;) {
    const h = macHi[i];
    if (h === -1 || (h === hi && macLo[i] === lo)) return i;
    i = (i + 1) & mask;
  }
}

function macReset(cap: number): void {
  macCap = cap;
  macHi = new Int32Array(cap).fill(-1);
  macLo = new Int32Array(cap);
  macVal = new Array<MacBytes | undefined>(cap).fill(undefined);
  macBytesCount = 0;
}

function macGrow(): void {
  const oh = macHi, ol = macLo, ov = macVal;
  macReset(macCap * 2);
  for (let i = 0; i < oh.length; i++) {
    if (oh[i] === -1) continue;
    const j = macSlot(oh[i], ol[i]);
    macHi[j] = oh[i]; macLo[j] = ol[i]; macVal[j] = ov[i];
    macBytesCount++;
  }
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
  bytes(k: Uint8Array): void {
    // TypedArray#set costs ~16 ns flat, a byte loop ~1.4 ns a byte (Node 20): loop only the tiny ones.
    const o = this.buf;
    let p = this.pos;
    const n = k.length;
    if (n > 10) {
      o.set(k, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) o[p++] = k[i];
    this.pos = p;
  }
  /** `k` from index `from` on. */
  bytesFrom(k: Uint8Array, from: number): void {
    const n = k.length - from;
    if (n > 10) {
      this.buf.set(from === 0 ? k : k.subarray(from), this.pos);
      this.pos += n;
      return;
    }
    const o = this.buf;
    let p = this.pos;
    for (let i = from; i < k.length; i++) o[p++] = k[i];
    this.pos = p;
  }
  byte(c: number): void {
    this.buf[this.pos++] = c;
  }
  int(v: number): void {
    if (v < 0) {
      this.buf[this.pos++] = 45;
      v = -v;
    }
    if (v < 10) {
      this.buf[this.pos++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      this.buf[--p] = 48 + (v - q * 10);
      v = q;
    }
    this.buf[--p] = 48 + v;
  }
  hex(b: Uint8Array, off: number, len: number): void {
    const o = this.buf;
    let p = this.pos;
    for (let i = 0; i < len; i++) {
      const v = b[off + i] << 1;
      o[p++] = HEXB[v];
      o[p++] = HEXB[v + 1];
    }
    this.pos = p;
  }
  str(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

function macBytesOf(b: Uint8Array, off: number, resolver: MacResolver): MacBytes {
  if (macBytesResolver !== resolver || macBytesCount >= MAC_CACHE_MAX) {
    macReset(1 << 12);
    macBytesResolver = resolver;
  }
  const hi = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
  const lo = (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
  let i = macSlot(hi, lo);
  let e = macVal[i];
  if (e === undefined) {
    if (macBytesCount * 2 >= macCap) { macGrow(); i = macSlot(hi, lo); }
    macHi[i] = hi;
    macLo[i] = lo;
    e = { mac: enc.encode(macToString(b, off)), resolved: enc.encode(resolver.resolve(b, off)), frags: [undefined, undefined, undefined, undefined, undefined, undefined] };
    macVal[i] = e;
    macBytesCount++;
  }
  return e;
}

/** Append one ek line (with trailing '\n') for `fr` to `sink`; byte-identical to formatEkWifi + '\n'. */
export function writeEkWifi(fr: WifiFrame, sink: EkSink, resolver: MacResolver = getMacResolver()): void {
  const b = fr.buf;
  // worst case: fixed parts + 2 hex chars per element byte
  sink.ensure(1024 + 2 * fr.capLen + 6 * (fr.wpsCount + fr.countryCount) * 64);
  sink.bytes(K_TS);
  sink.int(fr.tsSec);
  const ms = Math.floor(fr.tsNsec / 1e6);
  sink.byte(48 + ((ms / 100) | 0));
  sink.byte(48 + (((ms / 10) | 0) % 10));
  sink.byte(48 + (ms % 10));
  sink.bytes(K_LAYERS);
  // Fragments below start with ',"'; the first key of "layers" skips the comma.
  let first = true;
  if (fr.hasFc) {
    sink.bytes(fcFrag(fr.fcType, fr.typeSubtype));
    first = false;
  }
  if (fr.hasChannel) {
    const f = CH_FRAGS.get(fr.channel);
    if (f !== undefined) { sink.bytesFrom(f, first ? 1 : 0); first = false; }
    else { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_CH); sink.int(fr.channel); sink.bytes(K_CLOSE); }
  }
  if (fr.hasSignal) {
    const f = SIG_FRAGS.get(fr.signalDbm);
    if (f !== undefined) { sink.bytesFrom(f, first ? 1 : 0); first = false; }
    else { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_SIG); sink.int(fr.signalDbm); sink.bytes(K_CLOSE); }
  }
  if (fr.hasDuration) {
    const f = DUR_FRAGS.get(fr.radioDuration);
    if (f !== undefined) { sink.bytesFrom(f, first ? 1 : 0); first = false; }
    else { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_DUR); sink.int(fr.radioDuration); sink.bytes(K_CLOSE); }
  }
  if (fr.ra >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.ra, resolver), 0), first ? 1 : 0); first = false; }
  if (fr.da >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.da, resolver), 1), first ? 1 : 0); first = false; }
  if (fr.ta >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.ta, resolver), 2), first ? 1 : 0); first = false; }
  if (fr.sa >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.sa, resolver), 3), first ? 1 : 0); first = false; }
  if (fr.bssid >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.bssid, resolver), 4), first ? 1 : 0); first = false; }
  if (fr.staa >= 0) { sink.bytesFrom(macFrag(macBytesOf(b, fr.staa, resolver), 5), first ? 1 : 0); first = false; }
  if (fr.ssidCount) {
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_SSID);
    for (let i = 0; i < fr.ssidCount; i++) {
      if (i) sink.byte(44);
      sink.byte(34);
      if (fr.ssidLen[i] === 0) sink.bytes(K_MISSING);
      else sink.hex(b, fr.ssidOff[i], fr.ssidLen[i]);
      sink.byte(34);
    }
    sink.byte(93);
  }
  if (fr.vendorCount) {
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_OUI);
    for (let i = 0; i < fr.vendorCount; i++) {
      if (i) sink.byte(44);
      sink.byte(34);
      sink.int(fr.vendorOui[i]);
      sink.byte(34);
    }
    sink.byte(93);
    let any = false;
    for (let i = 0; i < fr.vendorCount; i++) {
      if (fr.vendorType[i] < 0) continue;
      if (!any) sink.bytes(K_OUITYPE);
      else sink.byte(44);
      sink.byte(34);
      sink.int(fr.vendorType[i]);
      sink.byte(34);
      any = true;
    }
    if (any) sink.byte(93);
  }
  if (fr.vdataCount) {
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_VDATA);
    for (let i = 0; i < fr.vdataCount; i++) {
      if (i) sink.byte(44);
      sink.byte(34);
      if (fr.vdataLen[i] === 0) sink.bytes(K_MISSING);
      else sink.hex(b, fr.vdataOff[i], fr.vdataLen[i]);
      sink.byte(34);
    }
    sink.byte(93);
  }
  if (fr.countryCount) {
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_COUNTRY);
    for (let i = 0; i < fr.countryCount; i++) {
      if (i) sink.byte(44);
      sink.byte(34);
      sink.str(asciiJson(b, fr.countryOff[i], 2));
      sink.byte(34);
    }
    sink.byte(93);
  }
  if (fr.wpsCount) {
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_WPS);
    for (let i = 0; i < fr.wpsCount; i++) {
      if (i) sink.byte(44);
      sink.byte(34);
      sink.str(asciiJson(b, fr.wpsOff[i], fr.wpsLen[i]));
      sink.byte(34);
    }
    sink.byte(93);
  }
  sink.bytes(K_END);
}
