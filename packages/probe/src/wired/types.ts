// Decoded wired frame, as produced by decodeWired / WiredDecoder. Arrays are in protocol-tree order
// (outer layer first), mirroring how tshark lists repeated fields.

import type { DnsMessage } from './dns';

/** The subset of the capture reader's Packet the wired decoder needs. */
export interface WiredPacket {
  linktype: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  data: Uint8Array;
  interfaceId?: number;
}

export interface IpInfo {
  version: 4 | 6;
  src: string;
  dst: string;
  /** ip.proto (IPv4) or ipv6.nxt (next header of the fixed IPv6 header). */
  proto: number;
  /** Upper-layer protocol after IPv6 extension headers (== proto for IPv4). */
  upper: number;
  fragment: boolean;
  /** true for the IP header quoted inside an ICMP error. */
  inError: boolean;
}

export interface L4Info {
  proto: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  /** Addresses of the enclosing IP layer. */
  src: string;
  dst: string;
  /** TCP only: flags (incl. NS bit 0x100) and raw sequence number, when captured. */
  flags: number;
  seq: number;
  /** Whether enough header was captured for Wireshark to assign a stream index. */
  streamable: boolean;
  /** tcp.stream / udp.stream (set by WiredDecoder; undefined for stateless decodes). */
  stream?: number;
  inError: boolean;
}

export interface WiredFrame {
  frameNumber: number;
  linktype: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  srcMac?: string;
  dstMac?: string;
  /** 802.1ad S-tag ids (ethertype 0x88a8), outer first. */
  ieee8021adIds: number[];
  /** 802.1Q ids (0x8100 and 0x9100), outer first. */
  vlanIds: number[];
  /** All VLAN tags (802.1ad and 802.1Q) in wire order, outer first. */
  vlanStack: number[];
  mplsLabels: number[];
  ip: IpInfo[];
  /** Innermost IP header cut short by the snaplen: the fields that were still captured. */
  ipPartial?: { version: 4 | 6; proto: number; src?: string };
  l4: L4Info[];
  icmp?: { version: 4 | 6; type: number; code: number };
  /** GRE protocol types seen, outer first. */
  gre: number[];
  dns: DnsMessage[];
  /** Inner 802.11 frames (e.g. Aruba GRE), for the Wi-Fi decoder. */
  wlan: Uint8Array[];
  /** A layer was truncated or inconsistent (never thrown). */
  malformed: boolean;
}
