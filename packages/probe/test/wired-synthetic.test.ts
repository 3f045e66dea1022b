// Edge cases the public corpus does not cover (802.1ad, ICMP errors, IPv4 fragments, TCP port
// reuse, DNS over TCP, GRE/ERSPAN/PPTP/Aruba, MPLS, SLL/SLL2/raw/null linktypes, snaplen cuts,
// odd DNS records and names...). Frames are built here; EXPECTED below is verbatim tshark 4.0.17
// output (shared/tools/tshark-wired-reference.sh) for the pcaps this file writes when
// WIRED_SYNTH_DIR is set. To regenerate after adding a case:
//   WIRED_SYNTH_DIR=/tmp/synth npx jest test/wired-synthetic      (writes NAME.pcap + our output)
//   for f in /tmp/synth/*.pcap; do b=${f%.pcap}
//     ../../../shared/tools/tshark-wired-reference.sh flows $f > $b.flows.jsonl
//     ../../../shared/tools/tshark-wired-reference.sh dns $f > $b.dns.jsonl; done
// and paste each file's lines into EXPECTED[NAME].flows / .dns (never edit them by hand; use
// TSHARK_WRONG for documented tshark bugs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WiredDecoder, formatEkDns, formatEkFlows } from '../src/wired';

// ---- frame builders -------------------------------------------------------------------------
type B = number[];
const u16 = (n: number): B => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): B => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ip4 = (s: string): B => s.split('.').map(Number);
function ip6(s: string): B {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) s = s.slice(0, dotted.index) + ((+dotted[1] << 8) | +dotted[2]).toString(16) + ':' + ((+dotted[3] << 8) | +dotted[4]).toString(16);
  const [h, t] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = h ? h.split(':') : [];
  const ts = t ? t.split(':') : [];
  const groups = t === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}
const MAC_A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B = [0x00, 0x66, 0x77, 0x88, 0x99, 0xaa];
const eth = (type: number, p: B, dst = MAC_B, src = MAC_A): B => [...dst, ...src, ...u16(type), ...p];
const vlan = (tpid: number, id: number, type: number, p: B): B => [...u16(tpid), ...u16(id), ...u16(type), ...p].slice(2);
function csum(h: B): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += (h[i] << 8) | (h[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function ipv4(proto: number, src: string, dst: string, p: B, o: { id?: number; flags?: number; fragOff?: number; opts?: B; totalLen?: number; ttl?: number } = {}): B {
  const opts = o.opts ?? [];
  const hl = 20 + opts.length;
  const h = [0x40 | (hl / 4), 0, ...u16(o.totalLen ?? hl + p.length), ...u16(o.id ?? 1), ...u16(((o.flags ?? 0) << 13) | ((o.fragOff ?? 0) / 8)), o.ttl ?? 64, proto, 0, 0, ...ip4(src), ...ip4(dst), ...opts];
  const c = csum(h);
  h[10] = c >> 8; h[11] = c & 0xff;
  return [...h, ...p];
}
const ipv6 = (nxt: number, src: string, dst: string, p: B, plen?: number): B => [0x60, 0, 0, 0, ...u16(plen ?? p.length), nxt, 64, ...ip6(src), ...ip6(dst), ...p];
const udp = (sp: number, dp: number, p: B, len?: number): B => [...u16(sp), ...u16(dp), ...u16(len ?? 8 + p.length), 0, 0, ...p];
const TH = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };
const tcp = (sp: number, dp: number, seq: number, ack: number, flags: number, p: B = []): B => [...u16(sp), ...u16(dp), ...u32(seq), ...u32(ack), 0x50, flags, ...u16(8192), 0, 0, 0, 0, ...p];

// DNS
function name(n: string): B {
  if (n === '') return [0];
  return [...n.split('.').flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0))]), 0];
}
const rr = (n: B, type: number, ttl: number, rdata: B, cls = 1): B => [...n, ...u16(type), ...u16(cls), ...u32(ttl), ...u16(rdata.length), ...rdata];
function dns(id: number, flags: number, qs: B[], an: B[], ns: B[] = [], ar: B[] = []): B {
  return [...u16(id), ...u16(flags), ...u16(qs.length), ...u16(an.length), ...u16(ns.length), ...u16(ar.length), ...qs.flat(), ...an.flat(), ...ns.flat(), ...ar.flat()];
}
const q = (n: string, type: number): B => [...name(n), ...u16(type), ...u16(1)];
const txt = (...s: string[]): B => s.flatMap((x) => [x.length, ...[...x].map((c) => c.charCodeAt(0))]);

// ---- cases ----------------------------------------------------------------------------------
interface Case { linktype: number; frames: B[]; /** frame index -> bytes captured (snaplen cut) */ cut?: Record<number, number> }
const C1 = '192.168.1.10', S1 = '192.168.1.1';

const bigResponse = dns(0xbeef, 0x8180, [q('example.com', 255)], [
  rr([0xc0, 12], 1, 300, ip4('93.184.216.34')),
  rr([0xc0, 12], 28, 300, ip6('2001:db8::1')),
  rr(name('www.example.com'), 5, 60, [3, 0x77, 0x77, 0x77, 0xc0, 12]),
  rr([0xc0, 12], 15, 3600, [...u16(10), ...name('mail.example.com')]),
  rr([0xc0, 12], 16, 3600, txt('v=spf1 -all', 'hello world')),
  rr(name('_sip._udp.example.com'), 33, 86400, [...u16(1), ...u16(2), ...u16(5060), ...name('sip.example.com')]),
  rr([0xc0, 12], 6, 2147483648, [...name('ns1.example.com'), ...name('admin.example.com'), ...u32(1), ...u32(2), ...u32(3), ...u32(4), ...u32(5)]),
  rr(name('4.3.2.1.in-addr.arpa'), 12, 10, name('host.example.com')),
  rr([0xc0, 12], 65280, 10, [1, 2, 3]),
  rr([0xc0, 12], 28, 1, ip6('::ffff:1.2.3.4')),
  rr([0xc0, 12], 28, 1, ip6('::1.2.3.4')),
  rr([0xc0, 12], 28, 1, ip6('2001:db8:0:0:1:0:0:1')),
  rr([0xc0, 12], 28, 1, ip6('::')),
  rr([0xc0, 12], 28, 1, ip6('fe80::1:0:0:0')),
], [rr([0xc0, 12], 2, 172800, name('ns1.example.com'))], [
  rr(name(''), 41, 0x00008000, [], 4096),
  rr(name('a b.example.com'), 1, 5, ip4('10.0.0.1')),
  rr(name('x.example.com'), 47, 5, [...name('y.example.com'), 0, 6, 0x40, 0x01, 0x00, 0x08, 0x00, 0x03]),
]);

const fragPayload = udp(53, 40000, dns(0x1234, 0x8180, [q('frag.example', 1)], [
  rr([0xc0, 12], 1, 60, ip4('10.1.1.1')), rr([0xc0, 12], 1, 60, ip4('10.1.1.2')), rr([0xc0, 12], 16, 60, txt('x'.repeat(60))),
]));

const tcpDnsResp = dns(0x4321, 0x8180, [q('tcp.example', 1)], [rr([0xc0, 12], 1, 30, ip4('10.9.9.9'))]);
const tcpDnsFramed = [...u16(tcpDnsResp.length), ...tcpDnsResp];
const tcpDnsQuery = dns(0x4321, 0x0100, [q('tcp.example', 1)], []);

export const CASES: Record<string, Case> = {
  vlan_qinq_dns: {
    linktype: 1,
    frames: [
      eth(0x88a8, vlan(0x88a8, 100, 0x8100, vlan(0x8100, 200, 0x0800, ipv4(17, S1, C1, udp(53, 33333, bigResponse))))),
      eth(0x8100, vlan(0x8100, 5, 0x8100, vlan(0x8100, 6, 0x0800, ipv4(17, C1, S1, udp(33333, 53, dns(0xbeef, 0x0100, [q('example.com', 255)], [])))))),
      eth(0x9100, vlan(0x9100, 7, 0x0800, ipv4(17, C1, S1, udp(33334, 53, [])))),
      eth(0x0800, ipv4(17, C1, '224.0.0.251', udp(5353, 5353, dns(0, 0x8400, [], [rr(name('printer._ipp._tcp.local'), 33, 120, [...u16(0), ...u16(0), ...u16(631), ...name('printer.local')], 0x8001), rr(name('_ipp._tcp.local'), 33, 120, [...u16(0), ...u16(0), ...u16(631), ...name('printer.local')], 0x8001)])))),
      eth(0x0800, ipv4(17, C1, S1, udp(5355, 50000, dns(7, 0x8000, [q('wpad', 1)], [rr([0xc0, 12], 1, 30, ip4('10.0.0.7'))])))),
      // 802.3 + LLC/SNAP carrying IPv4
      [...MAC_B, ...MAC_A, ...u16(8 + 20 + 8), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...ipv4(17, C1, S1, udp(1000, 2000, []))],
      // IPv4 with options (router alert) + UDP
      eth(0x0800, ipv4(17, C1, S1, udp(1000, 2000, [1, 2]), { opts: [0x94, 0x04, 0, 0] })),
    ],
  },
  ip_frag_icmp: {
    linktype: 1,
    frames: [
      // second fragment first, then first fragment -> reassembled in frame 2
      eth(0x0800, ipv4(17, S1, C1, fragPayload.slice(48), { id: 77, fragOff: 48 })),
      eth(0x0800, ipv4(17, S1, C1, fragPayload.slice(0, 48), { id: 77, flags: 1 })),
      // lone first fragment (never completed)
      eth(0x0800, ipv4(17, S1, C1, fragPayload.slice(0, 48), { id: 78, flags: 1 })),
      // ICMP port unreachable quoting IPv4/UDP
      eth(0x0800, ipv4(1, S1, C1, [3, 3, 0, 0, 0, 0, 0, 0, ...ipv4(17, C1, S1, udp(44444, 161, [0, 0, 0, 0]))])),
      // the quoted flow itself, afterwards
      eth(0x0800, ipv4(17, C1, S1, udp(44444, 161, [1]))),
      // ICMP time exceeded quoting IPv4/TCP (8 bytes of TCP)
      eth(0x0800, ipv4(1, S1, C1, [11, 0, 0, 0, 0, 0, 0, 0, ...ipv4(6, C1, '8.8.8.8', tcp(5555, 443, 1, 0, TH.SYN)).slice(0, 28)])),
      // ICMP echo
      eth(0x0800, ipv4(1, C1, '8.8.8.8', [8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3])),
      // IPv4 header cut at 12 bytes / 18 bytes
      eth(0x0800, ipv4(6, C1, S1, tcp(1, 2, 3, 4, TH.ACK)).slice(0, 12)),
      eth(0x0800, ipv4(6, C1, S1, tcp(1, 2, 3, 4, TH.ACK)).slice(0, 18)),
      // TCP header cut: 3, 10 and 15 bytes
      eth(0x0800, ipv4(6, C1, S1, tcp(7000, 80, 3, 4, TH.ACK)).slice(0, 23)),
      eth(0x0800, ipv4(6, C1, S1, tcp(7001, 80, 3, 4, TH.ACK)).slice(0, 30)),
      eth(0x0800, ipv4(6, C1, S1, tcp(7002, 80, 3, 4, TH.ACK)).slice(0, 35)),
      // UDP with bad length 4 and UDP header cut at 6 bytes
      eth(0x0800, ipv4(17, C1, S1, udp(9000, 9001, [1, 2, 3], 4))),
      eth(0x0800, ipv4(17, C1, S1, udp(9002, 9003, [])).slice(0, 26)),
      // IPv4 total length < header length, 12 bytes captured
      eth(0x0800, ipv4(6, C1, S1, tcp(1, 2, 3, 4, TH.ACK), { totalLen: 12 }).slice(0, 12)),
      // IPv6 header cut at 7, 24 and 30 bytes
      eth(0x86dd, ipv6(17, '2001:db8::1', '2001:db8::2', udp(1, 2, [])).slice(0, 7)),
      eth(0x86dd, ipv6(17, '2001:db8::1', '2001:db8::2', udp(1, 2, [])).slice(0, 24)),
      eth(0x86dd, ipv6(17, '2001:db8::1', '2001:db8::2', udp(1, 2, [])).slice(0, 30)),
      // IPv4 total length 0 (TSO)
      eth(0x0800, ipv4(17, C1, S1, udp(9004, 9005, [1, 2]), { totalLen: 0 })),
    ],
  },
  tcp_reuse_dns: {
    linktype: 1,
    frames: [
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 1000, 0, TH.SYN))),
      eth(0x0800, ipv4(6, S1, C1, tcp(80, 40000, 9000, 1001, TH.SYN | TH.ACK))),
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 1001, 9001, TH.ACK))),
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 1000, 0, TH.SYN))), // retransmitted SYN, same seq
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 1001, 9001, TH.FIN | TH.ACK))),
      eth(0x0800, ipv4(6, S1, C1, tcp(80, 40000, 9001, 1002, TH.FIN | TH.ACK))),
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 5000, 0, TH.SYN))), // port reuse: new stream
      eth(0x0800, ipv4(6, S1, C1, tcp(80, 40000, 7000, 5001, TH.SYN | TH.ACK))),
      eth(0x0800, ipv4(6, S1, C1, tcp(80, 40000, 7000, 5001, TH.RST))),
      eth(0x0800, ipv4(6, C1, S1, tcp(40000, 80, 6000, 0, TH.SYN))), // after RST, new seq
      eth(0x0800, ipv4(6, C1, S1, tcp(40001, 81, 100, 0, TH.ACK))), // mid-stream start
      eth(0x0800, ipv4(6, C1, S1, tcp(40001, 81, 99, 0, TH.SYN))), // SYN with seq == base
      // DNS over TCP: query in one segment, response split in two
      eth(0x0800, ipv4(6, C1, S1, tcp(40100, 53, 1, 1, TH.ACK | TH.PSH, [...u16(tcpDnsQuery.length), ...tcpDnsQuery]))),
      eth(0x0800, ipv4(6, S1, C1, tcp(53, 40100, 1, 100, TH.ACK | TH.PSH, tcpDnsFramed.slice(0, 20)))),
      eth(0x0800, ipv4(6, S1, C1, tcp(53, 40100, 21, 100, TH.ACK | TH.PSH, tcpDnsFramed.slice(20)))),
      // two DNS responses in one segment
      eth(0x0800, ipv4(6, S1, C1, tcp(53, 40100, 1 + tcpDnsFramed.length, 100, TH.ACK | TH.PSH, [...tcpDnsFramed, ...tcpDnsFramed]))),
    ],
  },
  tunnels_v6: {
    linktype: 1,
    frames: [
      // GRE carrying IPv4/UDP
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0, 0, 0x08, 0x00, ...ipv4(17, C1, S1, udp(1111, 2222, []))])),
      // GRE TEB carrying Ethernet + VLAN 42 + IPv4/TCP
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0x20, 0, 0x65, 0x58, 0, 0, 0, 9, ...eth(0x8100, vlan(0x8100, 42, 0x0800, ipv4(6, C1, S1, tcp(3333, 4444, 1, 0, TH.SYN))))])),
      // IPv6 hop-by-hop + dest options + UDP
      eth(0x86dd, ipv6(0, '2001:db8::10', '2001:db8::20', [60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0, ...udp(5000, 6000, [1, 2, 3])])),
      // ICMPv6 dest unreachable quoting IPv6/UDP
      eth(0x86dd, ipv6(58, '2001:db8::20', '2001:db8::10', [1, 4, 0, 0, 0, 0, 0, 0, ...ipv6(17, '2001:db8::10', '2001:db8::20', udp(5000, 6000, [1, 2, 3]))])),
      // IPv6 in IPv4 (6in4)
      eth(0x0800, ipv4(41, '1.1.1.1', '2.2.2.2', ipv6(6, '2001:db8::1', '2001:db8::2', tcp(1, 2, 3, 0, TH.SYN)))),
      // MPLS two labels + IPv4
      eth(0x8847, [...u32((16 << 12) | 64), ...u32((17 << 12) | 0x100 | 64), ...ipv4(17, C1, S1, udp(7, 9, []))]),
      // MPLS + IPv6
      eth(0x8847, [...u32((18 << 12) | 0x100 | 64), ...ipv6(17, '2001:db8::1', '2001:db8::2', udp(7, 9, []))]),
      // MPLS + PW control word + Ethernet + IPv4
      eth(0x8847, [...u32((19 << 12) | 0x100 | 64), 0, 0, 0, 0, ...eth(0x0800, ipv4(17, C1, S1, udp(7, 9, [])))]),
      // ERSPAN type II (GRE seq present, 8-byte ERSPAN header) -> Ethernet/IPv4/UDP
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x64, 0, 0, 0, 0, 0, 0, ...eth(0x0800, ipv4(17, C1, S1, udp(7001, 7002, [])))])),
      // ERSPAN type III (12-byte header) -> Ethernet/IPv4/TCP
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0x10, 0, 0x22, 0xeb, 0, 0, 0, 2, 0x20, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...eth(0x0800, ipv4(6, C1, S1, tcp(7003, 7004, 1, 0, TH.SYN)))])),
      // enhanced GRE (PPTP data): key + seq, PPP FF03 0021 IPv4/UDP
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0x30, 0x01, 0x88, 0x0b, 0, 32, 0, 5, 0, 0, 0, 1, 0xff, 0x03, 0x00, 0x21, ...ipv4(17, '10.0.0.1', '10.0.0.2', udp(137, 137, []))])),
      // Aruba GRE 0x8210 carrying an 802.11 null-data frame
      eth(0x0800, ipv4(47, '1.1.1.1', '2.2.2.2', [0, 0, 0x82, 0x10, 0x48, 0x01, 0, 0, ...MAC_A, ...MAC_B, ...MAC_A, 0x10, 0])),
      // IPv6 routing header type 0 + TCP
      eth(0x86dd, ipv6(43, '2001:db8::1', '2001:db8::2', [6, 2, 0, 1, 0, 0, 0, 0, ...ip6('2001:db8::3'), ...tcp(10, 20, 1, 0, TH.SYN)])),
    ],
  },
  dns_odd: {
    linktype: 1,
    frames: [
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1000, bigResponse))), // cut by snaplen (see `cut`)
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1001, bigResponse))),
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1002, bigResponse))),
      // compression pointer loop in an answer name
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1003, dns(1, 0x8180, [q('loop.example', 1)], [rr([0xc0, 0x1e], 1, 5, ip4('1.2.3.4'))])))),
      // odd label bytes: control char, UTF-8, dot and backslash inside a label
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1004, dns(2, 0x8183, [[3, 0x61, 0x01, 0x62, 2, 0xc3, 0xa9, 3, 0x61, 0x2e, 0x5c, 0, 0, 1, 0, 1]], [[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 9, 9, 9, 9]])))),
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1008, dns(7, 0x8180, [[9, 0x0a, 0x7f, 0x1f, 0xff, 0x09, 0x22, 0x07, 0x0d, 0x20, 4, 0xe2, 0x82, 0xac, 0xc3, 0, 0, 1, 0, 1]], [])))),
      // A with rdlength 5, AAAA with rdlength 4, CNAME to root
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1005, dns(3, 0x8580, [q('odd.example', 1)], [rr([0xc0, 12], 1, 5, [1, 2, 3, 4, 5]), rr([0xc0, 12], 28, 5, [1, 2, 3, 4]), rr([0xc0, 12], 5, 5, [0])])))),
      // response with zero questions/answers and a query (not in dns output)
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1006, dns(4, 0x8182, [], [])))),
      eth(0x0800, ipv4(17, C1, S1, udp(1006, 53, dns(5, 0x0100, [q('q.example', 1)], [])))),
      // DNS header shorter than 12 bytes
      eth(0x0800, ipv4(17, S1, C1, udp(53, 1007, [0, 6, 0x81, 0x80, 0, 1]))),
    ],
    cut: { 0: 14 + 20 + 8 + 12 + 17 + 16 + 28 + 5, 1: 14 + 20 + 8 + 12 + 17 + 16 + 28 + 12, 2: 14 + 20 + 8 + 12 + 10 },
  },
  // tshark 4.0.17 bug, documented exception (see TSHARK_WRONG below)
  tshark_spf_overrun: {
    linktype: 1,
    frames: [eth(0x0800, ipv4(17, S1, C1, udp(53, 1010, dns(9, 0x8180, [q('spf.example', 99)], [rr([0xc0, 12], 99, 10, [1, 2, 3]), rr([0xc0, 12], 1, 20, ip4('1.2.3.4'))]))))],
  },
  sll: { linktype: 113, frames: [[0, 0, 0, 1, 0, 6, ...MAC_A, 0, 0, ...u16(0x0800), ...ipv4(17, C1, S1, udp(1, 2, []))], [0, 4, 0, 1, 0, 6, ...MAC_A, 0, 0, ...u16(0x86dd), ...ipv6(17, '::1', '::2', udp(1, 2, []))]] },
  sll2: { linktype: 276, frames: [[...u16(0x0800), 0, 0, ...u32(2), ...u16(1), 0, 6, ...MAC_A, 0, 0, ...ipv4(6, C1, S1, tcp(1, 2, 3, 0, TH.SYN))]] },
  raw: { linktype: 101, frames: [ipv4(17, C1, S1, udp(1, 2, [])), ipv6(17, '::1', '::2', udp(1, 2, []))] },
  null: { linktype: 0, frames: [[2, 0, 0, 0, ...ipv4(17, C1, S1, udp(1, 2, []))], [30, 0, 0, 0, ...ipv6(17, '::1', '::2', udp(1, 2, []))]] },
};

function pcap(c: Case): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); h.writeUInt32LE(65535, 16); h.writeUInt32LE(c.linktype, 20);
  parts.push(h);
  c.frames.forEach((fr, i) => {
    const r = Buffer.alloc(16);
    const cap = c.cut?.[i] ?? fr.length;
    r.writeUInt32LE(1700000000 + i, 0); r.writeUInt32LE(123456 * (i + 1) % 1000000, 4); r.writeUInt32LE(cap, 8); r.writeUInt32LE(fr.length, 12);
    parts.push(r, Buffer.from(fr.slice(0, cap)));
  });
  return Buffer.concat(parts);
}

function decodeCase(c: Case): { flows: string[]; dns: string[] } {
  const dec = new WiredDecoder();
  const flows: string[] = [], dnsL: string[] = [];
  c.frames.forEach((fr, i) => {
    const cap = c.cut?.[i] ?? fr.length;
    const f = dec.decode({ linktype: c.linktype, tsSec: 1700000000 + i, tsNsec: (123456 * (i + 1) % 1000000) * 1000, capLen: cap, origLen: fr.length, data: new Uint8Array(fr.slice(0, cap)), interfaceId: 0 });
    flows.push(formatEkFlows(f));
    const d = formatEkDns(f);
    if (d) dnsL.push(d);
  });
  return { flows, dns: dnsL };
}

if (process.env.WIRED_SYNTH_DIR) {
  fs.mkdirSync(process.env.WIRED_SYNTH_DIR, { recursive: true });
  for (const [n, c] of Object.entries(CASES)) {
    fs.writeFileSync(path.join(process.env.WIRED_SYNTH_DIR, n + '.pcap'), pcap(c));
    const got = decodeCase(c);
    fs.writeFileSync(path.join(process.env.WIRED_SYNTH_DIR, n + '.ours.flows'), got.flows.join('\n') + '\n');
    fs.writeFileSync(path.join(process.env.WIRED_SYNTH_DIR, n + '.ours.dns'), got.dns.join('\n') + '\n');
  }
}

/**
 * Where tshark 4.0.17 is provably wrong we keep the RFC behaviour and state it here, per case,
 * frame and field; the test compares against tshark's line with exactly these fields replaced.
 *
 * tshark_spf_overrun frame 1: answer 1 is SPF (type 99) with RDLENGTH 3, RDATA 01 02 03 (a 1-byte
 * string then a string claiming 3 bytes). packet-dns.c 4.0 keeps reading SPF strings past RDLENGTH
 * (into the next RR: c0 0c 00 01 ...), hits the end of the message and throws, so the following
 * A record (spf.example 20 IN A 1.2.3.4) disappears from its output. RFC 1035 3.2.1 bounds RDATA by
 * RDLENGTH; we flag the SPF RR's data as malformed and go on with the next RR at offset +RDLENGTH.
 * (TXT, type 16, has the same loop in 4.0.)
 */
const TSHARK_WRONG: Record<string, Record<number, Record<string, string[]>>> = {
  tshark_spf_overrun: {
    1: {
      dns_resp_name: ['spf.example', 'spf.example'],
      dns_resp_type: ['99', '1'],
      dns_resp_ttl: ['10', '20'],
      dns_a: ['1.2.3.4'],
    },
  },
};
const DNS_FIELDS = ['frame_number', 'frame_time_epoch', 'dns_id', 'dns_flags_rcode', 'dns_qry_name', 'dns_qry_type', 'dns_resp_name', 'dns_resp_type', 'dns_resp_ttl', 'dns_a', 'dns_aaaa', 'dns_cname'];

function patchDns(caseName: string, line: string): string {
  const o = JSON.parse(line) as { timestamp: string; layers: Record<string, string[]> };
  const fix = TSHARK_WRONG[caseName]?.[Number(o.layers.frame_number[0])];
  if (!fix) return line;
  const layers: Record<string, string[]> = {};
  for (const k of DNS_FIELDS) {
    const v = fix[k] ?? o.layers[k];
    if (v) layers[k] = v;
  }
  return JSON.stringify({ timestamp: o.timestamp, layers });
}

describe('synthetic edge cases equal tshark 4.0.17', () => {
  it('exposes Aruba GRE 802.11 bytes for the Wi-Fi decoder', () => {
    const c = CASES.tunnels_v6;
    const fr = c.frames[11];
    const f = new WiredDecoder().decode({ linktype: 1, tsSec: 0, tsNsec: 0, capLen: fr.length, origLen: fr.length, data: new Uint8Array(fr), interfaceId: 0 });
    expect(f.gre).toEqual([0x8210]);
    expect(f.wlan.length).toBe(1);
    expect([...f.wlan[0].subarray(0, 2)]).toEqual([0x48, 0x01]);
    expect(f.wlan[0].length).toBe(24);
  });

  for (const [n, c] of Object.entries(CASES)) {
    it(n, () => {
      const exp = EXPECTED[n];
      expect(exp).toBeDefined();
      const got = decodeCase(c);
      expect(got.flows).toEqual(exp.flows);
      expect(got.dns).toEqual(exp.dns.map((l) => patchDns(n, l)));
    });
  }
});

// ---- tshark 4.0.17 output (generated, see header) --------------------------------------------
const EXPECTED: Record<string, { flows: string[]; dns: string[] }> = {
  dns_odd: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"664\"],\"frame_cap_len\":[\"120\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1000\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"664\"],\"frame_cap_len\":[\"127\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1001\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"frame_len\":[\"664\"],\"frame_cap_len\":[\"64\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1002\"],\"udp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"frame_len\":[\"88\"],\"frame_cap_len\":[\"88\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1003\"],\"udp_stream\":[\"3\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"frame_len\":[\"86\"],\"frame_cap_len\":[\"86\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1004\"],\"udp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"frame_len\":[\"74\"],\"frame_cap_len\":[\"74\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1008\"],\"udp_stream\":[\"5\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"frame_len\":[\"117\"],\"frame_cap_len\":[\"117\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1005\"],\"udp_stream\":[\"6\"]}}",
      "{\"timestamp\":\"1700000007987\",\"layers\":{\"frame_number\":[\"8\"],\"frame_time_epoch\":[\"1700000007.987648000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1006\"],\"udp_stream\":[\"7\"]}}",
      "{\"timestamp\":\"1700000008111\",\"layers\":{\"frame_number\":[\"9\"],\"frame_time_epoch\":[\"1700000008.111104000\"],\"frame_len\":[\"69\"],\"frame_cap_len\":[\"69\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1006\"],\"udp_dstport\":[\"53\"],\"udp_stream\":[\"7\"]}}",
      "{\"timestamp\":\"1700000009234\",\"layers\":{\"frame_number\":[\"10\"],\"frame_time_epoch\":[\"1700000009.234560000\"],\"frame_len\":[\"48\"],\"frame_cap_len\":[\"48\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1007\"],\"udp_stream\":[\"8\"]}}",
    ],
    dns: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"dns_id\":[\"0xbeef\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"example.com\"],\"dns_qry_type\":[\"255\"],\"dns_resp_name\":[\"example.com\",\"example.com\"],\"dns_resp_type\":[\"1\",\"28\"],\"dns_resp_ttl\":[\"300\",\"300\"],\"dns_a\":[\"93.184.216.34\"],\"dns_aaaa\":[\"2001:db8::1\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"dns_id\":[\"0xbeef\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"example.com\"],\"dns_qry_type\":[\"255\"],\"dns_resp_name\":[\"example.com\",\"example.com\"],\"dns_resp_type\":[\"1\",\"28\"],\"dns_resp_ttl\":[\"300\",\"300\"],\"dns_a\":[\"93.184.216.34\"],\"dns_aaaa\":[\"2001:db8::1\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"dns_id\":[\"0xbeef\"],\"dns_flags_rcode\":[\"0\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"dns_id\":[\"0x0001\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"loop.example\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"<Name contains a pointer that loops>\"],\"dns_resp_type\":[\"1\"],\"dns_resp_ttl\":[\"5\"],\"dns_a\":[\"1.2.3.4\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"dns_id\":[\"0x0002\"],\"dns_flags_rcode\":[\"3\"],\"dns_qry_name\":[\"a\\\\001b.\u00e9.a.\\\\\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"a\\\\001b.\u00e9.a.\\\\\"],\"dns_resp_type\":[\"1\"],\"dns_resp_ttl\":[\"5\"],\"dns_a\":[\"9.9.9.9\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"dns_id\":[\"0x0007\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"\\\\n\\\\177\\\\037\ufffd\\\\t\\\"\\\\a\\\\r .\u20ac\ufffd\"],\"dns_qry_type\":[\"1\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"dns_id\":[\"0x0003\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"odd.example\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"odd.example\",\"odd.example\",\"odd.example\"],\"dns_resp_type\":[\"1\",\"28\",\"5\"],\"dns_resp_ttl\":[\"5\",\"5\",\"5\"],\"dns_a\":[\"1.2.3.4\"],\"dns_aaaa\":[\"102:304:c00c:5:1:0:5:1\"],\"dns_cname\":[\"<Root>\"]}}",
      "{\"timestamp\":\"1700000007987\",\"layers\":{\"frame_number\":[\"8\"],\"frame_time_epoch\":[\"1700000007.987648000\"],\"dns_id\":[\"0x0004\"],\"dns_flags_rcode\":[\"2\"]}}",
      "{\"timestamp\":\"1700000009234\",\"layers\":{\"frame_number\":[\"10\"],\"frame_time_epoch\":[\"1700000009.234560000\"],\"dns_id\":[\"0x0006\"],\"dns_flags_rcode\":[\"0\"]}}",
    ],
  },
  ip_frag_icmp: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"129\"],\"frame_cap_len\":[\"129\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"82\"],\"frame_cap_len\":[\"82\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"40000\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"frame_len\":[\"82\"],\"frame_cap_len\":[\"82\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"frame_len\":[\"74\"],\"frame_cap_len\":[\"74\"],\"ip_src\":[\"192.168.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.10\",\"192.168.1.1\"],\"ip_proto\":[\"1\",\"17\"],\"udp_srcport\":[\"44444\"],\"udp_dstport\":[\"161\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"frame_len\":[\"43\"],\"frame_cap_len\":[\"43\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"44444\"],\"udp_dstport\":[\"161\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"frame_len\":[\"70\"],\"frame_cap_len\":[\"70\"],\"ip_src\":[\"192.168.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.10\",\"8.8.8.8\"],\"ip_proto\":[\"1\",\"6\"],\"tcp_srcport\":[\"5555\"],\"tcp_dstport\":[\"443\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"frame_len\":[\"45\"],\"frame_cap_len\":[\"45\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"8.8.8.8\"],\"ip_proto\":[\"1\"]}}",
      "{\"timestamp\":\"1700000007987\",\"layers\":{\"frame_number\":[\"8\"],\"frame_time_epoch\":[\"1700000007.987648000\"],\"frame_len\":[\"26\"],\"frame_cap_len\":[\"26\"],\"ip_proto\":[\"6\"]}}",
      "{\"timestamp\":\"1700000008111\",\"layers\":{\"frame_number\":[\"9\"],\"frame_time_epoch\":[\"1700000008.111104000\"],\"frame_len\":[\"32\"],\"frame_cap_len\":[\"32\"],\"ip_src\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"]}}",
      "{\"timestamp\":\"1700000009234\",\"layers\":{\"frame_number\":[\"10\"],\"frame_time_epoch\":[\"1700000009.234560000\"],\"frame_len\":[\"37\"],\"frame_cap_len\":[\"37\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"]}}",
      "{\"timestamp\":\"1700000010358\",\"layers\":{\"frame_number\":[\"11\"],\"frame_time_epoch\":[\"1700000010.358016000\"],\"frame_len\":[\"44\"],\"frame_cap_len\":[\"44\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"7001\"],\"tcp_dstport\":[\"80\"]}}",
      "{\"timestamp\":\"1700000011481\",\"layers\":{\"frame_number\":[\"12\"],\"frame_time_epoch\":[\"1700000011.481472000\"],\"frame_len\":[\"49\"],\"frame_cap_len\":[\"49\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"7002\"],\"tcp_dstport\":[\"80\"]}}",
      "{\"timestamp\":\"1700000012604\",\"layers\":{\"frame_number\":[\"13\"],\"frame_time_epoch\":[\"1700000012.604928000\"],\"frame_len\":[\"45\"],\"frame_cap_len\":[\"45\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"9000\"],\"udp_dstport\":[\"9001\"]}}",
      "{\"timestamp\":\"1700000013728\",\"layers\":{\"frame_number\":[\"14\"],\"frame_time_epoch\":[\"1700000013.728384000\"],\"frame_len\":[\"40\"],\"frame_cap_len\":[\"40\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"9002\"],\"udp_dstport\":[\"9003\"]}}",
      "{\"timestamp\":\"1700000014851\",\"layers\":{\"frame_number\":[\"15\"],\"frame_time_epoch\":[\"1700000014.851840000\"],\"frame_len\":[\"26\"],\"frame_cap_len\":[\"26\"]}}",
      "{\"timestamp\":\"1700000015975\",\"layers\":{\"frame_number\":[\"16\"],\"frame_time_epoch\":[\"1700000015.975296000\"],\"frame_len\":[\"21\"],\"frame_cap_len\":[\"21\"],\"ipv6_nxt\":[\"17\"]}}",
      "{\"timestamp\":\"1700000016098\",\"layers\":{\"frame_number\":[\"17\"],\"frame_time_epoch\":[\"1700000016.098752000\"],\"frame_len\":[\"38\"],\"frame_cap_len\":[\"38\"],\"ipv6_src\":[\"2001:db8::1\"],\"ipv6_nxt\":[\"17\"]}}",
      "{\"timestamp\":\"1700000017222\",\"layers\":{\"frame_number\":[\"18\"],\"frame_time_epoch\":[\"1700000017.222208000\"],\"frame_len\":[\"44\"],\"frame_cap_len\":[\"44\"],\"ipv6_src\":[\"2001:db8::1\"],\"ipv6_nxt\":[\"17\"]}}",
      "{\"timestamp\":\"1700000018345\",\"layers\":{\"frame_number\":[\"19\"],\"frame_time_epoch\":[\"1700000018.345664000\"],\"frame_len\":[\"44\"],\"frame_cap_len\":[\"44\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"9004\"],\"udp_dstport\":[\"9005\"],\"udp_stream\":[\"2\"]}}",
    ],
    dns: [
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"dns_id\":[\"0x1234\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"frag.example\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"frag.example\",\"frag.example\",\"frag.example\"],\"dns_resp_type\":[\"1\",\"1\",\"16\"],\"dns_resp_ttl\":[\"60\",\"60\",\"60\"],\"dns_a\":[\"10.1.1.1\",\"10.1.1.2\"]}}",
    ],
  },
  null: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"32\"],\"frame_cap_len\":[\"32\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"52\"],\"frame_cap_len\":[\"52\"],\"ipv6_src\":[\"::1\"],\"ipv6_dst\":[\"::2\"],\"ipv6_nxt\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"1\"]}}",
    ],
    dns: [
    ],
  },
  raw: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"28\"],\"frame_cap_len\":[\"28\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"48\"],\"frame_cap_len\":[\"48\"],\"ipv6_src\":[\"::1\"],\"ipv6_dst\":[\"::2\"],\"ipv6_nxt\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"1\"]}}",
    ],
    dns: [
    ],
  },
  sll: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"44\"],\"frame_cap_len\":[\"44\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"64\"],\"frame_cap_len\":[\"64\"],\"ipv6_src\":[\"::1\"],\"ipv6_dst\":[\"::2\"],\"ipv6_nxt\":[\"17\"],\"udp_srcport\":[\"1\"],\"udp_dstport\":[\"2\"],\"udp_stream\":[\"1\"]}}",
    ],
    dns: [
    ],
  },
  sll2: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"60\"],\"frame_cap_len\":[\"60\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"1\"],\"tcp_dstport\":[\"2\"],\"tcp_stream\":[\"0\"]}}",
    ],
    dns: [
    ],
  },
  tcp_reuse_dns: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"80\"],\"tcp_dstport\":[\"40000\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"80\"],\"tcp_dstport\":[\"40000\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000007987\",\"layers\":{\"frame_number\":[\"8\"],\"frame_time_epoch\":[\"1700000007.987648000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"80\"],\"tcp_dstport\":[\"40000\"],\"tcp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000008111\",\"layers\":{\"frame_number\":[\"9\"],\"frame_time_epoch\":[\"1700000008.111104000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"80\"],\"tcp_dstport\":[\"40000\"],\"tcp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000009234\",\"layers\":{\"frame_number\":[\"10\"],\"frame_time_epoch\":[\"1700000009.234560000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40000\"],\"tcp_dstport\":[\"80\"],\"tcp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000010358\",\"layers\":{\"frame_number\":[\"11\"],\"frame_time_epoch\":[\"1700000010.358016000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40001\"],\"tcp_dstport\":[\"81\"],\"tcp_stream\":[\"3\"]}}",
      "{\"timestamp\":\"1700000011481\",\"layers\":{\"frame_number\":[\"12\"],\"frame_time_epoch\":[\"1700000011.481472000\"],\"frame_len\":[\"54\"],\"frame_cap_len\":[\"54\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40001\"],\"tcp_dstport\":[\"81\"],\"tcp_stream\":[\"3\"]}}",
      "{\"timestamp\":\"1700000012604\",\"layers\":{\"frame_number\":[\"13\"],\"frame_time_epoch\":[\"1700000012.604928000\"],\"frame_len\":[\"85\"],\"frame_cap_len\":[\"85\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"40100\"],\"tcp_dstport\":[\"53\"],\"tcp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000013728\",\"layers\":{\"frame_number\":[\"14\"],\"frame_time_epoch\":[\"1700000013.728384000\"],\"frame_len\":[\"74\"],\"frame_cap_len\":[\"74\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"53\"],\"tcp_dstport\":[\"40100\"],\"tcp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000014851\",\"layers\":{\"frame_number\":[\"15\"],\"frame_time_epoch\":[\"1700000014.851840000\"],\"frame_len\":[\"81\"],\"frame_cap_len\":[\"81\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"53\"],\"tcp_dstport\":[\"40100\"],\"tcp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000015975\",\"layers\":{\"frame_number\":[\"16\"],\"frame_time_epoch\":[\"1700000015.975296000\"],\"frame_len\":[\"148\"],\"frame_cap_len\":[\"148\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"6\"],\"tcp_srcport\":[\"53\"],\"tcp_dstport\":[\"40100\"],\"tcp_stream\":[\"4\"]}}",
    ],
    dns: [
      "{\"timestamp\":\"1700000014851\",\"layers\":{\"frame_number\":[\"15\"],\"frame_time_epoch\":[\"1700000014.851840000\"],\"dns_id\":[\"0x4321\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"tcp.example\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"tcp.example\"],\"dns_resp_type\":[\"1\"],\"dns_resp_ttl\":[\"30\"],\"dns_a\":[\"10.9.9.9\"]}}",
      "{\"timestamp\":\"1700000015975\",\"layers\":{\"frame_number\":[\"16\"],\"frame_time_epoch\":[\"1700000015.975296000\"],\"dns_id\":[\"0x4321\",\"0x4321\"],\"dns_flags_rcode\":[\"0\",\"0\"],\"dns_qry_name\":[\"tcp.example\",\"tcp.example\"],\"dns_qry_type\":[\"1\",\"1\"],\"dns_resp_name\":[\"tcp.example\",\"tcp.example\"],\"dns_resp_type\":[\"1\",\"1\"],\"dns_resp_ttl\":[\"30\",\"30\"],\"dns_a\":[\"10.9.9.9\",\"10.9.9.9\"]}}",
    ],
  },
  tshark_spf_overrun: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"102\"],\"frame_cap_len\":[\"102\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"1010\"],\"udp_stream\":[\"0\"]}}",
    ],
    dns: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"dns_id\":[\"0x0009\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"spf.example\"],\"dns_qry_type\":[\"99\"],\"dns_resp_name\":[\"spf.example\"],\"dns_resp_type\":[\"99\"],\"dns_resp_ttl\":[\"10\"]}}",
    ],
  },
  tunnels_v6: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"66\"],\"frame_cap_len\":[\"66\"],\"ip_src\":[\"1.1.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"2.2.2.2\",\"192.168.1.1\"],\"ip_proto\":[\"47\",\"17\"],\"udp_srcport\":[\"1111\"],\"udp_dstport\":[\"2222\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"100\"],\"frame_cap_len\":[\"100\"],\"vlan_id\":[\"42\"],\"ip_src\":[\"1.1.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"2.2.2.2\",\"192.168.1.1\"],\"ip_proto\":[\"47\",\"6\"],\"tcp_srcport\":[\"3333\"],\"tcp_dstport\":[\"4444\"],\"tcp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"frame_len\":[\"81\"],\"frame_cap_len\":[\"81\"],\"ipv6_src\":[\"2001:db8::10\"],\"ipv6_dst\":[\"2001:db8::20\"],\"ipv6_nxt\":[\"0\"],\"udp_srcport\":[\"5000\"],\"udp_dstport\":[\"6000\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"frame_len\":[\"113\"],\"frame_cap_len\":[\"113\"],\"ipv6_src\":[\"2001:db8::20\",\"2001:db8::10\"],\"ipv6_dst\":[\"2001:db8::10\",\"2001:db8::20\"],\"ipv6_nxt\":[\"58\",\"17\"],\"udp_srcport\":[\"5000\"],\"udp_dstport\":[\"6000\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"frame_len\":[\"94\"],\"frame_cap_len\":[\"94\"],\"ip_src\":[\"1.1.1.1\"],\"ip_dst\":[\"2.2.2.2\"],\"ip_proto\":[\"41\"],\"ipv6_src\":[\"2001:db8::1\"],\"ipv6_dst\":[\"2001:db8::2\"],\"ipv6_nxt\":[\"6\"],\"tcp_srcport\":[\"1\"],\"tcp_dstport\":[\"2\"],\"tcp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"frame_len\":[\"50\"],\"frame_cap_len\":[\"50\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"7\"],\"udp_dstport\":[\"9\"],\"udp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"frame_len\":[\"66\"],\"frame_cap_len\":[\"66\"],\"ipv6_src\":[\"2001:db8::1\"],\"ipv6_dst\":[\"2001:db8::2\"],\"ipv6_nxt\":[\"17\"],\"udp_srcport\":[\"7\"],\"udp_dstport\":[\"9\"],\"udp_stream\":[\"3\"]}}",
      "{\"timestamp\":\"1700000007987\",\"layers\":{\"frame_number\":[\"8\"],\"frame_time_epoch\":[\"1700000007.987648000\"],\"frame_len\":[\"64\"],\"frame_cap_len\":[\"64\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"7\"],\"udp_dstport\":[\"9\"],\"udp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000008111\",\"layers\":{\"frame_number\":[\"9\"],\"frame_time_epoch\":[\"1700000008.111104000\"],\"frame_len\":[\"92\"],\"frame_cap_len\":[\"92\"],\"ip_src\":[\"1.1.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"2.2.2.2\",\"192.168.1.1\"],\"ip_proto\":[\"47\",\"17\"],\"udp_srcport\":[\"7001\"],\"udp_dstport\":[\"7002\"],\"udp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000009234\",\"layers\":{\"frame_number\":[\"10\"],\"frame_time_epoch\":[\"1700000009.234560000\"],\"frame_len\":[\"108\"],\"frame_cap_len\":[\"108\"],\"ip_src\":[\"1.1.1.1\",\"192.168.1.10\"],\"ip_dst\":[\"2.2.2.2\",\"192.168.1.1\"],\"ip_proto\":[\"47\",\"6\"],\"tcp_srcport\":[\"7003\"],\"tcp_dstport\":[\"7004\"],\"tcp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000010358\",\"layers\":{\"frame_number\":[\"11\"],\"frame_time_epoch\":[\"1700000010.358016000\"],\"frame_len\":[\"78\"],\"frame_cap_len\":[\"78\"],\"ip_src\":[\"1.1.1.1\",\"10.0.0.1\"],\"ip_dst\":[\"2.2.2.2\",\"10.0.0.2\"],\"ip_proto\":[\"47\",\"17\"],\"udp_srcport\":[\"137\"],\"udp_dstport\":[\"137\"],\"udp_stream\":[\"5\"]}}",
      "{\"timestamp\":\"1700000011481\",\"layers\":{\"frame_number\":[\"12\"],\"frame_time_epoch\":[\"1700000011.481472000\"],\"frame_len\":[\"62\"],\"frame_cap_len\":[\"62\"],\"ip_src\":[\"1.1.1.1\"],\"ip_dst\":[\"2.2.2.2\"],\"ip_proto\":[\"47\"]}}",
      "{\"timestamp\":\"1700000012604\",\"layers\":{\"frame_number\":[\"13\"],\"frame_time_epoch\":[\"1700000012.604928000\"],\"frame_len\":[\"98\"],\"frame_cap_len\":[\"98\"],\"ipv6_src\":[\"2001:db8::1\"],\"ipv6_dst\":[\"2001:db8::2\"],\"ipv6_nxt\":[\"43\"],\"tcp_srcport\":[\"10\"],\"tcp_dstport\":[\"20\"],\"tcp_stream\":[\"3\"]}}",
    ],
    dns: [
    ],
  },
  vlan_qinq_dns: {
    flows: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"frame_len\":[\"672\"],\"frame_cap_len\":[\"672\"],\"ieee8021ad_id\":[\"100\"],\"vlan_id\":[\"200\"],\"ip_src\":[\"192.168.1.1\"],\"ip_dst\":[\"192.168.1.10\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"53\"],\"udp_dstport\":[\"33333\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000001246\",\"layers\":{\"frame_number\":[\"2\"],\"frame_time_epoch\":[\"1700000001.246912000\"],\"frame_len\":[\"79\"],\"frame_cap_len\":[\"79\"],\"vlan_id\":[\"5\",\"6\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"33333\"],\"udp_dstport\":[\"53\"],\"udp_stream\":[\"0\"]}}",
      "{\"timestamp\":\"1700000002370\",\"layers\":{\"frame_number\":[\"3\"],\"frame_time_epoch\":[\"1700000002.370368000\"],\"frame_len\":[\"46\"],\"frame_cap_len\":[\"46\"],\"vlan_id\":[\"7\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"33334\"],\"udp_dstport\":[\"53\"],\"udp_stream\":[\"1\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"frame_len\":[\"158\"],\"frame_cap_len\":[\"158\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"224.0.0.251\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"5353\"],\"udp_dstport\":[\"5353\"],\"udp_stream\":[\"2\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"frame_len\":[\"80\"],\"frame_cap_len\":[\"80\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"5355\"],\"udp_dstport\":[\"50000\"],\"udp_stream\":[\"3\"]}}",
      "{\"timestamp\":\"1700000005740\",\"layers\":{\"frame_number\":[\"6\"],\"frame_time_epoch\":[\"1700000005.740736000\"],\"frame_len\":[\"50\"],\"frame_cap_len\":[\"50\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1000\"],\"udp_dstport\":[\"2000\"],\"udp_stream\":[\"4\"]}}",
      "{\"timestamp\":\"1700000006864\",\"layers\":{\"frame_number\":[\"7\"],\"frame_time_epoch\":[\"1700000006.864192000\"],\"frame_len\":[\"48\"],\"frame_cap_len\":[\"48\"],\"ip_src\":[\"192.168.1.10\"],\"ip_dst\":[\"192.168.1.1\"],\"ip_proto\":[\"17\"],\"udp_srcport\":[\"1000\"],\"udp_dstport\":[\"2000\"],\"udp_stream\":[\"4\"]}}",
    ],
    dns: [
      "{\"timestamp\":\"1700000000123\",\"layers\":{\"frame_number\":[\"1\"],\"frame_time_epoch\":[\"1700000000.123456000\"],\"dns_id\":[\"0xbeef\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"example.com\"],\"dns_qry_type\":[\"255\"],\"dns_resp_name\":[\"example.com\",\"example.com\",\"www.example.com\",\"example.com\",\"example.com\",\"example.com\",\"4.3.2.1.in-addr.arpa\",\"example.com\",\"example.com\",\"example.com\",\"example.com\",\"example.com\",\"example.com\",\"example.com\",\"<Root>\",\"a b.example.com\",\"x.example.com\"],\"dns_resp_type\":[\"1\",\"28\",\"5\",\"15\",\"16\",\"33\",\"6\",\"12\",\"65280\",\"28\",\"28\",\"28\",\"28\",\"28\",\"2\",\"41\",\"1\",\"47\",\"1\",\"15\",\"28\",\"46\",\"47\"],\"dns_resp_ttl\":[\"300\",\"300\",\"60\",\"3600\",\"3600\",\"86400\",\"2147483648\",\"10\",\"10\",\"1\",\"1\",\"1\",\"1\",\"1\",\"172800\",\"5\",\"5\"],\"dns_a\":[\"93.184.216.34\",\"10.0.0.1\"],\"dns_aaaa\":[\"2001:db8::1\",\"::ffff:1.2.3.4\",\"::1.2.3.4\",\"2001:db8::1:0:0:1\",\"::\",\"fe80::1:0:0:0\"],\"dns_cname\":[\"www.example.com\"]}}",
      "{\"timestamp\":\"1700000003493\",\"layers\":{\"frame_number\":[\"4\"],\"frame_time_epoch\":[\"1700000003.493824000\"],\"dns_id\":[\"0x0000\"],\"dns_flags_rcode\":[\"0\"],\"dns_resp_type\":[\"33\",\"33\"],\"dns_resp_ttl\":[\"120\",\"120\"]}}",
      "{\"timestamp\":\"1700000004617\",\"layers\":{\"frame_number\":[\"5\"],\"frame_time_epoch\":[\"1700000004.617280000\"],\"dns_id\":[\"0x0007\"],\"dns_flags_rcode\":[\"0\"],\"dns_qry_name\":[\"wpad\"],\"dns_qry_type\":[\"1\"],\"dns_resp_name\":[\"wpad\"],\"dns_resp_type\":[\"1\"],\"dns_resp_ttl\":[\"30\"],\"dns_a\":[\"10.0.0.7\"]}}",
    ],
  },
};
