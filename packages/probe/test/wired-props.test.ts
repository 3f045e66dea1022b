// Property tests: mutated / truncated corpus frames into every wired decoder. No exception may
// escape; frames cut inside a header must come back flagged malformed and be counted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { readCapture, type Packet } from '../src/capture/reader';
import { WiredDecoder, decodeWired, decodeDns, formatEkDns, formatEkFlows, toWiredRecord, LINKTYPE } from '../src/wired';

const CORPUS = process.env.PCAPFLOW_CORPUS ?? path.resolve(__dirname, '../../../../shared/captures');
const WIRED = path.join(CORPUS, 'wired');

function loadFrames(): Packet[] {
  if (!fs.existsSync(WIRED)) throw new Error(`wired corpus not found at ${WIRED} (set PCAPFLOW_CORPUS)`);
  const out: Packet[] = [];
  for (const n of fs.readdirSync(WIRED).filter((x) => /\.(pcap|pcapng|cap)$/.test(x)).sort()) {
    for (const p of readCapture(new Uint8Array(fs.readFileSync(path.join(WIRED, n))))) out.push({ ...p, data: p.data.slice() });
  }
  return out;
}

const frames = loadFrames();
const LINKTYPES = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.RAW, LINKTYPE.IPV4, LINKTYPE.IPV6, LINKTYPE.NULL, LINKTYPE.LOOP, 12, 14, 9999];

function withData(p: Packet, data: Uint8Array, linktype = p.linktype): Packet {
  return { ...p, linktype, data, capLen: data.length };
}

function runAll(pkts: Packet[]): void {
  const dec = new WiredDecoder();
  let flagged = 0;
  for (const p of pkts) {
    const f = dec.decode(p);
    if (f.malformed) flagged++;
    formatEkFlows(f);
    formatEkDns(f);
    JSON.stringify(toWiredRecord(f));
    decodeWired(p);
  }
  expect(dec.malformedCount).toBe(flagged);
}

describe('wired decoders never throw on hostile input', () => {
  it('has corpus frames', () => expect(frames.length).toBeGreaterThan(300));

  it('truncated frames (every linktype interpretation)', () => {
    fc.assert(
      fc.property(fc.nat(frames.length - 1), fc.nat(1600), fc.constantFrom(...LINKTYPES), (i, cut, lt) => {
        const p = frames[i];
        runAll([withData(p, p.data.subarray(0, Math.min(cut, p.data.length)), lt)]);
      }),
      { numRuns: 3000 },
    );
  });

  it('byte-mutated frames, decoded as one stateful stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(frames.length - 1), fc.array(fc.tuple(fc.nat(1600), fc.nat(255)), { maxLength: 8 }), fc.nat(1600)), { minLength: 1, maxLength: 40 }),
        (spec) => {
          const pkts = spec.map(([i, muts, cut]) => {
            const p = frames[i];
            const d = p.data.slice(0, Math.max(1, Math.min(p.data.length, cut)));
            for (const [pos, v] of muts) if (d.length) d[pos % d.length] = v;
            return withData(p, d);
          });
          runAll(pkts);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('random bytes into the DNS decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        const m = decodeDns(b, 0, b.length);
        if (b.length < 4) expect(m).toBeUndefined();
        else expect(m).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('DNS pointer loops are malformed, not hangs', () => {
    const b = new Uint8Array([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(decodeDns(b, 0, b.length)?.malformed).toBe(true);
  });
});

describe('truncation inside a header is flagged malformed', () => {
  const ipv4Eth = frames.filter((p) => p.linktype === 1 && p.data[12] === 0x08 && p.data[13] === 0x00 && (p.data[14] >> 4) === 4);
  const dnsFrames = frames.filter((p) => decodeWired(p).dns.some((m) => m.answers.length > 0));

  it('Ethernet / IPv4 header cuts', () => {
    fc.assert(
      fc.property(fc.nat(ipv4Eth.length - 1), fc.integer({ min: 0, max: 33 }), (i, cut) => {
        const f = decodeWired(withData(ipv4Eth[i], ipv4Eth[i].data.subarray(0, cut)));
        expect(f.malformed).toBe(true);
        expect(f.ip.length).toBe(0);
      }),
    );
  });

  it('transport header cuts (TCP < 16 bytes, UDP < 8 bytes)', () => {
    for (const p of ipv4Eth) {
      const ihl = (p.data[14] & 0xf) * 4;
      const proto = p.data[23];
      if (proto !== 6 && proto !== 17) continue;
      const need = proto === 6 ? 16 : 8;
      for (let cut = 0; cut < need; cut++) {
        const f = decodeWired(withData(p, p.data.subarray(0, 14 + ihl + cut)));
        expect(f.malformed).toBe(true);
      }
    }
  });

  it('DNS messages cut inside the answers', () => {
    expect(dnsFrames.length).toBeGreaterThan(5);
    fc.assert(
      fc.property(fc.nat(dnsFrames.length - 1), fc.nat(10_000), (i, r) => {
        const p = dnsFrames[i];
        // cut within the last 40 bytes of the DNS message (frames end with the UDP payload)
        const cut = p.data.length - 1 - (r % 40);
        const f = decodeWired(withData({ ...p, capLen: cut }, p.data.subarray(0, cut)));
        if (f.dns.length) {
          expect(f.dns[0].malformed).toBe(true);
          expect(f.malformed).toBe(true);
        }
      }),
    );
  });
});
