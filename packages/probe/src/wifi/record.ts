// Materialise a typed, JSON-friendly record from the decoder scratch. Kept separate from the
// decode loop so that consumers that only need a few fields (or the ek line) pay nothing here.

import type { WifiFrame } from './decoder';
import { getMacResolver, MacResolver } from '../oui';

export interface VendorIe {
  oui: number;
  /** "00:50:f2" */
  oui_hex: string;
  oui_type: number | null;
  vendor: string | null;
}

export interface WifiRecord {
  /** Frame time in ms since the epoch (fractional). */
  ts: number;
  ts_sec: number;
  ts_nsec: number;
  linktype: number;
  cap_len: number;
  orig_len: number;
  malformed: boolean;
  truncated: boolean;
  // radio
  channel: number | null;
  frequency: number | null;
  signal_dbm: number | null;
  noise_dbm: number | null;
  data_rate_mbps: number | null;
  duration_us: number | null;
  phy: number | null;
  fcs_present: boolean;
  bad_fcs: boolean;
  // 802.11
  fc_type: number | null;
  fc_subtype: number | null;
  type_subtype: number | null;
  subtype_name: string | null;
  flags: number | null;
  to_ds: boolean;
  from_ds: boolean;
  retry: boolean;
  protected: boolean;
  duration_id: number | null;
  seq: number | null;
  frag: number | null;
  ra: string | null;
  ra_resolved: string | null;
  ta: string | null;
  ta_resolved: string | null;
  da: string | null;
  da_resolved: string | null;
  sa: string | null;
  sa_resolved: string | null;
  bssid: string | null;
  bssid_resolved: string | null;
  sta: string | null;
  /** First SSID element as text (UTF-8 when valid, else null); "" for wildcard. */
  ssid: string | null;
  /** First SSID element as hex bytes. */
  ssid_hex: string | null;
  ssids_hex: string[];
  ds_channel: number | null;
  country: string | null;
  vendor_ies: VendorIe[];
  wps_device_name: string | null;
}

const SUBTYPE_NAMES: Record<number, string> = {
  0x00: 'assoc_req', 0x01: 'assoc_resp', 0x02: 'reassoc_req', 0x03: 'reassoc_resp', 0x04: 'probe_req',
  0x05: 'probe_resp', 0x06: 'timing_adv', 0x08: 'beacon', 0x09: 'atim', 0x0a: 'disassoc', 0x0b: 'auth',
  0x0c: 'deauth', 0x0d: 'action', 0x0e: 'action_no_ack', 0x12: 'trigger', 0x13: 'tack', 0x14: 'bf_report_poll',
  0x15: 'vht_ndp_announce', 0x17: 'control_wrapper', 0x18: 'block_ack_req', 0x19: 'block_ack', 0x1a: 'ps_poll',
  0x1b: 'rts', 0x1c: 'cts', 0x1d: 'ack', 0x1e: 'cf_end', 0x1f: 'cf_end_ack', 0x20: 'data', 0x21: 'data_cf_ack',
  0x22: 'data_cf_poll', 0x23: 'data_cf_ack_poll', 0x24: 'null', 0x25: 'cf_ack', 0x26: 'cf_poll', 0x27: 'cf_ack_poll',
  0x28: 'qos_data', 0x29: 'qos_data_cf_ack', 0x2a: 'qos_data_cf_poll', 0x2b: 'qos_data_cf_ack_poll', 0x2c: 'qos_null',
  0x2e: 'qos_cf_poll', 0x2f: 'qos_cf_ack_poll', 0x30: 'dmg_beacon', 0x31: 's1g_beacon',
};

export function subtypeName(typeSubtype: number): string {
  return SUBTYPE_NAMES[typeSubtype] ?? `0x${typeSubtype.toString(16).padStart(4, '0')}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hex(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (b[off + i] < 16 ? '0' : '') + b[off + i].toString(16);
  return s;
}

/** Text of a fixed-length string field as tshark prints it: up to the first NUL, bytes ≥ 0x80 as U+FFFD. */
export function asciiText(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = b[off + i];
    if (c === 0) break;
    s += c >= 0x80 ? '\ufffd' : String.fromCharCode(c);
  }
  return s;
}

function ouiHex(oui: number): string {
  const h = oui.toString(16).padStart(6, '0');
  return `${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

export function toRecord(fr: WifiFrame, resolver: MacResolver = getMacResolver()): WifiRecord {
  const b = fr.buf;
  const mac = (o: number): string | null => (o >= 0 ? resolver.macString(b, o) : null);
  const res = (o: number): string | null => (o >= 0 ? resolver.resolve(b, o) : null);
  let ssid: string | null = null;
  let ssidHex: string | null = null;
  const ssids: string[] = [];
  for (let i = 0; i < fr.ssidCount; i++) ssids.push(hex(b, fr.ssidOff[i], fr.ssidLen[i]));
  if (fr.ssidCount) {
    ssidHex = ssids[0];
    try {
      ssid = utf8.decode(b.subarray(fr.ssidOff[0], fr.ssidOff[0] + fr.ssidLen[0]));
    } catch {
      ssid = null;
    }
  }
  const vendor: VendorIe[] = [];
  for (let i = 0; i < fr.vendorCount; i++) {
    const oui = fr.vendorOui[i];
    vendor.push({ oui, oui_hex: ouiHex(oui), oui_type: fr.vendorType[i] >= 0 ? fr.vendorType[i] : null, vendor: resolver.ouiName(oui) ?? null });
  }
  const fl = fr.fcFlags;
  return {
    ts: fr.tsSec * 1000 + fr.tsNsec / 1e6,
    ts_sec: fr.tsSec,
    ts_nsec: fr.tsNsec,
    linktype: fr.linktype,
    cap_len: fr.capLen,
    orig_len: fr.origLen,
    malformed: fr.malformed,
    truncated: fr.truncated,
    channel: fr.hasChannel ? fr.channel : null,
    frequency: fr.hasFrequency ? fr.frequency : null,
    signal_dbm: fr.hasSignal ? fr.signalDbm : null,
    noise_dbm: fr.hasNoise ? fr.noiseDbm : null,
    data_rate_mbps: fr.dataRate > 0 ? Math.round(fr.dataRate * 10) / 10 : null,
    duration_us: fr.hasDuration ? fr.radioDuration : null,
    phy: fr.hasRadio ? fr.phy : null,
    fcs_present: fr.fcsPresent,
    bad_fcs: fr.badFcs,
    fc_type: fr.hasFc ? fr.fcType : null,
    fc_subtype: fr.hasFc ? fr.fcSubtype : null,
    type_subtype: fr.hasFc ? fr.typeSubtype : null,
    subtype_name: fr.hasFc ? subtypeName(fr.typeSubtype) : null,
    flags: fr.hasFc ? fl : null,
    to_ds: (fl & 1) !== 0,
    from_ds: (fl & 2) !== 0,
    retry: (fl & 8) !== 0,
    protected: (fl & 0x40) !== 0,
    duration_id: fr.hasDurationId ? fr.durationId : null,
    seq: fr.hasSeq ? fr.seq : null,
    frag: fr.hasSeq ? fr.frag : null,
    ra: mac(fr.ra),
    ra_resolved: res(fr.ra),
    ta: mac(fr.ta),
    ta_resolved: res(fr.ta),
    da: mac(fr.da),
    da_resolved: res(fr.da),
    sa: mac(fr.sa),
    sa_resolved: res(fr.sa),
    bssid: mac(fr.bssid),
    bssid_resolved: res(fr.bssid),
    sta: mac(fr.staa),
    ssid,
    ssid_hex: ssidHex,
    ssids_hex: ssids,
    ds_channel: fr.dsChannel >= 0 ? fr.dsChannel : null,
    country: fr.countryCount ? asciiText(b, fr.countryOff[0], 2) : null,
    vendor_ies: vendor,
    wps_device_name: fr.wpsCount ? asciiText(b, fr.wpsOff[0], fr.wpsLen[0]) : null,
  };
}
