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
const K_FC = K('"wlan_fc_type":["');
const K_FCTS = K('"],"wlan_fc_type_subtype":["0x');
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
}
/** Two-level cache keyed by the 24-bit halves (small integers hash much faster than doubles). */
let macBytesCache = new Map<number, Map<number, MacBytes>>();
let macBytesCount = 0;
let macBytesResolver: MacResolver | undefined;

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
    // A plain loop beats TypedArray#set for the short constant fragments written here.
    const o = this.buf;
    let p = this.pos;
    const n = k.length;
    if (n > 64) {
      o.set(k, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) o[p++] = k[i];
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
  if (macBytesResolver !== resolver || macBytesCount > 500_000) {
    macBytesCache = new Map();
    macBytesCount = 0;
    macBytesResolver = resolver;
  }
  const hi = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
  const lo = (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
  let m = macBytesCache.get(hi);
  if (m === undefined) {
    m = new Map();
    macBytesCache.set(hi, m);
  }
  let e = m.get(lo);
  if (e === undefined) {
    e = { mac: enc.encode(macToString(b, off)), resolved: enc.encode(resolver.resolve(b, off)) };
    m.set(lo, e);
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
  const ms = Math.floor(fr.tsNsec / 1e6);
  sink.int(fr.tsSec);
  sink.byte(48 + ((ms / 100) | 0));
  sink.byte(48 + (((ms / 10) | 0) % 10));
  sink.byte(48 + (ms % 10));
  sink.bytes(K_LAYERS);
  // separator state: 0 = first key pending (write '"'), 1 = subsequent (write ',"')
  let first = true;
  if (fr.hasFc) {
    sink.bytes(K_FC);
    sink.int(fr.fcType);
    sink.bytes(K_FCTS);
    const t = fr.typeSubtype;
    sink.byte(HEXB[((t >> 8) & 0xff) << 1]);
    sink.byte(HEXB[(((t >> 8) & 0xff) << 1) + 1]);
    sink.byte(HEXB[(t & 0xff) << 1]);
    sink.byte(HEXB[((t & 0xff) << 1) + 1]);
    sink.bytes(K_CLOSE);
    first = false;
  }
  if (fr.hasChannel) { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_CH); sink.int(fr.channel); sink.bytes(K_CLOSE); }
  if (fr.hasSignal) { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_SIG); sink.int(fr.signalDbm); sink.bytes(K_CLOSE); }
  if (fr.hasDuration) { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_DUR); sink.int(fr.radioDuration); sink.bytes(K_CLOSE); }
  for (let i = 0; i < 4; i++) {
    const o = i === 0 ? fr.ra : i === 1 ? fr.da : i === 2 ? fr.ta : fr.sa;
    if (o < 0) continue;
    const e = macBytesOf(b, o, resolver);
    if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); }
    sink.bytes(K_NAMES[i][0]);
    sink.bytes(e.mac);
    sink.bytes(K_NAMES[i][1]);
    sink.bytes(e.resolved);
    sink.bytes(K_CLOSE);
  }
  if (fr.bssid >= 0) { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_BSSID); sink.bytes(macBytesOf(b, fr.bssid, resolver).mac); sink.bytes(K_CLOSE); }
  if (fr.staa >= 0) { if (first) { sink.byte(34); first = false; } else { sink.byte(44); sink.byte(34); } sink.bytes(K_STAA); sink.bytes(macBytesOf(b, fr.staa, resolver).mac); sink.bytes(K_CLOSE); }
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
