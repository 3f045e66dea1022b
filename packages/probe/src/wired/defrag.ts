// IPv4 / IPv6 fragment reassembly, as Wireshark does by default (ip.defragment and
// ipv6.defragment are TRUE in 4.0): the upper layer (UDP/TCP/DNS) is decoded only on the frame
// that completes the datagram, from the reassembled bytes. Fragments that were not captured in
// full are not used (Wireshark cannot reassemble them either).

const MAX_PARTS = 512;

interface Pending {
  parts: { off: number; data: Uint8Array }[];
  total: number; // -1 until the last fragment (MF = 0) is seen
  firstFrame: number;
}

export class Defragmenter {
  private pending = new Map<string, Pending>();
  /** Upper bound on concurrently pending datagrams, so hostile input cannot grow memory unboundedly. */
  constructor(private readonly maxPending = 4096) {}

  /**
   * Adds one fragment (payload bytes after the IP header / fragment header). Returns the
   * reassembled payload when this fragment completes the datagram, else undefined.
   */
  add(key: string, fragOffset: number, more: boolean, data: Uint8Array, frame: number): Uint8Array | undefined {
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.maxPending) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
      }
      p = { parts: [], total: -1, firstFrame: frame };
      this.pending.set(key, p);
    }
    // A fragment repeated at the same offset (retransmission) replaces the old copy; a datagram
    // accumulating absurdly many parts is dropped (bounded memory on hostile input).
    const dup = p.parts.findIndex((q) => q.off === fragOffset && q.data.length === data.length);
    const part = { off: fragOffset, data: data.slice() }; // copy: capture buffers may be reused
    if (dup >= 0) p.parts[dup] = part;
    else if (p.parts.length >= MAX_PARTS) { this.pending.delete(key); return undefined; }
    else p.parts.push(part);
    if (!more) p.total = fragOffset + data.length;
    if (p.total < 0) return undefined;
    // Coverage check: sorted by offset, no holes from 0 to total.
    const parts = p.parts.slice().sort((x, y) => x.off - y.off);
    let covered = 0;
    for (const q of parts) {
      if (q.off > covered) return undefined;
      covered = Math.max(covered, q.off + q.data.length);
    }
    if (covered < p.total) return undefined;
    const out = new Uint8Array(p.total);
    for (const q of parts) {
      const n = Math.min(q.data.length, p.total - q.off);
      if (n > 0) out.set(q.data.subarray(0, n), q.off);
    }
    this.pending.delete(key);
    return out;
  }
}
