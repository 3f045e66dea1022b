// Wired layer decoders: link layers -> VLAN/MPLS -> IPv4/IPv6 (+ext headers, fragments) ->
// TCP/UDP/ICMP/ICMPv6/GRE -> DNS. Pure functions over (bytes, offset, end) that append to one
// WiredFrame; no exceptions escape (bounds are checked, every truncation sets `malformed`).
// Stateful parts (IP reassembly, stream numbering, DNS-over-TCP reassembly) live in DecodeState
// and are optional, so a single frame can be decoded stand-alone.

import { ipv4ToString, ipv6ToString, macToString } from './addr';
import { decodeDns } from './dns';
import type { Defragmenter } from './defrag';
import type { FlowTable } from './flow';
import type { IpInfo, WiredFrame, WiredPacket } from './types';

export const LINKTYPE = {
  NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
} as const;

export const ETHERTYPE = {
  IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ_9100: 0x9100, IEEE8021AD: 0x88a8, IPV6: 0x86dd,
  MPLS: 0x8847, MPLS_MC: 0x8848, TEB: 0x6558, ERSPAN2: 0x88be, ERSPAN3: 0x22eb, PPP: 0x880b,
} as const;

export const DNS_UDP_PORTS = new Set([53, 5353, 5355]); // DNS, mDNS, LLMNR share packet-dns.c
const DNS_TCP_PORTS = new Set([53, 5353]); // tcp.port 5353 -> dns in 4.0; LLMNR is UDP only
const MAX_DEPTH = 8; // tunnels within tunnels: bounded so hostile input cannot recurse deeply

/** Optional state for tshark-equivalent stateful decoding. */
export interface DecodeState {
  flows?: FlowTable;
  defrag?: Defragmenter;
  tcpDns?: TcpDnsReassembler;
}

function newFrame(pkt: WiredPacket, frameNumber: number): WiredFrame {
  return {
    frameNumber, linktype: pkt.linktype, tsSec: pkt.tsSec, tsNsec: pkt.tsNsec,
    capLen: pkt.capLen, origLen: pkt.origLen,
    ieee8021adIds: [], vlanIds: [], vlanStack: [], mplsLabels: [], ip: [], l4: [], gre: [], dns: [], wlan: [],
    malformed: false,
  };
}

/**
 * Decodes one captured frame. `state` enables IP reassembly, stream numbering and DNS-over-TCP
 * reassembly (see WiredDecoder); without it, only a first fragment (offset 0) yields L4 ports.
 */
export function decodeWired(pkt: WiredPacket, frameNumber = 0, state?: DecodeState): WiredFrame {
  const f = newFrame(pkt, frameNumber);
  const b = pkt.data;
  const end = Math.min(b.length, pkt.capLen >= 0 ? pkt.capLen : b.length);
  try {
    decodeLink(f, b, 0, end, pkt.linktype, state);
  } catch {
    // Defensive: decoders check bounds themselves; anything unexpected is a malformed frame.
    f.malformed = true;
  }
  return f;
}

function decodeLink(f: WiredFrame, b: Uint8Array, off: number, end: number, lt: number, st?: DecodeState): void {
  switch (lt) {
    case LINKTYPE.ETHERNET:
      decodeEthernet(f, b, off, end, st, 0);
      return;
    case LINKTYPE.LINUX_SLL: {
      // 16-byte cooked header; protocol field at 14.
      if (end - off < 16) { f.malformed = true; return; }
      const halen = (b[off + 4] << 8) | b[off + 5];
      if (halen === 6 && f.srcMac === undefined) f.srcMac = macToString(b, off + 6);
      decodeSllProto(f, b, off + 16, end, (b[off + 14] << 8) | b[off + 15], (b[off + 2] << 8) | b[off + 3], st);
      return;
    }
    case LINKTYPE.LINUX_SLL2: {
      // 20-byte header: protocol at 0, ARPHRD at 8, halen at 11, address at 12.
      if (end - off < 20) { f.malformed = true; return; }
      if (b[off + 11] === 6 && f.srcMac === undefined) f.srcMac = macToString(b, off + 12);
      decodeSllProto(f, b, off + 20, end, (b[off] << 8) | b[off + 1], (b[off + 8] << 8) | b[off + 9], st);
      return;
    }
    case LINKTYPE.RAW: case 12: case 14:
      decodeRawIp(f, b, off, end, st, 0);
      return;
    case LINKTYPE.IPV4:
      decodeIPv4(f, b, off, end, st, false, 0);
      return;
    case LINKTYPE.IPV6:
      decodeIPv6(f, b, off, end, st, false, 0);
      return;
    case LINKTYPE.NULL: case LINKTYPE.LOOP: {
      if (end - off < 4) { f.malformed = true; return; }
      // NULL: AF in host byte order (unknown endianness: a value > 0xffff means the other order);
      // LOOP: network byte order.
      const be = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
      const le = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
      const af = lt === LINKTYPE.LOOP || le > 0xffff ? be : le;
      if (af === 2) decodeIPv4(f, b, off + 4, end, st, false, 0);
      else if (af === 10 || af === 24 || af === 28 || af === 30) decodeIPv6(f, b, off + 4, end, st, false, 0);
      return;
    }
    default:
      return;
  }
}

function decodeSllProto(f: WiredFrame, b: Uint8Array, off: number, end: number, proto: number, arphrd: number, st?: DecodeState): void {
  // ARPHRD_NETLINK (824) and friends are not ethertypes; proto <= 1500 means 802.2/802.3 payload.
  if (arphrd === 824 || proto <= 1500) return;
  decodeEtherType(f, b, off, end, proto, st, 0);
}

function decodeRawIp(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, depth: number): void {
  if (off >= end) { f.malformed = true; return; }
  const v = b[off] >> 4;
  if (v === 4) decodeIPv4(f, b, off, end, st, false, depth);
  else if (v === 6) decodeIPv6(f, b, off, end, st, false, depth);
}

export function decodeEthernet(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, depth: number): void {
  if (end - off < 14) { f.malformed = true; return; }
  if (f.dstMac === undefined) {
    f.dstMac = macToString(b, off);
    f.srcMac = macToString(b, off + 6);
  }
  const type = (b[off + 12] << 8) | b[off + 13];
  if (type <= 1500) { decodeLlc(f, b, off + 14, Math.min(end, off + 14 + type), st, depth); return; }
  decodeEtherType(f, b, off + 14, end, type, st, depth);
}

/** 802.2 LLC; only SNAP with OUI 00-00-00 (RFC 1042 encapsulated ethertypes) leads further. */
function decodeLlc(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, depth: number): void {
  if (end - off < 3) return;
  if (b[off] === 0xaa && b[off + 1] === 0xaa && b[off + 2] === 0x03) {
    if (end - off < 8) { f.malformed = true; return; }
    if (b[off + 3] === 0 && b[off + 4] === 0 && b[off + 5] === 0) {
      decodeEtherType(f, b, off + 8, end, (b[off + 6] << 8) | b[off + 7], st, depth);
    }
  }
}

function decodeEtherType(f: WiredFrame, b: Uint8Array, off: number, end: number, type: number, st: DecodeState | undefined, depth: number): void {
  if (depth > MAX_DEPTH) return;
  // Iterate over VLAN tags instead of recursing (Q-in-Q stacks).
  for (let guard = 0; guard < 16; guard++) {
    if (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ_9100 || type === ETHERTYPE.IEEE8021AD) {
      if (end - off < 4) { f.malformed = true; return; }
      const id = ((b[off] << 8) | b[off + 1]) & 0x0fff;
      if (type === ETHERTYPE.IEEE8021AD) f.ieee8021adIds.push(id);
      else f.vlanIds.push(id);
      f.vlanStack.push(id);
      type = (b[off + 2] << 8) | b[off + 3];
      off += 4;
      if (type <= 1500) { decodeLlc(f, b, off, Math.min(end, off + type), st, depth); return; }
      continue;
    }
    break;
  }
  switch (type) {
    case ETHERTYPE.IPV4: decodeIPv4(f, b, off, end, st, false, depth); return;
    case ETHERTYPE.IPV6: decodeIPv6(f, b, off, end, st, false, depth); return;
    case ETHERTYPE.MPLS: case ETHERTYPE.MPLS_MC: decodeMpls(f, b, off, end, st, depth); return;
    case ETHERTYPE.TEB: decodeEthernet(f, b, off, end, st, depth + 1); return;
    default: return;
  }
}

/**
 * MPLS label stack, then payload guessing as packet-mpls.c does: first nibble 4 -> IPv4,
 * 6 -> IPv6, 0 -> pseudowire with control word then Ethernet (Wireshark's pw_eth heuristic uses
 * the manuf database; we assume the control word), anything else -> undecoded data.
 */
function decodeMpls(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, depth: number): void {
  for (let i = 0; ; i++) {
    if (end - off < 4) { f.malformed = true; return; }
    const w = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    f.mplsLabels.push(w >>> 12);
    off += 4;
    if (w & 0x100) break;
    if (i > 32) { f.malformed = true; return; }
  }
  if (off >= end) return;
  const nib = b[off] >> 4;
  if (nib === 4) decodeIPv4(f, b, off, end, st, false, depth + 1);
  else if (nib === 6) decodeIPv6(f, b, off, end, st, false, depth + 1);
  else if (nib === 0 && end - off >= 4 + 14) decodeEthernet(f, b, off + 4, end, st, depth + 1);
}

function decodeIPv4(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, inError: boolean, depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (end - off < 1) { f.malformed = true; return; }
  const ver = b[off] >> 4;
  if (ver === 6) { decodeIPv6(f, b, off, end, st, inError, depth); return; } // dissect_ip hands v6 over
  const hlen = (b[off] & 0x0f) * 4;
  if (ver !== 4 || hlen < 20) { f.malformed = true; return; }
  if (end - off < 20) {
    // Header cut by the snaplen: Wireshark adds fields one by one until the bytes run out
    // (ip.proto needs 10 bytes, ip.src 16), unless the total length was already bogus.
    f.malformed = true;
    if (end - off >= 10) {
      const tl = (b[off + 2] << 8) | b[off + 3];
      if (tl !== 0 && tl < hlen) return;
      f.ipPartial = { version: 4, proto: b[off + 9], src: end - off >= 16 ? ipv4ToString(b, off + 12) : undefined };
    }
    return;
  }
  let totalLen = (b[off + 2] << 8) | b[off + 3];
  if (totalLen === 0) totalLen = end - off; // TSO: Wireshark uses the captured length
  if (totalLen < hlen) { f.malformed = true; return; }
  const fl = (b[off + 6] << 8) | b[off + 7];
  const more = (fl & 0x2000) !== 0;
  const fragOff = (fl & 0x1fff) * 8;
  const proto = b[off + 9];
  const src = ipv4ToString(b, off + 12), dst = ipv4ToString(b, off + 16);
  const fragment = more || fragOff > 0;
  f.ip.push({ version: 4, src, dst, proto, upper: proto, fragment, inError });
  const pStart = off + hlen;
  const repEnd = off + totalLen;
  if (pStart > end) { if (!inError) f.malformed = true; return; }
  const capEnd = Math.min(end, repEnd);
  if (fragment) {
    if (inError) return;
    if (st?.defrag) {
      if (capEnd < repEnd) return; // fragment not fully captured: cannot reassemble
      const key = '4 ' + src + ' ' + dst + ' ' + ((b[off + 4] << 8) | b[off + 5]) + ' ' + proto;
      const whole = st.defrag.add(key, fragOff, more, b.subarray(pStart, repEnd), f.frameNumber);
      if (whole) decodeL4(f, whole, 0, whole.length, whole.length, proto, f.ip[f.ip.length - 1], st, false, depth);
      return;
    }
    if (fragOff !== 0) return; // stateless: only the first fragment carries the L4 header
  }
  decodeL4(f, b, pStart, capEnd, repEnd, proto, f.ip[f.ip.length - 1], st, inError, depth);
}

function decodeIPv6(f: WiredFrame, b: Uint8Array, off: number, end: number, st: DecodeState | undefined, inError: boolean, depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (end - off < 40 || b[off] >> 4 !== 6) {
    f.malformed = true;
    // Same field-by-field behaviour as IPv4: ipv6.nxt needs 7 bytes, ipv6.src 24.
    if (b[off] >> 4 === 6 && end - off >= 7) {
      f.ipPartial = { version: 6, proto: b[off + 6], src: end - off >= 24 ? ipv6ToString(b, off + 8) : undefined };
    }
    return;
  }
  let plen = (b[off + 4] << 8) | b[off + 5];
  if (plen === 0) plen = end - off - 40; // jumbogram / TSO: use what was captured
  const nxt = b[off + 6];
  const src = ipv6ToString(b, off + 8), dst = ipv6ToString(b, off + 24);
  const info: IpInfo = { version: 6, src, dst, proto: nxt, upper: nxt, fragment: false, inError };
  f.ip.push(info);
  const repEnd = off + 40 + plen;
  const capEnd = Math.min(end, repEnd);
  let o = off + 40;
  let cur = nxt;
  for (let guard = 0; guard < 16; guard++) {
    if (cur === 0 || cur === 43 || cur === 60 || cur === 51) {
      if (capEnd - o < 2) { if (!inError) f.malformed = true; info.upper = cur; return; }
      const len = cur === 51 ? (b[o + 1] + 2) * 4 : (b[o + 1] + 1) * 8;
      cur = b[o];
      o += len;
      if (o > capEnd) { if (!inError) f.malformed = true; info.upper = cur; return; }
      continue;
    }
    if (cur === 44) {
      if (capEnd - o < 8) { if (!inError) f.malformed = true; info.upper = cur; return; }
      const next = b[o];
      const x = (b[o + 2] << 8) | b[o + 3];
      const fragOff = x & 0xfff8, more = (x & 1) !== 0;
      const id = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
      o += 8;
      cur = next;
      if (fragOff === 0 && !more) continue; // atomic fragment: not really fragmented
      info.fragment = true;
      info.upper = cur;
      if (inError) return;
      if (st?.defrag) {
        if (capEnd < repEnd) return;
        const whole = st.defrag.add('6 ' + src + ' ' + dst + ' ' + id, fragOff, more, b.subarray(o, repEnd), f.frameNumber);
        if (whole) decodeL4(f, whole, 0, whole.length, whole.length, cur, info, st, false, depth);
        return;
      }
      if (fragOff !== 0) return;
      decodeL4(f, b, o, capEnd, repEnd, cur, info, st, inError, depth);
      return;
    }
    break;
  }
  info.upper = cur;
  decodeL4(f, b, o, capEnd, repEnd, cur, info, st, inError, depth);
}

function decodeL4(
  f: WiredFrame, b: Uint8Array, off: number, capEnd: number, repEnd: number, proto: number, ip: IpInfo,
  st: DecodeState | undefined, inError: boolean, depth: number,
): void {
  switch (proto) {
    case 6: decodeTcp(f, b, off, capEnd, repEnd, ip, st, inError); return;
    case 17: decodeUdp(f, b, off, capEnd, repEnd, ip, st, inError); return;
    case 1: if (!inError) decodeIcmp(f, b, off, capEnd, st, depth, 4); return;
    case 58: if (!inError) decodeIcmp(f, b, off, capEnd, st, depth, 6); return;
    case 47: if (!inError) decodeGre(f, b, off, capEnd, st, depth); return;
    case 4: if (!inError) decodeIPv4(f, b, off, capEnd, st, false, depth + 1); return;
    case 41: if (!inError) decodeIPv6(f, b, off, capEnd, st, false, depth + 1); return;
    default: return;
  }
}

function decodeTcp(f: WiredFrame, b: Uint8Array, off: number, capEnd: number, repEnd: number, ip: IpInfo, st: DecodeState | undefined, inError: boolean): void {
  if (capEnd - off < 4) { if (!inError) f.malformed = true; return; }
  const srcPort = (b[off] << 8) | b[off + 1], dstPort = (b[off + 2] << 8) | b[off + 3];
  // Wireshark reads seq/ack/offset/flags/window (16 bytes) before creating the conversation:
  // with fewer bytes the ports are shown but there is no tcp.stream.
  const streamable = capEnd - off >= 16;
  const seq = streamable ? (((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0) : 0;
  const flags = streamable ? (((b[off + 12] & 1) << 8) | b[off + 13]) : 0;
  const l4 = { proto: 'tcp' as const, srcPort, dstPort, src: ip.src, dst: ip.dst, flags, seq, streamable, stream: undefined as number | undefined, inError };
  f.l4.push(l4);
  if (!streamable) { if (!inError) f.malformed = true; return; }
  if (st?.flows) l4.stream = st.flows.tcpStream(ip.src, srcPort, ip.dst, dstPort, flags, seq);
  const hlen = (b[off + 12] >> 4) * 4;
  if (hlen < 20 || off + hlen > repEnd) { if (!inError) f.malformed = true; return; }
  if (inError) return;
  const pStart = off + hlen;
  if (pStart > capEnd) return; // options cut by snaplen: no payload
  if ((DNS_TCP_PORTS.has(srcPort) || DNS_TCP_PORTS.has(dstPort)) && repEnd > pStart) {
    if (capEnd < repEnd) return; // payload not fully captured: Wireshark does not desegment
    // per stream and direction (canonical endpoint order as in FlowTable)
    const fwd = ip.src < ip.dst || (ip.src === ip.dst && srcPort <= dstPort);
    const key = l4.stream !== undefined ? l4.stream + (fwd ? '>' : '<') : undefined;
    if (st?.tcpDns && key !== undefined) st.tcpDns.push(f, key, seq, b, pStart, repEnd);
    else pushTcpDnsMessages(f, b, pStart, repEnd);
  }
}

/** Length-prefixed DNS messages entirely inside one segment (stateless mode). */
function pushTcpDnsMessages(f: WiredFrame, b: Uint8Array, o: number, end: number): void {
  while (end - o >= 2) {
    const len = (b[o] << 8) | b[o + 1];
    if (o + 2 + len > end) return;
    const m = decodeDns(b, o + 2, o + 2 + len);
    if (m) { f.dns.push(m); if (m.malformed) f.malformed = true; }
    o += 2 + len;
  }
}

/**
 * DNS over TCP across segments: per stream+direction buffer of in-order bytes; a message is decoded
 * on the frame that completes it (tshark: "reassembled in" frame carries the dns.* fields).
 */
export class TcpDnsReassembler {
  private bufs = new Map<string, { next: number; data: Uint8Array }>();

  push(f: WiredFrame, key: string, seq: number, b: Uint8Array, start: number, end: number): void {
    const pend = this.bufs.get(key);
    let data: Uint8Array;
    if (pend && pend.next === seq) {
      data = new Uint8Array(pend.data.length + (end - start));
      data.set(pend.data, 0);
      data.set(b.subarray(start, end), pend.data.length);
    } else if (pend && ((seq - pend.next) | 0) < 0) {
      return; // retransmission of bytes already buffered
    } else {
      data = b.subarray(start, end);
    }
    let o = 0;
    while (data.length - o >= 2) {
      const len = (data[o] << 8) | data[o + 1];
      if (o + 2 + len > data.length) break;
      const m = decodeDns(data, o + 2, o + 2 + len);
      if (m) { f.dns.push(m); if (m.malformed) f.malformed = true; }
      o += 2 + len;
    }
    // Keep the incomplete tail (at most one DNS message: 2 + 65535 bytes) for the next segment.
    if (o < data.length && data.length - o <= 65537) this.bufs.set(key, { next: (seq + (end - start)) >>> 0, data: data.slice(o) });
    else this.bufs.delete(key);
  }
}

function decodeUdp(f: WiredFrame, b: Uint8Array, off: number, capEnd: number, repEnd: number, ip: IpInfo, st: DecodeState | undefined, inError: boolean): void {
  if (capEnd - off < 4) { if (!inError) f.malformed = true; return; }
  const srcPort = (b[off] << 8) | b[off + 1], dstPort = (b[off + 2] << 8) | b[off + 3];
  const l4 = { proto: 'udp' as const, srcPort, dstPort, src: ip.src, dst: ip.dst, flags: 0, seq: 0, streamable: false, stream: undefined as number | undefined, inError };
  f.l4.push(l4);
  if (capEnd - off < 8) { if (!inError) f.malformed = true; return; }
  let ulen = (b[off + 4] << 8) | b[off + 5];
  if (ulen === 0 && ip.version === 6) ulen = repEnd - off; // jumbogram
  if (ulen < 8) { if (!inError) f.malformed = true; return; }
  l4.streamable = true;
  if (st?.flows) l4.stream = st.flows.udpStream(ip.src, srcPort, ip.dst, dstPort);
  if (inError) return;
  if (off + ulen > repEnd) f.malformed = true; // length past the IP payload
  const pEnd = Math.min(off + ulen, repEnd);
  if (DNS_UDP_PORTS.has(srcPort) || DNS_UDP_PORTS.has(dstPort)) {
    const m = decodeDns(b, off + 8, Math.min(pEnd, capEnd));
    if (m) {
      f.dns.push(m);
      // Includes snaplen-cut messages: the record is partial either way.
      if (m.malformed) f.malformed = true;
    }
  }
}

function decodeIcmp(f: WiredFrame, b: Uint8Array, off: number, capEnd: number, st: DecodeState | undefined, depth: number, v: 4 | 6): void {
  if (capEnd - off < 4) { f.malformed = true; return; }
  const type = b[off], code = b[off + 1];
  f.icmp = { version: v, type, code };
  // Error messages quote the offending datagram after an 8-byte ICMP header; Wireshark dissects
  // it (in_error_pkt), giving a second ip.src/ip.dst and the quoted ports.
  const isErr = v === 4 ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12
    : type >= 1 && type <= 4;
  if (isErr && capEnd - off > 8) {
    if (v === 4) decodeIPv4(f, b, off + 8, capEnd, st, true, depth + 1);
    else decodeIPv6(f, b, off + 8, capEnd, st, true, depth + 1);
  }
}

/** Aruba GRE protocol types Wireshark 4.0 hands to the 802.11 dissector (0x8200..0x8370). */
function isArubaWlan(proto: number): boolean {
  return proto >= 0x8200 && proto <= 0x8370 && (proto & 0x0f) === 0;
}

function decodeGre(f: WiredFrame, b: Uint8Array, off: number, capEnd: number, st: DecodeState | undefined, depth: number): void {
  if (capEnd - off < 4) { f.malformed = true; return; }
  const flags = (b[off] << 8) | b[off + 1];
  const proto = (b[off + 2] << 8) | b[off + 3];
  const ver = flags & 7;
  f.gre.push(proto);
  let o = off + 4;
  if (flags & 0xc000) o += 4; // checksum / routing present -> checksum + offset word
  if (flags & 0x2000) o += 4; // key (PPTP: payload length + call id)
  const hasSeq = (flags & 0x1000) !== 0;
  if (hasSeq) o += 4;
  if (ver === 1 && flags & 0x0080) o += 4; // enhanced GRE acknowledgment
  if (o > capEnd) { f.malformed = true; return; }
  if (depth > MAX_DEPTH) return;
  switch (proto) {
    case ETHERTYPE.IPV4: case 0x883e: decodeIPv4(f, b, o, capEnd, st, false, depth + 1); return;
    case ETHERTYPE.IPV6: decodeIPv6(f, b, o, capEnd, st, false, depth + 1); return;
    case ETHERTYPE.TEB: case 0x6400: decodeEthernet(f, b, o, capEnd, st, depth + 1); return;
    case ETHERTYPE.MPLS: case ETHERTYPE.MPLS_MC: decodeMpls(f, b, o, capEnd, st, depth + 1); return;
    case ETHERTYPE.ERSPAN2: // type I has no sequence bit and no ERSPAN header
      decodeEthernet(f, b, hasSeq ? o + 8 : o, capEnd, st, depth + 1);
      return;
    case ETHERTYPE.ERSPAN3: {
      if (capEnd - o < 12) { f.malformed = true; return; }
      const optional = (b[o + 11] & 0x01) !== 0; // O flag: 8-byte platform sub-header
      decodeEthernet(f, b, o + 12 + (optional ? 8 : 0), capEnd, st, depth + 1);
      return;
    }
    case ETHERTYPE.PPP: {
      let p = o;
      if (capEnd - p >= 2 && b[p] === 0xff && b[p + 1] === 0x03) p += 2;
      if (p >= capEnd) return;
      let pp: number;
      if (b[p] & 1) { pp = b[p]; p += 1; } else { if (capEnd - p < 2) return; pp = (b[p] << 8) | b[p + 1]; p += 2; }
      if (pp === 0x21) decodeIPv4(f, b, p, capEnd, st, false, depth + 1);
      else if (pp === 0x57) decodeIPv6(f, b, p, capEnd, st, false, depth + 1);
      return;
    }
    default:
      if (isArubaWlan(proto)) { if (o < capEnd) f.wlan.push(b.subarray(o, capEnd)); }
      return;
  }
}
