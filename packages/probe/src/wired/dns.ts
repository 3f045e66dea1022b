// DNS message decoder (RFC 1035 + the RR types pcapflow plugins use). Pure function over a byte
// range; never throws. Fields are recorded in the order Wireshark's packet-dns.c adds them to the
// tree so that a message cut short yields exactly the prefix of fields tshark would show.

import { ipv4ToString, ipv6ToString, toHex } from './addr';

export const DNS_T = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41,
  NSEC: 47, NSEC3: 50, CSYNC: 62,
} as const;

export interface DnsQuestion { name: string; type: number; cls: number }

export interface DnsRR {
  section: 'answer' | 'authority' | 'additional';
  name: string;
  type: number;
  cls: number;
  /** undefined for OPT (no TTL field in Wireshark) or when the TTL was cut off. */
  ttl?: number;
  /** Human-readable RDATA for known types (A, AAAA, CNAME, PTR, NS, MX, TXT, SRV, SOA); else undefined. */
  data?: string;
  /** Raw RDATA (subarray of the frame, no copy) for every type. */
  raw?: Uint8Array;
  /** RR types listed in a NSEC/NSEC3/CSYNC type bitmap (Wireshark adds them as dns.resp.type too). */
  bitmapTypes?: number[];
  /** true once the whole RR (incl. RDATA) was decoded. */
  complete: boolean;
}

export interface DnsMessage {
  id: number;
  flags: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRR[];
  authority: DnsRR[];
  additional: DnsRR[];
  malformed: boolean;
}

class Trunc extends Error {}
const TRUNC = new Trunc('truncated');

interface NameResult { name: string; len: number }

const LOOP_NAME = '<Name contains a pointer that loops>';
/**
 * Set when the message is bad but decoding goes on: a compression loop (Wireshark shows LOOP_NAME
 * and continues) or RDATA strings overrunning RDLENGTH (we resume at the next RR).
 */
let softError = false;
const C_ESC: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

/**
 * Label bytes as Wireshark 4.0 shows them (format_text): UTF-8 kept, invalid bytes -> U+FFFD,
 * C escapes for \a\b\t\n\v\f\r, other control bytes and DEL as 3-digit octal.
 */
function labelText(b: Uint8Array, start: number, end: number): string {
  let plain = true;
  for (let i = start; i < end; i++) if (b[i] < 0x20 || b[i] > 0x7e) { plain = false; break; }
  if (plain) {
    let t = '';
    for (let i = start; i < end; i++) t += String.fromCharCode(b[i]);
    return t;
  }
  let s = '';
  for (let i = start; i < end; ) {
    const c = b[i];
    if (c < 0x20 || c === 0x7f) {
      s += C_ESC[c] ?? '\\' + c.toString(8).padStart(3, '0');
      i++;
    } else if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
    } else {
      const n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
      let ok = n > 0 && i + n < end;
      if (ok) for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) { ok = false; break; }
      if (ok) {
        let cp = c & (n === 1 ? 0x1f : n === 2 ? 0x0f : 0x07);
        for (let k = 1; k <= n; k++) cp = (cp << 6) | (b[i + k] & 0x3f);
        if ((n === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff))) ok = false;
        else { s += String.fromCodePoint(cp); i += n + 1; continue; }
      }
      s += '\ufffd';
      i++;
    }
  }
  return s;
}

/** Reads a (possibly compressed) name at off; msgStart anchors compression pointers. */
function readName(b: Uint8Array, msgStart: number, end: number, off: number): NameResult {
  let name = '';
  let pos = off;
  let len = -1; // bytes consumed at the original position
  let processed = 0;
  const msgLen = end - msgStart;
  for (;;) {
    if (pos >= end) throw TRUNC;
    const l = b[pos];
    if (l === 0) {
      if (len < 0) len = pos + 1 - off;
      break;
    }
    const kind = l & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) throw TRUNC;
      const ptr = ((l & 0x3f) << 8) | b[pos + 1];
      if (len < 0) len = pos + 2 - off;
      processed += 2;
      // Wireshark: having looked at as many bytes as the message has means we are looping.
      if (processed >= msgLen) { softError = true; return { name: LOOP_NAME, len }; }
      pos = msgStart + ptr;
      continue;
    }
    if (kind !== 0) throw TRUNC; // extended label types: unsupported -> malformed
    if (pos + 1 + l > end) throw TRUNC;
    if (name.length) name += '.';
    name += labelText(b, pos + 1, pos + 1 + l);
    processed += 1 + l;
    pos += 1 + l;
  }
  return { name: name.length ? name : '<Root>', len };
}

function u16(b: Uint8Array, o: number, end: number): number {
  if (o + 2 > end) throw TRUNC;
  return (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number, end: number): number {
  if (o + 4 > end) throw TRUNC;
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function bitmapTypes(b: Uint8Array, o: number, end: number, out: number[]): void {
  while (o < end) {
    if (o + 2 > end) throw TRUNC;
    const win = b[o], blen = b[o + 1];
    o += 2;
    if (o + blen > end) throw TRUNC;
    for (let i = 0; i < blen; i++) {
      const byte = b[o + i];
      for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) out.push(win * 256 + i * 8 + bit);
    }
    o += blen;
  }
}

function decodeRR(b: Uint8Array, msgStart: number, end: number, off: number, rr: DnsRR): number {
  const n = readName(b, msgStart, end, off);
  off += n.len;
  // Wireshark reads name, type and class before adding anything for the RR.
  const type = u16(b, off, end);
  const cls = u16(b, off + 2, end);
  rr.name = n.name;
  rr.type = type;
  rr.cls = cls;
  off += 4;
  if (type !== DNS_T.OPT) rr.ttl = u32(b, off, end);
  else if (off + 4 > end) throw TRUNC;
  off += 4;
  const rdlen = u16(b, off, end);
  off += 2;
  const rdEnd = off + rdlen;
  const avail = Math.min(rdEnd, end);
  rr.raw = b.subarray(off, avail);
  switch (type) {
    // Wireshark reads 4 / 16 bytes whatever the RDLENGTH says (bounded by the message only).
    case DNS_T.A:
      if (off + 4 > end) throw TRUNC;
      rr.data = ipv4ToString(b, off);
      break;
    case DNS_T.AAAA:
      if (off + 16 > end) throw TRUNC;
      rr.data = ipv6ToString(b, off);
      break;
    case DNS_T.CNAME: case DNS_T.PTR: case DNS_T.NS:
      rr.data = readName(b, msgStart, end, off).name;
      break;
    case DNS_T.MX: {
      const pref = u16(b, off, end);
      rr.data = pref + ' ' + readName(b, msgStart, end, off + 2).name;
      break;
    }
    case DNS_T.SRV: {
      const prio = u16(b, off, end), weight = u16(b, off + 2, end), port = u16(b, off + 4, end);
      rr.data = prio + ' ' + weight + ' ' + port + ' ' + readName(b, msgStart, end, off + 6).name;
      break;
    }
    case DNS_T.SOA: {
      const m = readName(b, msgStart, end, off);
      const r = readName(b, msgStart, end, off + m.len);
      let o = off + m.len + r.len;
      const nums: number[] = [];
      for (let i = 0; i < 5; i++, o += 4) nums.push(u32(b, o, end));
      rr.data = m.name + ' ' + r.name + ' ' + nums.join(' ');
      break;
    }
    case DNS_T.TXT: case 99 /* SPF */: {
      const parts: string[] = [];
      let o = off;
      while (o < rdEnd) {
        if (o >= end) throw TRUNC;
        const l = b[o];
        if (o + 1 + l > end) throw TRUNC;
        if (o + 1 + l > rdEnd) { softError = true; break; } // string overruns RDLENGTH
        let s = '';
        for (let i = o + 1; i <= o + l; i++) s += String.fromCharCode(b[i]);
        parts.push(s);
        o += 1 + l;
      }
      rr.data = parts.join(' ');
      break;
    }
    case DNS_T.NSEC: case DNS_T.CSYNC: {
      const types: number[] = [];
      rr.bitmapTypes = types;
      let o = off;
      if (type === DNS_T.NSEC) o += readName(b, msgStart, end, off).len;
      else o += 6; // CSYNC: serial + flags
      if (o > end) throw TRUNC;
      bitmapTypes(b, o, Math.min(rdEnd, end), types);
      if (rdEnd > end) throw TRUNC;
      break;
    }
    case DNS_T.NSEC3: {
      const types: number[] = [];
      rr.bitmapTypes = types;
      if (off + 5 > end) throw TRUNC;
      let o = off + 4;
      o += 1 + b[o];
      if (o >= end) throw TRUNC;
      o += 1 + b[o];
      if (o > end) throw TRUNC;
      bitmapTypes(b, o, Math.min(rdEnd, end), types);
      if (rdEnd > end) throw TRUNC;
      break;
    }
    default:
      break;
  }
  if (rdEnd > end) throw TRUNC;
  rr.complete = true;
  return rdEnd;
}

/** Decodes one DNS message in b[start, end). Returns undefined if not even the 12-byte header fits. */
export function decodeDns(b: Uint8Array, start: number, end: number): DnsMessage | undefined {
  if (end - start < 4) return undefined;
  const flags = (b[start + 2] << 8) | b[start + 3];
  const msg: DnsMessage = {
    id: (b[start] << 8) | b[start + 1],
    flags,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authority: [],
    additional: [],
    malformed: false,
  };
  softError = false;
  try {
    const qd = u16(b, start + 4, end), an = u16(b, start + 6, end);
    const ns = u16(b, start + 8, end), ar = u16(b, start + 10, end);
    let off = start + 12;
    for (let i = 0; i < qd; i++) {
      const n = readName(b, start, end, off);
      off += n.len;
      const type = u16(b, off, end), cls = u16(b, off + 2, end);
      off += 4;
      msg.questions.push({ name: n.name, type, cls });
    }
    const sections: [number, DnsRR[], DnsRR['section']][] = [
      [an, msg.answers, 'answer'], [ns, msg.authority, 'authority'], [ar, msg.additional, 'additional'],
    ];
    for (const [count, list, section] of sections) {
      for (let i = 0; i < count; i++) {
        const rr: DnsRR = { section, name: '', type: -1, cls: 0, complete: false };
        try {
          off = decodeRR(b, start, end, off, rr);
        } finally {
          if (rr.type >= 0) list.push(rr);
        }
      }
    }
  } catch {
    // Truncation (TRUNC) or anything unexpected: keep what was decoded, flag the message.
    msg.malformed = true;
  }
  if (softError) msg.malformed = true;
  return msg;
}

export function dnsRawHex(rr: DnsRR): string | undefined {
  return rr.raw ? toHex(rr.raw, 0, rr.raw.length) : undefined;
}
