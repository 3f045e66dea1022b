// Capture file readers: classic pcap (all byte orders, µs/ns, Kuznetzov "modified" variant) and
// pcapng (per-section byte order, per-interface linktype/tsresol/tsoffset, EPB/SPB/OPB).
//
// Why a hand-rolled cursor instead of DataView + objects: the probe decodes >1M frames/s, so the
// core (`CaptureParser`) reads integers straight from the bytes and reports each record as
// (offset, length) into the caller's buffer. `PacketCursor` is the one record loop on top of it;
// `forEachPacket`, `readCapture`, `CaptureStreamReader` and `pcapflow decode` all run it, the last
// two handing out `Packet`s whose `data` is a zero-copy subarray view.
//
// Error policy (matches Wireshark's wiretap): a record cut short at the end of the input is NOT
// emitted (tshark stops with "cut short in the middle of a packet"); it is counted in
// `counters.truncatedRecords`. Structurally invalid input ends the read and is counted in
// `counters.errors` with `counters.lastError` set. Nothing here throws on bad capture bytes.

export interface Packet {
  linktype: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  data: Uint8Array;
  interfaceId: number;
}

export interface ReaderCounters {
  packets: number;
  bytes: number;
  /** Records cut short at the end of the input (not emitted, like tshark). */
  truncatedRecords: number;
  /** pcapng blocks that carry no packet and were skipped (NRB, ISB, DSB, custom, unknown...). */
  skippedBlocks: number;
  /** Fatal structural errors (bad magic, impossible lengths); reading stops at the first one. */
  errors: number;
  lastError?: string;
  /** 'pcap' | 'pcap-ns' | 'pcap-modified' | 'pcapng' once detected. */
  format?: CaptureFormat;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcap-modified' | 'pcapng';

export function newReaderCounters(): ReaderCounters {
  return { packets: 0, bytes: 0, truncatedRecords: 0, skippedBlocks: 0, errors: 0 };
}

/** Typed error for API edges (e.g. `assertCapture`), never thrown by the readers themselves. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
}

/** Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD: bigger records are treated as file corruption. */
export const MAX_RECORD_SIZE = 262144;
const MAX_BLOCK_SIZE = 16 * 1024 * 1024;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_OPB = 0x00000002;
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;

interface Iface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second (10^n or 2^n). */
  unitsPerSec: number;
  /** Integer nanoseconds per unit when unitsPerSec divides 1e9, else 0. */
  nsPerUnit: number;
  tsOffset: number;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Result codes of `CaptureParser.step`. */
export const STEP_PACKET = 1;
export const STEP_CONTINUE = 0;
export const STEP_NEED_MORE = -1;
export const STEP_DONE = -2;

/**
 * Incremental, allocation-free parser. Call `step(buf, off, end)` repeatedly; it consumes one unit
 * (file header, record or block) and returns STEP_PACKET (fields `pkt*` describe the packet at
 * `buf[pktOff .. pktOff+capLen)`), STEP_CONTINUE (consumed a non-packet unit), STEP_NEED_MORE
 * (the unit at `off` is incomplete) or STEP_DONE (fatal error, see counters). `consumed` is the
 * new offset after a successful step.
 */
export class CaptureParser {
  consumed = 0;
  // current packet
  linktype = 0;
  tsSec = 0;
  tsNsec = 0;
  capLen = 0;
  origLen = 0;
  pktOff = 0;
  interfaceId = 0;

  private started = false;
  private ng = false;
  private le = true;
  private nsec = false;
  private modified = false;
  private pcapLinktype = 0;
  private ifaces: Iface[] = [];

  constructor(readonly counters: ReaderCounters = newReaderCounters()) {}

  /** True once the file header has been read. */
  hasStarted(): boolean {
    return this.started;
  }

  private fail(msg: string): number {
    this.counters.errors++;
    this.counters.lastError = msg;
    return STEP_DONE;
  }

  step(b: Uint8Array, off: number, end: number): number {
    if (!this.started) return this.fileHeader(b, off, end);
    return this.ng ? this.ngBlock(b, off, end) : this.pcapRecord(b, off, end);
  }

  private fileHeader(b: Uint8Array, off: number, end: number): number {
    if (end - off < 4) return STEP_NEED_MORE;
    const m = u32(b, off, true);
    if (m === PCAPNG_SHB) {
      this.ng = true;
      this.started = true;
      this.counters.format = 'pcapng';
      return this.ngBlock(b, off, end);
    }
    let le: boolean;
    let nsec = false;
    let modified = false;
    switch (m) {
      case 0xa1b2c3d4: le = true; break;
      case 0xd4c3b2a1: le = false; break;
      case 0xa1b23c4d: le = true; nsec = true; break;
      case 0x4d3cb2a1: le = false; nsec = true; break;
      case 0xa1b2cd34: le = true; modified = true; break;
      case 0x34cdb2a1: le = false; modified = true; break;
      default:
        return this.fail(`not a pcap/pcapng file (magic 0x${m.toString(16).padStart(8, '0')})`);
    }
    if (end - off < 24) return STEP_NEED_MORE;
    this.le = le;
    this.nsec = nsec;
    this.modified = modified;
    // Upper bits of the link-type word carry FCS length info (LINKTYPE_ *) - mask them off.
    this.pcapLinktype = u32(b, off + 20, le) & 0xffff;
    this.started = true;
    this.counters.format = modified ? 'pcap-modified' : nsec ? 'pcap-ns' : 'pcap';
    this.consumed = off + 24;
    return STEP_CONTINUE;
  }

  private pcapRecord(b: Uint8Array, off: number, end: number): number {
    const hlen = this.modified ? 24 : 16;
    if (end - off < hlen) return STEP_NEED_MORE;
    const le = this.le;
    const caplen = u32(b, off + 8, le);
    if (caplen > MAX_RECORD_SIZE) return this.fail(`record of ${caplen} bytes exceeds ${MAX_RECORD_SIZE}`);
    if (end - off - hlen < caplen) return STEP_NEED_MORE;
    this.tsSec = u32(b, off, le);
    const frac = u32(b, off + 4, le);
    this.tsNsec = this.nsec ? frac : frac * 1000;
    this.capLen = caplen;
    this.origLen = u32(b, off + 12, le);
    this.linktype = this.pcapLinktype;
    this.interfaceId = 0;
    this.pktOff = off + hlen;
    this.consumed = off + hlen + caplen;
    return STEP_PACKET;
  }

  private ngBlock(b: Uint8Array, off: number, end: number): number {
    if (end - off < 12) return STEP_NEED_MORE;
    let le = this.le;
    const typeLe = u32(b, off, true);
    if (typeLe === PCAPNG_SHB) {
      // The section header defines the byte order of everything up to the next SHB.
      const bom = u32(b, off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else return this.fail('pcapng: bad byte-order magic');
      this.le = le;
      this.ifaces = [];
    }
    const type = u32(b, off, le);
    const blen = u32(b, off + 4, le);
    if (blen < 12 || (blen & 3) !== 0 || blen > MAX_BLOCK_SIZE) return this.fail(`pcapng: bad block length ${blen}`);
    if (end - off < blen) return STEP_NEED_MORE;
    const bend = off + blen - 4; // start of trailing length
    this.consumed = off + blen;
    switch (type) {
      case PCAPNG_SHB:
        if (blen < 28) return this.fail('pcapng: short section header');
        return STEP_CONTINUE;
      case PCAPNG_IDB: {
        if (blen < 20) return this.fail('pcapng: short interface description block');
        const ifc: Iface = { linktype: u16(b, off + 8, le), snaplen: u32(b, off + 12, le), unitsPerSec: 1e6, nsPerUnit: 1000, tsOffset: 0 };
        this.parseIdbOptions(b, off + 16, bend, ifc);
        this.ifaces.push(ifc);
        return STEP_CONTINUE;
      }
      case PCAPNG_EPB:
      case PCAPNG_OPB: {
        if (blen < 32) return this.fail('pcapng: short packet block');
        const ifId = type === PCAPNG_EPB ? u32(b, off + 8, le) : u16(b, off + 8, le);
        const ifc = this.ifaces[ifId];
        if (!ifc) return this.fail(`pcapng: packet for unknown interface ${ifId}`);
        const caplen = u32(b, off + 20, le);
        if (caplen > bend - (off + 28)) return this.fail('pcapng: packet data exceeds block');
        this.setTs(ifc, u32(b, off + 12, le), u32(b, off + 16, le));
        this.capLen = caplen;
        this.origLen = u32(b, off + 24, le);
        this.pktOff = off + 28;
        this.linktype = ifc.linktype;
        this.interfaceId = ifId;
        return STEP_PACKET;
      }
      case PCAPNG_SPB: {
        const ifc = this.ifaces[0];
        if (!ifc) return this.fail('pcapng: simple packet block without interface 0');
        const orig = u32(b, off + 8, le);
        let caplen = Math.min(orig, bend - (off + 12));
        if (ifc.snaplen !== 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
        this.tsSec = 0; // SPBs carry no timestamp
        this.tsNsec = 0;
        this.capLen = caplen;
        this.origLen = orig;
        this.pktOff = off + 12;
        this.linktype = ifc.linktype;
        this.interfaceId = 0;
        return STEP_PACKET;
      }
      default:
        this.counters.skippedBlocks++;
        return STEP_CONTINUE;
    }
  }

  private parseIdbOptions(b: Uint8Array, o: number, end: number, ifc: Iface): void {
    const le = this.le;
    while (o + 4 <= end) {
      const code = u16(b, o, le);
      const len = u16(b, o + 2, le);
      const v = o + 4;
      if (code === 0 || v + len > end) break;
      if (code === 9 && len >= 1) {
        const r = b[v];
        const exp = r & 0x7f;
        if (r & 0x80) {
          ifc.unitsPerSec = Math.pow(2, exp);
          ifc.nsPerUnit = 0;
        } else {
          ifc.unitsPerSec = Math.pow(10, exp);
          ifc.nsPerUnit = exp <= 9 ? Math.pow(10, 9 - exp) : 0;
        }
      } else if (code === 14 && len >= 8) {
        const lo = u32(b, v, le);
        const hi = u32(b, v + 4, le);
        const hs = hi | 0; // signed
        ifc.tsOffset = hs * 4294967296 + lo;
      }
      o = v + ((len + 3) & ~3);
    }
  }

  /** 64-bit timestamp (hi:lo) in interface units → seconds + nanoseconds, exactly, without BigInt for units ≤ 2^32/s. */
  private setTs(ifc: Iface, hi: number, lo: number): void {
    const d = ifc.unitsPerSec;
    let sec: number;
    let r: number;
    if (d <= 4294967296) {
      const qh = Math.floor(hi / d);
      r = hi - qh * d;
      let x = r * 65536 + (lo >>> 16);
      const q1 = Math.floor(x / d);
      r = x - q1 * d;
      x = r * 65536 + (lo & 0xffff);
      const q0 = Math.floor(x / d);
      r = x - q0 * d;
      sec = qh * 4294967296 + q1 * 65536 + q0;
    } else {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const bd = BigInt(d);
      sec = Number(v / bd);
      r = Number(v % bd);
    }
    this.tsSec = sec + ifc.tsOffset;
    this.tsNsec = ifc.nsPerUnit ? r * ifc.nsPerUnit : Math.floor((r / d) * 1e9);
  }
}

/** The packet the parser is on, as a `Packet` whose `data` is a zero-copy view into `buf`. */
export function packetAt(p: CaptureParser, buf: Uint8Array): Packet {
  return {
    linktype: p.linktype, tsSec: p.tsSec, tsNsec: p.tsNsec, capLen: p.capLen, origLen: p.origLen,
    data: buf.subarray(p.pktOff, p.pktOff + p.capLen), interfaceId: p.interfaceId,
  };
}

/**
 * The record loop every reader shares: `next()` steps over headers and non-packet blocks to the
 * next packet (true: `parser.pktOff`, `parser.capLen`… describe it, counted in `counters`), or
 * stops (false) at the end of the buffer or at a fatal error (`stop` says which). Allocation-free.
 */
export class PacketCursor {
  readonly parser: CaptureParser;
  buf: Uint8Array = new Uint8Array(0);
  /** Offset of the first byte not consumed yet. */
  off = 0;
  end = 0;
  /** Why `next()` last returned false: STEP_NEED_MORE (input ends inside a unit, or at its end) or STEP_DONE (fatal). */
  stop = STEP_NEED_MORE;

  constructor(readonly counters: ReaderCounters = newReaderCounters()) {
    this.parser = new CaptureParser(counters);
  }

  /** Continue on `buf[off .. end)` (parser state — byte order, interfaces — carries over). */
  reset(buf: Uint8Array, off = 0, end = buf.length): this {
    this.buf = buf;
    this.off = off;
    this.end = end;
    return this;
  }

  next(): boolean {
    const p = this.parser;
    for (;;) {
      const r = p.step(this.buf, this.off, this.end);
      if (r === STEP_PACKET) {
        this.counters.packets++;
        this.counters.bytes += p.capLen;
        this.off = p.consumed;
        return true;
      }
      if (r !== STEP_CONTINUE) {
        this.stop = r;
        return false;
      }
      this.off = p.consumed;
    }
  }

  /** Bytes left after `next()` returned false that belong to an incomplete unit. */
  get leftover(): number {
    return this.stop === STEP_NEED_MORE ? this.end - this.off : 0;
  }

  /** No more input will come: count an incomplete unit left over (a record cut short, or no complete file header). */
  endOfInput(what = 'file'): void {
    if (this.leftover > 0) {
      if (this.parser.hasStarted()) this.counters.truncatedRecords++;
      else { this.counters.errors++; this.counters.lastError = `${what} too short for a capture header`; }
    }
  }
}

/**
 * Read a whole capture held in memory. Yields packets with zero-copy `data` views into `buf`.
 * Never throws on malformed input: stops and records the problem in `counters`.
 */
export function* readCapture(buf: Uint8Array, counters: ReaderCounters = newReaderCounters()): Generator<Packet> {
  const cur = new PacketCursor(counters).reset(buf);
  while (cur.next()) yield packetAt(cur.parser, buf);
  cur.endOfInput();
}

/**
 * Allocation-free iteration for hot loops: calls `onPacket(parser, buf)` for each packet; the
 * packet bytes are `buf[parser.pktOff .. parser.pktOff + parser.capLen)`. Returns the counters.
 */
export function forEachPacket(buf: Uint8Array, onPacket: (p: CaptureParser, buf: Uint8Array) => void, counters: ReaderCounters = newReaderCounters()): ReaderCounters {
  const cur = new PacketCursor(counters).reset(buf);
  while (cur.next()) onPacket(cur.parser, buf);
  cur.endOfInput();
  return counters;
}

export interface StreamEndResult {
  /** Bytes left over that did not form a complete record (0 for a clean end). */
  leftoverBytes: number;
  counters: ReaderCounters;
}

/**
 * Incremental reader for stdin / growing files. `push` returns the complete packets found so far
 * (views into the pushed chunk, or into an internal buffer when a record straddled chunks; views
 * stay valid because buffers are never reused). Partial records are held until the next push.
 */
export class CaptureStreamReader {
  private readonly cursor: PacketCursor;
  private pending: Uint8Array | null = null;
  private done = false;

  constructor(readonly counters: ReaderCounters = newReaderCounters()) {
    this.cursor = new PacketCursor(counters);
  }

  /** True after a fatal format error; further input is ignored. */
  get failed(): boolean {
    return this.done;
  }

  push(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    this.pushTo(chunk, (p) => out.push(p));
    return out;
  }

  /** Like `push` but calls `sink` per packet (no array). */
  pushTo(chunk: Uint8Array, sink: (p: Packet) => void): void {
    this.pushRaw(chunk, (p, buf) => sink(packetAt(p, buf)));
  }

  /** Like `forEachPacket` for a chunk: `onPacket(parser, buf)` per complete packet (allocation-free). */
  pushRaw(chunk: Uint8Array, onPacket: (p: CaptureParser, buf: Uint8Array) => void): void {
    if (this.done || chunk.length === 0) return;
    let buf: Uint8Array;
    if (this.pending) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
      this.pending = null;
    } else {
      buf = chunk;
    }
    const cur = this.cursor.reset(buf);
    while (cur.next()) onPacket(cur.parser, buf);
    if (cur.stop === STEP_DONE) this.done = true;
    // Copy the tail: the caller may reuse its chunk buffer (e.g. fs.read into one buffer).
    else if (cur.leftover > 0) this.pending = buf.slice(cur.off);
  }

  end(): StreamEndResult {
    const left = this.pending ? this.pending.length : 0;
    if (left > 0 && !this.done) this.cursor.reset(this.pending!).endOfInput('input');
    this.pending = null;
    this.done = true;
    return { leftoverBytes: left, counters: this.counters };
  }
}

/** Cheap sniff: does this buffer start like a capture file we can read? */
export function detectCaptureFormat(buf: Uint8Array): CaptureFormat | undefined {
  if (buf.length < 4) return undefined;
  const m = u32(buf, 0, true);
  if (m === PCAPNG_SHB) return 'pcapng';
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1) return 'pcap';
  if (m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap-ns';
  if (m === 0xa1b2cd34 || m === 0x34cdb2a1) return 'pcap-modified';
  return undefined;
}

/** API-edge helper: throw a typed error when the buffer is not a capture. */
export function assertCapture(buf: Uint8Array): CaptureFormat {
  const f = detectCaptureFormat(buf);
  if (!f) throw new CaptureFormatError('input is not a pcap or pcapng capture');
  return f;
}
