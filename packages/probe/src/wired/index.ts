// Public surface of the wired decoders (used by the probe plugin and the CLI).
export { decodeWired, decodeEthernet, TcpDnsReassembler, LINKTYPE, ETHERTYPE, DNS_UDP_PORTS } from './decode';
export type { DecodeState } from './decode';
export { WiredDecoder } from './decoder';
export type { WiredDecoderOptions } from './decoder';
export { FlowTable, flowKey } from './flow';
export type { L4Proto } from './flow';
export { Defragmenter } from './defrag';
export { decodeDns, DNS_T } from './dns';
export type { DnsMessage, DnsQuestion, DnsRR } from './dns';
export { toWiredRecord } from './record';
export type { WiredRecord, WiredDnsRecord, WiredDnsAnswer } from './record';
export type { WiredFrame, WiredPacket, IpInfo, L4Info } from './types';
export { ipv4ToString, ipv6ToString, macToString } from './addr';
export { formatEkDns, formatEkFlows, ekTimestamp, ekEpoch } from '../ek/wired';
