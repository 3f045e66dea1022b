// `kind: tshark-ek`: tshark `-T ek` JSON lines (a file, or stdin with '-') → the same typed
// records the capture decoders produce, so an existing tshark sensor feeds pcapflow unchanged.
//
// Understood: the "doc" lines of `tshark -T ek -e FIELD ...` (flat `layers` with arrays of
// strings, e.g. shared/tools/tshark-reference.sh and tshark-wired-reference.sh), and the full
// `tshark -T ek` form (`layers` holding one object per protocol, keys like "wlan_wlan_fc_type"),
// which is flattened. The bulk-API `{"index":...}` lines are skipped. Fields tshark did not print
// are null in the record.

import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { PcapflowError, errorMessage } from '@pcapflow/core';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { getMacResolver, isLocallyAdministeredMac, type MacResolver } from '../oui';
import { subtypeName } from '../wifi/record';
import { flowKey } from '../wired/flow';
import type { WiredDnsAnswer } from '../wired/record';
import type { FrameRecord, PacketRecord } from './processor';
import type { SourceEnv } from './file-sources';

type Layers = Record<string, string[]>;

function asStrings(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  if (v === null || v === undefined) return [];
  return [typeof v === 'string' ? v : String(v)];
}

/** Flatten the full ek form ({"wlan": {"wlan_wlan_fc_type": "0", ...}}) into "wlan_fc_type" keys. */
function flatten(layers: Record<string, unknown>): Layers {
  const out: Layers = {};
  const walk = (prefix: string | undefined, obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) {
      let key = k;
      if (prefix && key.startsWith(prefix + '_')) key = key.slice(prefix.length + 1);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) { walk(prefix ?? k, v as Record<string, unknown>); continue; }
      if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
        for (const x of v) if (x !== null && typeof x === 'object') walk(prefix ?? k, x as Record<string, unknown>);
        continue;
      }
      (out[key] ??= []).push(...asStrings(v));
    }
  };
  walk(undefined, layers);
  return out;
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '') return null;
  const n = v.startsWith('0x') ? parseInt(v, 16) : Number(v);
  return Number.isFinite(n) ? n : null;
};
const first = (l: Layers, k: string): string | undefined => l[k]?.[0];

const utf8 = new TextDecoder('utf-8', { fatal: true });

function ssidOf(v: string): { hex: string; text: string | null } {
  if (v === '<MISSING>') return { hex: '', text: '' };
  if (/^(?:[0-9a-f]{2})*$/.test(v)) {
    const bytes = Buffer.from(v, 'hex');
    try { return { hex: v, text: utf8.decode(bytes) }; } catch { return { hex: v, text: null }; }
  }
  // older tshark printed the SSID as text
  return { hex: Buffer.from(v, 'utf8').toString('hex'), text: v };
}

function timeOf(timestamp: unknown, l: Layers): { ts: number; sec: number; nsec: number } {
  const epoch = first(l, 'frame_time_epoch');
  if (epoch) {
    const [s, f = '0'] = epoch.split('.');
    const sec = Number(s);
    const nsec = Number((f + '000000000').slice(0, 9));
    return { ts: sec * 1000 + nsec / 1e6, sec, nsec };
  }
  const ms = Number(timestamp);
  const t = Number.isFinite(ms) ? ms : 0;
  return { ts: t, sec: Math.floor(t / 1000), nsec: (t % 1000) * 1e6 };
}

function ouiHex(oui: number): string {
  const h = oui.toString(16).padStart(6, '0');
  return `${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

function wifiRecord(l: Layers, t: { ts: number; sec: number; nsec: number }, frame: number, capture: string, resolver: MacResolver): FrameRecord {
  const tst = num(first(l, 'wlan_fc_type_subtype'));
  const fcType = num(first(l, 'wlan_fc_type'));
  const ssids = (l.wlan_ssid ?? []).map(ssidOf);
  const ouis = (l.wlan_tag_oui ?? []).map((x) => Number(x));
  const types = (l.wlan_tag_vendor_oui_type ?? []).map((x) => Number(x));
  const mac = (k: string) => first(l, k) ?? null;
  const resolved = (k: string) => first(l, k + '_resolved') ?? (first(l, k) ? resolver.resolveString(first(l, k)!) : null);
  const sa = mac('wlan_sa');
  const malformed = Object.keys(l).some((k) => k.startsWith('_ws_malformed') || k.startsWith('_ws_expert'));
  return {
    frame: num(first(l, 'frame_number')) ?? frame,
    capture,
    ts: t.ts, ts_sec: t.sec, ts_nsec: t.nsec,
    linktype: -1,
    cap_len: num(first(l, 'frame_cap_len')) ?? 0,
    orig_len: num(first(l, 'frame_len')) ?? 0,
    malformed, truncated: false,
    channel: num(first(l, 'wlan_radio_channel')),
    frequency: num(first(l, 'wlan_radio_frequency')),
    signal_dbm: num(first(l, 'wlan_radio_signal_dbm')),
    noise_dbm: num(first(l, 'wlan_radio_noise_dbm')),
    data_rate_mbps: num(first(l, 'wlan_radio_data_rate')),
    duration_us: num(first(l, 'wlan_radio_duration')),
    phy: num(first(l, 'wlan_radio_phy')),
    fcs_present: false, bad_fcs: false,
    fc_type: fcType,
    fc_subtype: tst === null ? null : tst & 0xf,
    type_subtype: tst,
    subtype_name: tst === null ? null : subtypeName(tst),
    flags: num(first(l, 'wlan_flags')),
    to_ds: false, from_ds: false, retry: false, protected: false,
    duration_id: num(first(l, 'wlan_duration')),
    seq: num(first(l, 'wlan_seq')),
    frag: num(first(l, 'wlan_frag')),
    ra: mac('wlan_ra'), ra_resolved: resolved('wlan_ra'),
    ta: mac('wlan_ta'), ta_resolved: resolved('wlan_ta'),
    da: mac('wlan_da'), da_resolved: resolved('wlan_da'),
    sa, sa_resolved: resolved('wlan_sa'),
    bssid: mac('wlan_bssid'), bssid_resolved: first(l, 'wlan_bssid') ? resolved('wlan_bssid') : null,
    sta: mac('wlan_staa'),
    ssid: ssids.length ? ssids[0]!.text : null,
    ssid_hex: ssids.length ? ssids[0]!.hex : null,
    ssids_hex: ssids.map((s) => s.hex),
    ds_channel: num(first(l, 'wlan_ds_current_channel')),
    country: first(l, 'wlan_country_info_code') ?? null,
    // oui types are printed only for elements that have one, so they align only when counts match
    vendor_ies: ouis.map((oui, i) => ({ oui, oui_hex: ouiHex(oui), oui_type: types.length === ouis.length ? types[i]! : null, vendor: resolver.ouiName(oui) ?? null })),
    wps_device_name: first(l, 'wps_device_name') ?? null,
    sa_local: sa ? isLocallyAdministeredMac(sa) : null,
  };
}

const strs = (l: Layers, k: string) => l[k] ?? [];

function wiredRecord(l: Layers, t: { ts: number }, frame: number, capture: string): PacketRecord {
  const v4 = l.ip_src !== undefined || l.ip_dst !== undefined;
  const src = first(l, v4 ? 'ip_src' : 'ipv6_src') ?? null;
  const dst = first(l, v4 ? 'ip_dst' : 'ipv6_dst') ?? null;
  const isTcp = l.tcp_srcport !== undefined;
  const isUdp = !isTcp && l.udp_srcport !== undefined;
  const sport = num(first(l, isTcp ? 'tcp_srcport' : 'udp_srcport'));
  const dport = num(first(l, isTcp ? 'tcp_dstport' : 'udp_dstport'));
  const vlans = [...strs(l, 'ieee8021ad_id'), ...strs(l, 'vlan_id')].map(Number);
  const l4 = isTcp ? 'tcp' : isUdp ? 'udp' : null;
  const hasDns = l.dns_id !== undefined;
  const qn = strs(l, 'dns_qry_name'), qt = strs(l, 'dns_qry_type');
  const rn = strs(l, 'dns_resp_name'), rt = strs(l, 'dns_resp_type'), ttl = strs(l, 'dns_resp_ttl');
  const a = [...strs(l, 'dns_a')], aaaa = [...strs(l, 'dns_aaaa')], cname = [...strs(l, 'dns_cname')];
  // tshark's dns_resp_* arrays are not index-aligned with the values; rebuild answers best-effort
  const answers: WiredDnsAnswer[] = rn.map((name, i) => {
    const type = Number(rt[i] ?? 0);
    const data = type === 1 ? a.shift() : type === 28 ? aaaa.shift() : type === 5 ? cname.shift() : undefined;
    return { name, type, ttl: num(ttl[i]), data: data ?? null };
  });
  return {
    frame: num(first(l, 'frame_number')) ?? frame,
    capture,
    ts: t.ts,
    len: num(first(l, 'frame_len')) ?? 0,
    cap_len: num(first(l, 'frame_cap_len')) ?? 0,
    src_mac: first(l, 'eth_src') ?? null,
    dst_mac: first(l, 'eth_dst') ?? null,
    vlan_ids: vlans,
    mpls_labels: strs(l, 'mpls_label').map(Number),
    ip_version: src ? (v4 ? 4 : 6) : null,
    ip_src: src, ip_dst: dst,
    ip_proto: num(first(l, v4 ? 'ip_proto' : 'ipv6_nxt')),
    l4,
    src_port: sport, dst_port: dport,
    flow_key: l4 && src && dst && sport !== null && dport !== null ? flowKey(l4, src, sport, dst, dport, vlans) : null,
    tcp_stream: num(first(l, 'tcp_stream')),
    udp_stream: num(first(l, 'udp_stream')),
    dns: hasDns
      ? {
          id: num(first(l, 'dns_id')) ?? 0, response: true, opcode: 0, rcode: num(first(l, 'dns_flags_rcode')) ?? 0,
          questions: qn.map((name, i) => ({ name, type: Number(qt[i] ?? 0) })),
          answers, authority: [], additional: [],
        }
      : null,
    malformed: false,
    kind: hasDns ? 'dns' : l4 ?? 'other',
  };
}

export type EkRecord = { output: 'frames'; record: FrameRecord } | { output: 'wired'; record: PacketRecord };

/**
 * Parse one line of tshark `-T ek` output. Returns undefined for index lines and blank lines;
 * throws SyntaxError for a line that is not JSON or not an ek document.
 */
export function parseEkLine(line: string, frame = 0, capture = '', resolver: MacResolver = getMacResolver()): EkRecord | undefined {
  const s = line.trim();
  if (!s) return undefined;
  const doc = JSON.parse(s) as { index?: unknown; timestamp?: unknown; layers?: Record<string, unknown> };
  if (doc.index !== undefined && doc.layers === undefined) return undefined;
  if (!doc.layers || typeof doc.layers !== 'object') throw new SyntaxError('not a tshark -T ek document line (no "layers")');
  const l = flatten(doc.layers);
  const t = timeOf(doc.timestamp, l);
  const keys = Object.keys(l);
  const wifi = keys.some((k) => k.startsWith('wlan') || k.startsWith('wps') || k.startsWith('radiotap'));
  const wired = !wifi && keys.some((k) => /^(frame_number|frame_len|eth_|ip_|ipv6_|tcp_|udp_|dns_|vlan_|ieee8021ad_)/.test(k));
  if (wired) return { output: 'wired', record: wiredRecord(l, t, frame, capture) };
  return { output: 'frames', record: wifiRecord(l, t, frame, capture, resolver) };
}

export interface TsharkEkSourceConfig { path: string }

export async function runTsharkEkSource(env: SourceEnv, cfg: TsharkEkSourceConfig, stdin: Readable = process.stdin): Promise<void> {
  const { ctx, counters } = env;
  const input: Readable = cfg.path === '-' ? stdin : createReadStream(cfg.path);
  const capture = cfg.path === '-' ? 'stdin' : path.basename(cfg.path);
  const proc = env.newProcessor(capture);
  const read = counters.get('frames_read');
  const decoded = counters.get('decoded');
  const malformed = counters.get('malformed');
  const errors = counters.get('capture_errors');
  const resolver = getMacResolver();
  const opened = new Promise<void>((resolve, reject) => {
    if (cfg.path === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  await opened.catch((e) => {
    throw new PcapflowError('PCAPFLOW_CAPTURE', `cannot read tshark ek input ${cfg.path}: ${errorMessage(e)}`, { cause: e, hint: 'check source.path (a file of tshark -T ek lines, or "-" for stdin)' });
  });
  const rl = createInterface({ input, crlfDelay: Infinity });
  const onAbort = () => rl.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let frame = 0;
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      if (ctx.signal.aborted) break;
      let r: EkRecord | undefined;
      try {
        r = parseEkLine(line, frame + 1, capture, resolver);
      } catch (e) {
        errors.inc();
        env.setProblem(`line ${lineNo}: ${(e as Error).message}`);
        continue;
      }
      if (!r) continue;
      frame++;
      read.inc();
      decoded.inc();
      if (r.record.malformed) malformed.inc();
      proc.emitRecord(r.output, r.record as unknown as Record<string, unknown>);
      if (proc.emittedSinceReady >= 1000) { proc.emittedSinceReady = 0; await ctx.ready(); }
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (cfg.path !== '-') input.destroy();
  }
  await ctx.flush();
}
