// Direction-independent flow keys and tshark-compatible tcp.stream / udp.stream numbering.
//
// Why a separate conversation key: Wireshark 4.0 conversations are keyed by (addr, port) pairs
// only (VLAN, MPLS labels and interface are NOT part of it with default preferences), so two
// VLANs carrying the same 5-tuple share one tcp.stream. The flow_key we export for plugins does
// include the VLAN stack, because downstream aggregation wants to tell them apart.

export type L4Proto = 'tcp' | 'udp';

/** Canonical endpoint text: IPv4 "a.b.c.d:p", IPv6 "[x::y]:p". */
function ep(addr: string, port: number): string {
  return (addr.indexOf(':') >= 0 ? '[' + addr + ']' : addr) + ':' + port;
}

/**
 * Direction-independent key: both endpoints sorted, protocol first, VLAN stack (outer first)
 * appended when present. Both directions of a flow give the same string.
 */
export function flowKey(
  proto: L4Proto | number, srcAddr: string, srcPort: number, dstAddr: string, dstPort: number,
  vlanIds?: readonly number[],
): string {
  const a = ep(srcAddr, srcPort), b = ep(dstAddr, dstPort);
  let k = proto + ' ' + (a <= b ? a + ' ' + b : b + ' ' + a);
  if (vlanIds && vlanIds.length) k += ' vlan=' + vlanIds.join('.');
  return k;
}

interface TcpConv {
  stream: number;
  /** base sequence number per direction: index 0 = canonical-first endpoint sends, 1 = the other. */
  baseSeq: [number, number];
  baseSet: [boolean, boolean];
}

/**
 * Assigns tcp.stream / udp.stream exactly like tshark 4.0 (epan/conversation.c + packet-tcp.c,
 * packet-udp.c): a counter per protocol, incremented when a conversation for a new
 * (addr, port, addr, port) pair is created, in frame order. TCP additionally starts a NEW stream
 * on a SYN (without ACK) whose sequence number differs from the base sequence already recorded
 * for that direction (port reuse, TCP_A_REUSED_PORTS). Packets embedded in ICMP errors go through
 * the same lookup with their (inner) tuple, as in Wireshark.
 */
/** Two-level (address, address) -> port-pair map: avoids building a key string per packet. */
class ConvMap<T> {
  private m = new Map<string, Map<string, Map<number, T>>>();
  get(a: string, b: string, ports: number): T | undefined {
    return this.m.get(a)?.get(b)?.get(ports);
  }
  set(a: string, b: string, ports: number, v: T): void {
    let mb = this.m.get(a);
    if (!mb) { mb = new Map(); this.m.set(a, mb); }
    let mp = mb.get(b);
    if (!mp) { mp = new Map(); mb.set(b, mp); }
    mp.set(ports, v);
  }
}

export class FlowTable {
  private tcp = new ConvMap<TcpConv>();
  private udp = new ConvMap<number>();
  private nextTcp = 0;
  private nextUdp = 0;

  get tcpStreams(): number { return this.nextTcp; }
  get udpStreams(): number { return this.nextUdp; }

  udpStream(src: string, srcPort: number, dst: string, dstPort: number): number {
    const fwd = src < dst || (src === dst && srcPort <= dstPort);
    const a = fwd ? src : dst, b = fwd ? dst : src;
    const ports = fwd ? srcPort * 65536 + dstPort : dstPort * 65536 + srcPort;
    let s = this.udp.get(a, b, ports);
    if (s === undefined) {
      s = this.nextUdp++;
      this.udp.set(a, b, ports, s);
    }
    return s;
  }

  /** flags: TCP flags (SYN 0x02, ACK 0x10); seq: raw sequence number. */
  tcpStream(src: string, srcPort: number, dst: string, dstPort: number, flags: number, seq: number): number {
    // Canonical order (address, then port) makes the key direction-independent; dir says which
    // side sent this segment.
    const fwd = src < dst || (src === dst && srcPort <= dstPort);
    const dir = fwd ? 0 : 1;
    const a = fwd ? src : dst, b = fwd ? dst : src;
    const ports = fwd ? srcPort * 65536 + dstPort : dstPort * 65536 + srcPort;
    let c = this.tcp.get(a, b, ports);
    const syn = (flags & 0x12) === 0x02;
    if (c === undefined || (syn && c.baseSet[dir] && c.baseSeq[dir] !== seq)) {
      c = { stream: this.nextTcp++, baseSeq: [0, 0], baseSet: [false, false] };
      this.tcp.set(a, b, ports, c);
    }
    if (!c.baseSet[dir]) {
      // Wireshark's relative-sequence base: the SYN's seq, else seq - 1.
      c.baseSeq[dir] = flags & 0x02 ? seq : (seq - 1) >>> 0;
      c.baseSet[dir] = true;
    }
    return c.stream;
  }
}
