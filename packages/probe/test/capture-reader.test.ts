// Capture reader: every format variant, truncation, streaming.
import { readCapture, CaptureStreamReader, newReaderCounters, forEachPacket, Packet, detectCaptureFormat, assertCapture, CaptureFormatError } from '../src/capture';
import { readCorpusFile, listCaptures, requireCorpus } from './helpers/corpus';

function le32(v: number): number[] { return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]; }
function be32(v: number): number[] { return le32(v).reverse(); }
function le16(v: number): number[] { return [v & 255, (v >>> 8) & 255]; }
function be16(v: number): number[] { return le16(v).reverse(); }

function classic(opts: { le: boolean; magic: number; modified?: boolean; linktype?: number; recs: { sec: number; frac: number; data: number[]; orig?: number }[] }): Uint8Array {
  const w32 = opts.le ? le32 : be32;
  const w16 = opts.le ? le16 : be16;
  const out: number[] = [...w32(opts.magic), ...w16(2), ...w16(4), ...w32(0), ...w32(0), ...w32(65535), ...w32(opts.linktype ?? 105)];
  for (const r of opts.recs) {
    out.push(...w32(r.sec), ...w32(r.frac), ...w32(r.data.length), ...w32(r.orig ?? r.data.length));
    if (opts.modified) out.push(...w32(1), ...w16(0x0800), 0, 0);
    out.push(...r.data);
  }
  return Uint8Array.from(out);
}

function pad4(a: number[]): number[] { while (a.length % 4) a.push(0); return a; }
function block(le: boolean, type: number, body: number[]): number[] {
  const w32 = le ? le32 : be32;
  const b = pad4([...body]);
  const len = 12 + b.length;
  return [...w32(type), ...w32(len), ...b, ...w32(len)];
}
function shb(le: boolean): number[] {
  const w32 = le ? le32 : be32; const w16 = le ? le16 : be16;
  const body = [...w32(0x1a2b3c4d), ...w16(1), ...w16(0), ...w32(0xffffffff), ...w32(0xffffffff)];
  const len = 12 + body.length;
  return [...le32(0x0a0d0d0a), ...w32(len), ...body, ...w32(len)];
}
function idb(le: boolean, linktype: number, snaplen: number, opts: number[][] = []): number[] {
  const w32 = le ? le32 : be32; const w16 = le ? le16 : be16;
  const body = [...w16(linktype), ...w16(0), ...w32(snaplen)];
  for (const o of opts) body.push(...pad4(o));
  if (opts.length) body.push(0, 0, 0, 0);
  return block(le, 1, body);
}
function opt(le: boolean, code: number, val: number[]): number[] { const w16 = le ? le16 : be16; return [...w16(code), ...w16(val.length), ...val]; }
function epb(le: boolean, ifId: number, hi: number, lo: number, data: number[], orig?: number): number[] {
  const w32 = le ? le32 : be32;
  return block(le, 6, [...w32(ifId), ...w32(hi), ...w32(lo), ...w32(data.length), ...w32(orig ?? data.length), ...data]);
}
function spb(le: boolean, orig: number, data: number[]): number[] { const w32 = le ? le32 : be32; return block(le, 3, [...w32(orig), ...data]); }

const DATA = [0xd4, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6];

describe('classic pcap', () => {
  it.each([
    ['LE µs', true, 0xa1b2c3d4, false, 123456000],
    ['BE µs', false, 0xa1b2c3d4, false, 123456000],
    ['LE ns', true, 0xa1b23c4d, false, 123456],
    ['BE ns', false, 0xa1b23c4d, false, 123456],
    ['LE modified', true, 0xa1b2cd34, true, 123456000],
    ['BE modified', false, 0xa1b2cd34, true, 123456000],
  ])('%s', (_n, le, magic, modified, nsec) => {
    const frac = magic === 0xa1b23c4d ? 123456 : 123456;
    const buf = classic({ le: le as boolean, magic: magic as number, modified: modified as boolean, recs: [{ sec: 1700000000, frac, data: DATA, orig: 20 }, { sec: 1700000001, frac: 0, data: DATA.slice(0, 4) }] });
    const c = newReaderCounters();
    const pk = [...readCapture(buf, c)];
    expect(pk).toHaveLength(2);
    expect(pk[0]).toMatchObject({ linktype: 105, tsSec: 1700000000, tsNsec: nsec, capLen: 10, origLen: 20, interfaceId: 0 });
    expect(Array.from(pk[0].data)).toEqual(DATA);
    expect(pk[0].data.buffer).toBe(buf.buffer); // zero-copy view
    expect(pk[1].capLen).toBe(4);
    expect(c).toMatchObject({ packets: 2, truncatedRecords: 0, errors: 0 });
    expect(detectCaptureFormat(buf)).toBe(c.format);
  });

  it('counts (and does not emit) a record cut short, like tshark', () => {
    const full = classic({ le: true, magic: 0xa1b2c3d4, recs: [{ sec: 1, frac: 0, data: DATA }, { sec: 2, frac: 0, data: DATA }] });
    for (let cut = full.length - 1; cut > 24 + 16 + DATA.length; cut--) {
      const c = newReaderCounters();
      const pk = [...readCapture(full.subarray(0, cut), c)];
      expect(pk).toHaveLength(1);
      expect(c.truncatedRecords).toBe(1);
    }
  });

  it('never throws on garbage and reports errors', () => {
    const c = newReaderCounters();
    expect([...readCapture(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), c)]).toHaveLength(0);
    expect(c.errors).toBe(1);
    expect(() => assertCapture(Uint8Array.from([1, 2, 3, 4]))).toThrow(CaptureFormatError);
    const huge = classic({ le: true, magic: 0xa1b2c3d4, recs: [{ sec: 1, frac: 0, data: DATA }] });
    new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
    const c2 = newReaderCounters();
    expect([...readCapture(huge, c2)]).toHaveLength(0);
    expect(c2.errors).toBe(1);
  });
});

describe('pcapng', () => {
  it('reads SHB/IDB/EPB/SPB with per-interface linktype, tsresol (10^-n and 2^-n), tsoffset, and BE sections', () => {
    const bytes = [
      ...shb(true),
      ...idb(true, 127, 0), // default µs
      ...idb(true, 105, 6, [opt(true, 9, [9]), opt(true, 14, [...le32(100), ...le32(0)])]), // ns + 100 s offset
      ...idb(true, 1, 0, [opt(true, 9, [0x80 | 10])]), // 2^-10 s
      ...epb(true, 0, 0x00060a0b, 0x1c8d3e40, DATA), // µs
      ...epb(true, 1, 0x17a2d4e5, 0x4f1c0d15, DATA, 99),
      ...epb(true, 2, 0, 3 * 1024 + 512, DATA),
      ...block(true, 5, [1, 2, 3, 4]), // ISB: skipped
      ...spb(true, 10, DATA), // SPB: IDB 0 (snaplen 0)
      ...shb(false),
      ...idb(false, 105, 4),
      ...spb(false, 10, DATA), // snaplen 4 caps the data
      ...epb(false, 0, 0, 2_500_000, DATA),
    ];
    const c = newReaderCounters();
    const pk: Packet[] = [...readCapture(Uint8Array.from(bytes), c)];
    expect(c).toMatchObject({ format: 'pcapng', packets: 6, errors: 0, skippedBlocks: 1 });
    const us = 0x00060a0b * 4294967296 + 0x1c8d3e40;
    expect(pk[0]).toMatchObject({ linktype: 127, interfaceId: 0, tsSec: Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000 });
    const ns = BigInt(0x17a2d4e5) * 4294967296n + BigInt(0x4f1c0d15);
    expect(pk[1]).toMatchObject({ linktype: 105, interfaceId: 1, origLen: 99, tsSec: Number(ns / 1000000000n) + 100, tsNsec: Number(ns % 1000000000n) });
    expect(pk[2]).toMatchObject({ linktype: 1, tsSec: 3, tsNsec: 500000000 });
    expect(pk[3]).toMatchObject({ linktype: 127, capLen: 10, origLen: 10 });
    expect(pk[4]).toMatchObject({ linktype: 105, capLen: 4, origLen: 10 });
    expect(pk[5]).toMatchObject({ linktype: 105, tsSec: 2, tsNsec: 500000000 });
  });

  it('stops with an error on a bad block length, never throws', () => {
    const bytes = Uint8Array.from([...shb(true), ...idb(true, 105, 0), ...le32(6), ...le32(13), 0, 0, 0, 0, 0]);
    const c = newReaderCounters();
    expect([...readCapture(bytes, c)]).toHaveLength(0);
    expect(c.errors).toBe(1);
  });
});

describe('corpus files', () => {
  requireCorpus();
  const expected: Record<string, number> = {
    'aircrack-ng__pmkid-not-recognized.cap': 20056,
    'derived__aircrack-ng__test1.pcapng': 192,
    'derived__aircrack-ng__test1.be.pcap': 192,
    'derived__aircrack-ng__test1.nsec.pcap': 192,
    'derived__aircrack-ng__test1.snap96.pcap': 192,
    'tcpdump__radiotap-heapoverflow.pcap': 1,
  };
  it.each(Object.entries(expected))('%s has %d packets', (f, n) => {
    const c = newReaderCounters();
    expect([...readCapture(readCorpusFile('wifi', f), c)]).toHaveLength(n);
    expect(c.truncatedRecords).toBe(f.startsWith('aircrack-ng__pmkid') ? 1 : 0); // that file ends mid-packet
  });

  it('derived variants (be / nsec / pcapng) yield the same packets as the original', () => {
    const orig = [...readCapture(readCorpusFile('wifi', 'aircrack-ng__test1.pcap'))];
    for (const f of ['derived__aircrack-ng__test1.be.pcap', 'derived__aircrack-ng__test1.nsec.pcap', 'derived__aircrack-ng__test1.pcapng']) {
      const other = [...readCapture(readCorpusFile('wifi', f))];
      expect(other.length).toBe(orig.length);
      other.forEach((p, i) => {
        expect([p.tsSec, p.tsNsec, p.capLen, p.origLen, p.linktype]).toEqual([orig[i].tsSec, orig[i].tsNsec, orig[i].capLen, orig[i].origLen, orig[i].linktype]);
        expect(Buffer.from(p.data).equals(Buffer.from(orig[i].data))).toBe(true);
      });
    }
  });

  it('wired captures (pcapng multi-interface, modified, ns, empty) read without errors', () => {
    for (const f of listCaptures('wired')) {
      const c = newReaderCounters();
      const n = [...readCapture(readCorpusFile('wired', f), c)].length;
      expect(c.errors).toBe(0);
      expect(n).toBe(c.packets);
    }
    const c = newReaderCounters();
    const pk = [...readCapture(readCorpusFile('wired', 'pcap-parser__modified-format.pcap'), c)];
    expect(c.format).toBe('pcap-modified');
    expect(pk[0]).toMatchObject({ tsSec: 1712763541, capLen: 98 });
  });
});

describe('CaptureStreamReader', () => {
  requireCorpus();
  it.each(['aircrack-ng__test1.pcap', 'derived__aircrack-ng__test1.pcapng', 'aircrack-ng__pmkid-not-recognized.cap'])('chunked reads equal whole-file reads: %s', (f) => {
    const buf = readCorpusFile('wifi', f);
    const whole: Packet[] = [];
    forEachPacket(buf, (p, b) => whole.push({ linktype: p.linktype, tsSec: p.tsSec, tsNsec: p.tsNsec, capLen: p.capLen, origLen: p.origLen, interfaceId: p.interfaceId, data: b.slice(p.pktOff, p.pktOff + p.capLen) }));
    for (const chunk of [1, 7, 100, 4096, 65536]) {
      const r = new CaptureStreamReader();
      const got: Packet[] = [];
      for (let o = 0; o < buf.length; o += chunk) got.push(...r.push(buf.subarray(o, o + chunk)));
      const end = r.end();
      expect(got.length).toBe(whole.length);
      expect(end.counters.truncatedRecords).toBe(f.startsWith('aircrack-ng__pmkid') ? 1 : 0);
      for (let i = 0; i < got.length; i += Math.max(1, Math.floor(got.length / 50))) {
        expect(got[i].tsNsec).toBe(whole[i].tsNsec);
        expect(Buffer.from(got[i].data).equals(Buffer.from(whole[i].data))).toBe(true);
      }
    }
  });
});
