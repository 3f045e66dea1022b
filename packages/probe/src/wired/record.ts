// Typed, snake_case record for downstream plugins (JSON-friendly, no Uint8Array).

import type { DnsMessage } from './dns';
import { flowKey } from './flow';
import type { WiredFrame } from './types';

export interface WiredDnsAnswer { name: string; type: number; ttl: number | null; data: string | null }

export interface WiredDnsRecord {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: { name: string; type: number }[];
  /** Answer section only (authority/additional are in `authority` / `additional`). */
  answers: WiredDnsAnswer[];
  authority: WiredDnsAnswer[];
  additional: WiredDnsAnswer[];
}

export interface WiredRecord {
  frame: number;
  /** Capture time, milliseconds since the epoch (fractional part kept). */
  ts: number;
  len: number;
  cap_len: number;
  src_mac: string | null;
  dst_mac: string | null;
  /** VLAN tags outer first (802.1ad S-tags and 802.1Q tags in wire order). */
  vlan_ids: number[];
  mpls_labels: number[];
  ip_version: 4 | 6 | null;
  ip_src: string | null;
  ip_dst: string | null;
  /** Upper-layer protocol number (after IPv6 extension headers). */
  ip_proto: number | null;
  l4: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | null;
  src_port: number | null;
  dst_port: number | null;
  /** Direction-independent key (see flowKey); null without ports. */
  flow_key: string | null;
  tcp_stream: number | null;
  udp_stream: number | null;
  dns: WiredDnsRecord | null;
  malformed: boolean;
}

function rrs(list: DnsMessage['answers']): WiredDnsAnswer[] {
  return list.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl ?? null, data: r.data ?? null }));
}

export function toWiredRecord(f: WiredFrame): WiredRecord {
  // The "main" L4 is the first one not quoted inside an ICMP error; its IP layer is the main IP.
  const l4 = f.l4.find((x) => !x.inError);
  const ip = l4 ? f.ip.find((x) => x.src === l4.src && x.dst === l4.dst && !x.inError) : f.ip.find((x) => !x.inError);
  const m = f.dns[0];
  let l4name: WiredRecord['l4'] = null;
  if (l4) l4name = l4.proto;
  else if (f.icmp) l4name = f.icmp.version === 4 ? 'icmp' : 'icmpv6';
  return {
    frame: f.frameNumber,
    ts: f.tsSec * 1000 + f.tsNsec / 1e6,
    len: f.origLen,
    cap_len: f.capLen,
    src_mac: f.srcMac ?? null,
    dst_mac: f.dstMac ?? null,
    vlan_ids: f.vlanStack.slice(),
    mpls_labels: f.mplsLabels.slice(),
    ip_version: ip ? ip.version : null,
    ip_src: ip ? ip.src : null,
    ip_dst: ip ? ip.dst : null,
    ip_proto: ip ? ip.upper : null,
    l4: l4name,
    src_port: l4 ? l4.srcPort : null,
    dst_port: l4 ? l4.dstPort : null,
    flow_key: l4 ? flowKey(l4.proto, l4.src, l4.srcPort, l4.dst, l4.dstPort, f.vlanStack) : null,
    tcp_stream: l4 && l4.proto === 'tcp' && l4.stream !== undefined ? l4.stream : null,
    udp_stream: l4 && l4.proto === 'udp' && l4.stream !== undefined ? l4.stream : null,
    dns: m
      ? {
          id: m.id, response: m.response, opcode: m.opcode, rcode: m.rcode,
          questions: m.questions.map((q) => ({ name: q.name, type: q.type })),
          answers: rrs(m.answers), authority: rrs(m.authority), additional: rrs(m.additional),
        }
      : null,
    malformed: f.malformed,
  };
}
