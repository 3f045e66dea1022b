// Synthetic radiotap frames, a minimal pcap writer and a tshark runner for tests that compare the
// decoder with tshark on frames the corpus lacks (HE, TLVs, ...).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A radiotap field: present bit (32+ = later bitmap words), alignment and little-endian bytes. */
export interface RtField {
  bit: number;
  align: number;
  bytes: number[];
}

/** A radiotap TLV; `len` overrides the length field, `noPad` leaves out the 4-byte padding. */
export interface RtTlv {
  type: number;
  bytes: number[];
  len?: number;
  noPad?: boolean;
}

export const le16 = (v: number): number[] => [v & 255, (v >>> 8) & 255];
export const le32 = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];

/**
 * Radiotap header: present words from the field bits (EXT bits set as needed), each field padded
 * to its alignment from the header start, then (if `tlvs`) bit 28 and the 4-aligned TLV area.
 * `words` gives the present words verbatim instead (fields are then laid out as given).
 */
export function radiotap(fields: RtField[], tlvs?: RtTlv[], words?: number[]): number[] {
  let w = words;
  if (!w) {
    const n = Math.floor(Math.max(0, ...fields.map((f) => f.bit)) / 32) + 1;
    w = new Array<number>(n).fill(0);
    for (const f of fields) w[f.bit >> 5] = (w[f.bit >> 5] | (1 << (f.bit & 31))) >>> 0;
    for (let i = 0; i < n - 1; i++) w[i] = (w[i] | 0x80000000) >>> 0;
    if (tlvs) w[n - 1] = (w[n - 1] | (1 << 28)) >>> 0;
  }
  const out = [0, 0, 0, 0];
  for (const x of w) out.push(...le32(x));
  for (const f of fields) {
    while (out.length % f.align) out.push(0);
    out.push(...f.bytes);
  }
  if (tlvs) {
    while (out.length % 4) out.push(0);
    for (const t of tlvs) {
      out.push(...le16(t.type), ...le16(t.len ?? t.bytes.length), ...t.bytes);
      if (!t.noPad) while (out.length % 4) out.push(0);
    }
  }
  return setLength(out);
}

/** Rewrite the radiotap length field to the array's length (after appending bytes to a header). */
export function setLength(h: number[]): number[] {
  h[2] = h.length & 255;
  h[3] = h.length >> 8;
  return h;
}

/** Radiotap HE field (bit 23); null = not known. */
export function heField(o: { format?: number; mcs?: number | null; bwru?: number | null; gi?: number | null; nsts?: number }): RtField {
  let d1 = o.format ?? 0;
  let d2 = 0;
  let d3 = 0;
  let d5 = 0;
  const d6 = (o.nsts ?? 1) & 15;
  if (o.mcs != null) { d1 |= 0x0020; d3 |= (o.mcs & 15) << 8; }
  if (o.bwru != null) { d1 |= 0x4000; d5 |= o.bwru & 15; }
  if (o.gi != null) { d2 |= 0x0002; d5 |= (o.gi & 3) << 4; }
  return { bit: 23, align: 2, bytes: [...le16(d1), ...le16(d2), ...le16(d3), ...le16(0), ...le16(d5), ...le16(d6)] };
}

export const channel = (mhz: number, flags: number): RtField => ({ bit: 3, align: 2, bytes: [...le16(mhz), ...le16(flags)] });
export const signal = (dbm: number): RtField => ({ bit: 5, align: 1, bytes: [dbm & 255] });
export const rate = (halfMbps: number): RtField => ({ bit: 2, align: 1, bytes: [halfMbps] });

/** QoS-less data frame, ToDS, with `payload` bytes (no FCS). */
export function dataFrame(payload = 20): number[] {
  const h = [0x08, 0x01, 0x2c, 0x00, 0x00, 0x0c, 0x41, 0x82, 0xb2, 0x55, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00];
  for (let i = 0; i < payload; i++) h.push(i & 255);
  return h;
}

/** ACK control frame (10 bytes). */
export const ackFrame = (): number[] => [0xd4, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x41, 0x82, 0xb2, 0x55];

export interface TestPacket {
  bytes: number[];
  /** Captured length (default: all bytes). */
  capLen?: number;
  /** Reported length (default: all bytes). */
  origLen?: number;
}

/** Classic little-endian pcap, µs timestamps, one second apart from 2023-11-14. */
export function pcapBytes(linktype: number, packets: TestPacket[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(linktype, 20);
  parts.push(gh);
  packets.forEach((p, i) => {
    const data = Buffer.from(p.bytes);
    const cap = p.capLen ?? data.length;
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(1700000000 + i, 0);
    ph.writeUInt32LE(i * 1000, 4);
    ph.writeUInt32LE(cap, 8);
    ph.writeUInt32LE(p.origLen ?? data.length, 12);
    parts.push(ph, data.subarray(0, cap));
  });
  return Buffer.concat(parts);
}

/** Writes a pcap in a new temporary directory; remove it with `removeTemp(file)`. */
export function writeTempPcap(name: string, linktype: number, packets: TestPacket[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-rt-'));
  const file = path.join(dir, name);
  writeFileSync(file, pcapBytes(linktype, packets));
  return file;
}

export function removeTemp(file: string): void {
  rmSync(path.dirname(file), { recursive: true, force: true });
}

/** The field list of shared/tools/tshark-reference.sh (the corpus references' `-T ek` fields). */
export const REFERENCE_FIELDS = [
  'wlan.fc.type', 'wlan.fc.type_subtype', 'wlan_radio.channel', 'wlan_radio.signal_dbm', 'wlan_radio.duration',
  'wlan.ra', 'wlan.ra_resolved', 'wlan.da', 'wlan.da_resolved', 'wlan.ta', 'wlan.ta_resolved', 'wlan.sa', 'wlan.sa_resolved',
  'wlan.bssid', 'wlan.staa', 'wlan.ssid', 'wlan.tag.oui', 'wlan.tag.vendor.oui.type', 'wlan.tag.vendor.data',
  'wlan.country_info.code', 'wps.device_name',
];

export function tsharkVersion(): string | undefined {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /TShark \(Wireshark\) ([0-9.]+)/.exec(r.stdout)?.[1];
}

function runTshark(args: string[]): string {
  // an empty personal configuration, as tshark-reference.sh uses
  const cfg = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-wscfg-'));
  const r = spawnSync('tshark', ['-Q', '-n', '-N', 'm', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC', WIRESHARK_CONFIG_DIR: cfg },
  });
  rmSync(cfg, { recursive: true, force: true });
  if (r.error || r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** `tshark -T ek` doc lines with the reference fields, as tshark-reference.sh prints them. */
export function tsharkEk(file: string): string[] {
  const args = ['-r', file, '-T', 'ek'];
  for (const f of REFERENCE_FIELDS) args.push('-e', f);
  return runTshark(args).split('\n').filter((l) => l.length > 0 && !l.startsWith('{"index":'));
}

/** `tshark -T fields`: one array of column strings per frame (all occurrences joined by '|'). */
export function tsharkFields(file: string, fields: string[]): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|'];
  for (const f of fields) args.push('-e', f);
  const out = runTshark(args);
  return out.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
}
