// Property tests: mutated / truncated corpus frames through every decoder path never throw, and
// every frame flagged malformed is counted.
import fc from 'fast-check';
import { readCapture, CaptureStreamReader, newReaderCounters } from '../src/capture';
import { WifiDecoder } from '../src/wifi/decoder';
import { formatEkWifi, writeEkWifi, EkSink } from '../src/ek/wifi';
import { toRecord } from '../src/wifi/record';
import { readCorpusFile, listCaptures, requireCorpus } from './helpers/corpus';

interface Sample { linktype: number; data: Uint8Array }

function samples(): Sample[] {
  const out: Sample[] = [];
  for (const f of listCaptures('wifi')) {
    const pk = [...readCapture(readCorpusFile('wifi', f))];
    const step = Math.max(1, Math.floor(pk.length / 40));
    for (let i = 0; i < pk.length; i += step) out.push({ linktype: pk[i].linktype, data: pk[i].data.slice() });
  }
  return out;
}

describe('Wi-Fi decoder robustness (fast-check)', () => {
  requireCorpus();
  const pool = samples();
  const linktypes = [105, 127, 119, 163, 192];

  const check = (dec: WifiDecoder, data: Uint8Array, capLen: number, origLen: number, lt: number): boolean => {
    const before = dec.counters.malformed;
    const fr = dec.decode(data, 0, capLen, origLen, lt, 1700000000, 123456789);
    const line = formatEkWifi(fr);
    JSON.parse(line);
    const sink = new EkSink(64);
    writeEkWifi(fr, sink);
    if (sink.take().toString('utf8') !== line + '\n') return false;
    const rec = toRecord(fr);
    if (rec.malformed !== fr.malformed) return false;
    return dec.counters.malformed === before + (fr.malformed ? 1 : 0);
  };

  it('byte mutations never throw; malformed frames are counted', () => {
    const dec = new WifiDecoder(undefined, true);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        fc.boolean(),
        (i, muts, swapLt) => {
          const s = pool[i];
          const d = s.data.slice();
          for (const [pos, v] of muts) if (d.length) d[pos % d.length] = v;
          const lt = swapLt ? linktypes[(muts.length + i) % linktypes.length] : s.linktype;
          return check(dec, d, d.length, d.length, lt);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('truncations (snaplen-style and really short frames) never throw', () => {
    const dec = new WifiDecoder(undefined, true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pool.length - 1 }), fc.nat(), fc.boolean(), (i, cut, snap) => {
        const s = pool[i];
        const capLen = s.data.length ? cut % (s.data.length + 1) : 0;
        const d = s.data.subarray(0, capLen);
        return check(dec, d, capLen, snap ? s.data.length : capLen, s.linktype);
      }),
      { numRuns: 5000 },
    );
  });

  it('a frame cut inside its elements is malformed (reported length shortened)', () => {
    const dec = new WifiDecoder(undefined, true);
    // beacon from aircrack-ng__test1 with a 1-byte cut: the last element overruns the frame
    const beacon = pool.find((s) => s.linktype === 127 && s.data.length > 100 && s.data[s.data[2]] === 0x80);
    expect(beacon).toBeDefined();
    const d = beacon!.data.subarray(0, beacon!.data.length - 5);
    const fr = dec.decode(d, 0, d.length, d.length, 127);
    expect(fr.malformed).toBe(true);
    expect(dec.counters.malformed).toBe(1);
  });

  it('random garbage into the capture readers never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(0xa1b2c3d4, 0xd4c3b2a1, 0x0a0d0d0a, 0xa1b23c4d, 0xa1b2cd34), (bytes, magic) => {
        const b = new Uint8Array(bytes.length + 4);
        new DataView(b.buffer).setUint32(0, magic, true);
        b.set(bytes, 4);
        const c = newReaderCounters();
        let n = 0;
        for (const p of readCapture(b, c)) { if (p.data.length !== p.capLen) return false; n++; }
        const r = new CaptureStreamReader();
        let m = 0;
        for (let o = 0; o < b.length; o += 13) m += r.push(b.subarray(o, o + 13)).length;
        r.end();
        return n === c.packets && m === n;
      }),
      { numRuns: 3000 },
    );
  });
});
