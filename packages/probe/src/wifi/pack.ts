// Fast msgpack encoding of frame records for the runtime's pre-packed fast path (see
// @pcapflow/core codec.ts: PACKED_KEYS / PACKED_VALUES). Each record's values are written, in a
// fixed key order, into a shared slab at emit time; the runtime then builds a batch message by
// concatenation instead of walking ~55 properties per record through msgpackr. The bytes decode
// (with the runtime's Unpackr) to exactly the record object: a test checks it, and the first
// record of every processor is checked against the key list at run time (a mismatch turns
// packing off rather than publishing a different shape).

import type { FrameRecord } from '../source/processor';
import type { VendorIe } from './record';

export const PACKED_KEYS: unique symbol = Symbol.for('pcapflow.packedKeys') as never;
export const PACKED_VALUES: unique symbol = Symbol.for('pcapflow.packedValues') as never;

/** Key order of a FrameRecord as built by PacketProcessor (toRecord's keys, then frame, capture, sa_local[, raw]). */
export const FRAME_KEYS: readonly string[] = Object.freeze([
  'ts', 'ts_sec', 'ts_nsec', 'linktype', 'cap_len', 'orig_len', 'malformed', 'truncated',
  'channel', 'frequency', 'signal_dbm', 'noise_dbm', 'data_rate_mbps', 'duration_us', 'phy', 'fcs_present', 'bad_fcs',
  'fc_type', 'fc_subtype', 'type_subtype', 'subtype_name', 'flags', 'to_ds', 'from_ds', 'retry', 'protected',
  'duration_id', 'seq', 'frag', 'ra', 'ra_resolved', 'ta', 'ta_resolved', 'da', 'da_resolved', 'sa', 'sa_resolved',
  'bssid', 'bssid_resolved', 'sta', 'ssid', 'ssid_hex', 'ssids_hex', 'ds_channel', 'country', 'vendor_ies',
  'wps_device_name', 'frame', 'capture', 'sa_local',
]);
export const FRAME_KEYS_RAW: readonly string[] = Object.freeze([...FRAME_KEYS, 'raw']);

const SLAB = 1 << 22;
/** Room guaranteed before a record starts (a record without raw bytes is far smaller). */
const MIN_ROOM = 1 << 16;

/** Appends msgpack values to big slabs; `end()` hands out the bytes since `begin()`. */
export class MsgWriter {
  private buf = Buffer.allocUnsafeSlow(SLAB);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  /** Plain Uint8Array over the slab: its subarray() is cheaper than Buffer's. */
  private u8 = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private pos = 0;
  private start = 0;

  begin(): void {
    if (this.buf.length - this.pos < MIN_ROOM) this.newSlab(0);
    this.start = this.pos;
  }

  end(): Uint8Array {
    const b = this.u8.subarray(this.start, this.pos);
    // Keep the next record 8-byte aligned (cheaper copies of whole records later).
    this.pos = (this.pos + 7) & ~7;
    return b;
  }

  private newSlab(need: number): void {
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(SLAB, (used + need) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
    this.u8 = new Uint8Array(next.buffer, next.byteOffset, next.length);
    this.start = 0;
    this.pos = used;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.newSlab(n);
  }

  nil(): void { this.ensure(1); this.buf[this.pos++] = 0xc0; }

  bool(v: boolean): void { this.ensure(1); this.buf[this.pos++] = v ? 0xc3 : 0xc2; }

  /** Numbers as msgpackr writes them with useRecords (0x40..0x7f never as a fixint). */
  num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (Number.isInteger(v)) {
      if (v >= 0) {
        if (v < 0x40) { b[this.pos++] = v; return; }
        if (v < 0x100) { b[this.pos++] = 0xcc; b[this.pos++] = v; return; }
        if (v < 0x10000) { b[this.pos++] = 0xcd; this.view.setUint16(this.pos, v); this.pos += 2; return; }
        if (v < 0x100000000) { b[this.pos++] = 0xce; this.view.setUint32(this.pos, v); this.pos += 4; return; }
      } else {
        if (v >= -0x20) { b[this.pos++] = v & 0xff; return; }
        if (v >= -0x80) { b[this.pos++] = 0xd0; this.view.setInt8(this.pos, v); this.pos += 1; return; }
        if (v >= -0x8000) { b[this.pos++] = 0xd1; this.view.setInt16(this.pos, v); this.pos += 2; return; }
        if (v >= -0x80000000) { b[this.pos++] = 0xd2; this.view.setInt32(this.pos, v); this.pos += 4; return; }
      }
    }
    b[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  numOrNull(v: number | null): void { if (v === null) this.nil(); else this.num(v); }

  str(s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 5);
    const b = this.buf;
    const p0 = this.pos;
    if (n < 32) {
      let p = p0 + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) { b[p0] = 0xa0 | n; this.pos = p; return; }
    }
    // general case: UTF-8 length first, then the header that fits it
    const len = Buffer.byteLength(s, 'utf8');
    let p = p0;
    if (len < 32) b[p++] = 0xa0 | len;
    else if (len < 0x100) { b[p++] = 0xd9; b[p++] = len; }
    else if (len < 0x10000) { b[p++] = 0xda; this.view.setUint16(p, len); p += 2; }
    else { b[p++] = 0xdb; this.view.setUint32(p, len); p += 4; }
    b.write(s, p, len, 'utf8');
    this.pos = p + len;
  }

  strOrNull(s: string | null): void { if (s === null) this.nil(); else this.str(s); }

  arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) { b[this.pos++] = 0xdc; this.view.setUint16(this.pos, n); this.pos += 2; }
    else { b[this.pos++] = 0xdd; this.view.setUint32(this.pos, n); this.pos += 4; }
  }

  /** Bytes that are already msgpack. */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  bin(v: Uint8Array): void {
    const n = v.length;
    this.ensure(n + 5);
    const b = this.buf;
    if (n < 0x100) { b[this.pos++] = 0xc4; b[this.pos++] = n; }
    else if (n < 0x10000) { b[this.pos++] = 0xc5; this.view.setUint16(this.pos, n); this.pos += 2; }
    else { b[this.pos++] = 0xc6; this.view.setUint32(this.pos, n); this.pos += 4; }
    b.set(v, this.pos);
    this.pos += n;
  }
}

/** `d4 72 7f ["oui","oui_hex","oui_type","vendor"]`: an inline msgpackr record definition (id 0x7f, reserved for nested records). */
const VENDOR_IE_DEF = Uint8Array.from([
  0xd4, 0x72, 0x7f, 0x94,
  0xa3, ...Buffer.from('oui'), 0xa7, ...Buffer.from('oui_hex'), 0xa8, ...Buffer.from('oui_type'), 0xa6, ...Buffer.from('vendor'),
]);

function vendorIe(w: MsgWriter, v: VendorIe): void {
  w.raw(VENDOR_IE_DEF);
  w.num(v.oui); w.str(v.oui_hex); w.numOrNull(v.oui_type); w.strOrNull(v.vendor);
}

/** True when `r`'s own keys are exactly FRAME_KEYS (or FRAME_KEYS_RAW), in order. */
export function hasFrameShape(r: object): boolean {
  const keys = Object.keys(r);
  const want = keys.length === FRAME_KEYS_RAW.length ? FRAME_KEYS_RAW : FRAME_KEYS;
  if (keys.length !== want.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== want[i]) return false;
  const v = (r as { vendor_ies?: unknown }).vendor_ies;
  if (Array.isArray(v)) for (const e of v) { const k = Object.keys(e as object); if (k.join() !== 'oui,oui_hex,oui_type,vendor') return false; }
  return true;
}

/** Writes `r`'s values in FRAME_KEYS order and attaches them (and the key list) to `r`. */
export function packFrameRecord(r: FrameRecord, w: MsgWriter): void {
  w.begin();
  w.num(r.ts); w.num(r.ts_sec); w.num(r.ts_nsec); w.num(r.linktype); w.num(r.cap_len); w.num(r.orig_len);
  w.bool(r.malformed); w.bool(r.truncated);
  w.numOrNull(r.channel); w.numOrNull(r.frequency); w.numOrNull(r.signal_dbm); w.numOrNull(r.noise_dbm);
  w.numOrNull(r.data_rate_mbps); w.numOrNull(r.duration_us); w.numOrNull(r.phy); w.bool(r.fcs_present); w.bool(r.bad_fcs);
  w.numOrNull(r.fc_type); w.numOrNull(r.fc_subtype); w.numOrNull(r.type_subtype); w.strOrNull(r.subtype_name);
  w.numOrNull(r.flags); w.bool(r.to_ds); w.bool(r.from_ds); w.bool(r.retry); w.bool(r.protected);
  w.numOrNull(r.duration_id); w.numOrNull(r.seq); w.numOrNull(r.frag);
  w.strOrNull(r.ra); w.strOrNull(r.ra_resolved); w.strOrNull(r.ta); w.strOrNull(r.ta_resolved);
  w.strOrNull(r.da); w.strOrNull(r.da_resolved); w.strOrNull(r.sa); w.strOrNull(r.sa_resolved);
  w.strOrNull(r.bssid); w.strOrNull(r.bssid_resolved); w.strOrNull(r.sta);
  w.strOrNull(r.ssid); w.strOrNull(r.ssid_hex);
  const ssids = r.ssids_hex;
  w.arrayHeader(ssids.length);
  for (let i = 0; i < ssids.length; i++) w.str(ssids[i]);
  w.numOrNull(r.ds_channel); w.strOrNull(r.country);
  const v = r.vendor_ies;
  w.arrayHeader(v.length);
  for (let i = 0; i < v.length; i++) vendorIe(w, v[i]);
  w.strOrNull(r.wps_device_name);
  w.num(r.frame); w.str(r.capture);
  if (r.sa_local === null) w.nil(); else w.bool(r.sa_local);
  let keys = FRAME_KEYS;
  if (r.raw !== undefined) { w.bin(r.raw); keys = FRAME_KEYS_RAW; }
  const rr = r as unknown as Record<symbol, unknown>;
  rr[PACKED_KEYS] = keys;
  rr[PACKED_VALUES] = w.end();
}
