// Frame records as the probe publishes them (src/wifi/pack.ts): the object, and its pre-packed
// msgpack form, which must decode through the runtime's codec to exactly what msgpackr makes of
// the object: same keys, same values, for every frame of the corpus, at every detail level, with
// and without raw bytes, whether the runtime appends them to a batch at emit time (sources) or
// packs a list of them (testkit feed / handlers). With every detail group the record is the
// library's `toRecord` plus frame, capture and sa_local.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Packr } from 'msgpackr';
import { decodeValue } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type TestPipeline } from '@pcapflow/core/testkit';
import { forEachPacket } from '../src/capture';
import { configSchema, detailGroups } from '../src/plugin';
import { Counters, PacketProcessor, type FrameRecord } from '../src/source/processor';
import { WifiDecoder } from '../src/wifi/decoder';
import { getMacResolver, MacResolver } from '../src/oui';
import { BASIC_KEYS, DETAIL_GROUPS, FrameRecordBuilder, frameKeys, packedValues, packPlainValues, PACKED_KEYS, PACKED_SLAB, PACKED_VALUES, type DetailGroup } from '../src/wifi/pack';
import { toRecord } from '../src/wifi/record';
import { corpusPath, listCaptures, readCorpusFile, requireCorpus } from './helpers/corpus';

type Rec = Record<string, unknown>;
const packr = new Packr({ useRecords: true });
/** What a consumer receives for `records` packed the ordinary way (msgpackr over the objects). */
const viaMsgpackr = (records: object[]): Rec[] => decodeValue<Rec[]>(packr.pack(records));
const strip = (r: Rec): Rec => { const { $subject: _s, ...rest } = r; return rest; };
/** String-keyed fields only (the packed form hides under symbols). */
const fields = (r: object): Rec => Object.fromEntries(Object.entries(r));
const byFrame = (a: Rec, b: Rec) => String(a.capture).localeCompare(String(b.capture)) || (a.frame as number) - (b.frame as number);
const noCount = new Counters({ counter: () => ({ value: 0, inc() { /* not counted here */ } }) });
const FULL: DetailGroup[] = [...DETAIL_GROUPS];

const cache = new Map<string, FrameRecord[]>();
/** Frame records of every corpus capture (Wi-Fi link types and 802.11 in GRE) through PacketProcessor. */
function frameRecords(keepRaw: boolean, detail: readonly DetailGroup[] = [], subs: ReadonlyArray<'wifi' | 'wired'> = ['wifi', 'wired']): FrameRecord[] {
  const id = `${keepRaw}|${detail.join()}|${subs.join()}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const out: FrameRecord[] = [];
  cache.set(id, out);
  for (const sub of subs) {
    for (const name of listCaptures(sub)) {
      const proc = new PacketProcessor((o, r) => { if (o === 'frames') out.push(r as unknown as FrameRecord); }, noCount,
        { wifi: true, wired: true, keepRaw, malformed: 'emit', detail }).beginCapture(name);
      const buf = readCorpusFile(sub, name);
      try {
        forEachPacket(buf, (p, b) => proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec));
      } catch { /* a corrupt capture: the frames before the error are enough */ }
    }
  }
  return out;
}

/** The records of a stream from its start (all `n` of them are in it already). */
async function readStream(p: TestPipeline, stream: string, n: number): Promise<Rec[]> {
  const out: Rec[] = [];
  const sub = await p.transport.consume({ stream, durable: 'check', filterSubject: '>', maxAckPending: 10_000, ackWaitMs: 30_000, maxDeliver: 1 },
    async (msg) => { out.push(...decodeValue<Rec[]>(msg.data)); msg.ack(); });
  for (let t = Date.now(); out.length < n && Date.now() - t < 30_000;) await new Promise((r) => setTimeout(r, 20));
  await sub.stop();
  return out;
}

/** node's deep equality is much faster than expect().toEqual on 20k records; toEqual shows the diff. */
function expectSame(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

describe('frame records', () => {
  beforeAll(() => { requireCorpus(); });

  it('have the key list of their detail level, in that order, and carry it as their packed keys', () => {
    for (const keepRaw of [false, true]) {
      for (const detail of [[], ['resolved'], ['ssid_hex', 'vendor_ies'], FULL] as DetailGroup[][]) {
        const want = frameKeys(detail, keepRaw);
        const recs = frameRecords(keepRaw, detail);
        expect(recs.length).toBeGreaterThan(10000);
        const packedKeys = (r: object) => (r as unknown as Record<symbol, readonly string[]>)[PACKED_KEYS];
        expect(packedKeys(recs[0]!)).toEqual(want);
        // one shared key array per shape (the codec defines a shape once per message by identity)
        expect(recs.filter((r) => packedKeys(r) !== packedKeys(recs[0]!) || Object.keys(r).join() !== want.join()).map((r) => `${r.capture}#${r.frame}`)).toEqual([]);
      }
    }
    expect(frameKeys([], false)).toEqual(BASIC_KEYS);
    expect(frameKeys([], false)).not.toContain('ra_resolved');
    expect(frameKeys([], false)).toContain('sa_resolved');
    expect(frameKeys(['vendor_ies'], true).slice(-2)).toEqual(['vendor_ies', 'raw']);
  });

  it('with every detail group equal the library record (toRecord) plus frame, capture, sa_local and raw; basic ones are its projection', () => {
    for (const name of listCaptures('wifi')) {
      const full = frameRecords(true, FULL, ['wifi']).filter((r) => r.capture === name);
      const basic = frameRecords(false, [], ['wifi']).filter((r) => r.capture === name);
      const expected: Rec[] = [];
      const dec = new WifiDecoder();
      let n = 0;
      try {
        forEachPacket(readCorpusFile('wifi', name), (p, b) => {
          const fr = dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec);
          expected.push({ ...toRecord(fr), frame: ++n, capture: name, sa_local: fr.sa >= 0 ? (b[fr.sa] & 2) === 2 : null, raw: b.slice(p.pktOff, p.pktOff + p.capLen) });
        });
      } catch { /* corrupt tail */ }
      expectSame(full.map(fields), expected);
      const keys = new Set(frameKeys([], false));
      expectSame(basic.map(fields), expected.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => keys.has(k)))));
    }
  });

  it.each([
    [false, 'basic'], [true, 'basic'], [false, 'full'], [true, 'full'],
  ] as const)('decode like msgpackr-packed objects when a list is packed (keep_raw %s, detail %s)', async (keepRaw, level) => {
    const detail = level === 'full' ? FULL : [];
    const recs = frameRecords(keepRaw, detail);
    const p = await startTestPipeline({ yaml: 'streams:\n  T: { subjects: ["t.>", "n.>"] }\ninstances: {}\n' });
    try {
      const got = p.collect('t.>');
      // several shapes mixed in one message too, and a record that is not pre-packed
      const mixed = [...frameRecords(!keepRaw, detail).slice(0, 20), ...frameRecords(keepRaw, level === 'full' ? [] : FULL).slice(0, 20), { a: 1, b: 'x' }];
      for (let i = 0; i < recs.length; i += 1000) await p.feed(`t.${i}`, recs.slice(i, i + 1000) as unknown as Rec[]);
      await p.feed('t.mixed', mixed as unknown as Rec[]);
      await got.waitFor(recs.length + mixed.length);
      expectSame(got.records.map(strip), [...viaMsgpackr(recs), ...viaMsgpackr(mixed)]);
    } finally {
      await p.stop();
    }
  });

  it('decode like msgpackr-packed objects when the runtime batches them at emit time (probe in a topology)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-probe-pack-'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@pcapflow/probe', version: '0.1.0', main: 'index.js', pcapflow: { plugin: true, runtime: '^0.1.0' } }));
    writeFileSync(path.join(dir, 'index.js'), "module.exports = require('@pcapflow/probe');\n");
    const files = listCaptures('wifi').map((n) => corpusPath('wifi', n));
    // on NATS too: there the runtime reuses a message buffer once its publish is acked
    const nats = await startNatsServer();
    try {
      for (const [detail, natsUrl] of [['full', undefined], ['basic', undefined], ['basic', nats.url]] as const) {
        const p = await startTestPipeline({ natsUrl, yaml: `
streams:
  PK: { subjects: ["pk.>"] }
instances:
  probe:
    use: ${JSON.stringify(dir)}
    config: { source: { kind: file, path: ${JSON.stringify(files)} }, keep_raw: true, detail: ${detail} }
    outputs:
      frames: { subject: "pk.{subtype_name}.p{sa%4}", batch: 7 }
` });
        try {
          const got = natsUrl ? undefined : p.collect('pk.>');
          const actor = p.runtime.actors.find((a) => a.name === 'probe')!;
          while (!actor.finished) await new Promise((r) => setTimeout(r, 10));
          const n = (actor.health().metrics as Record<string, number>).emitted_frames;
          const records = got ? (await got.waitFor(n)).map(strip) : await readStream(p, 'PK', n);
          // expected: the same frames through PacketProcessor, packed the ordinary way
          const expected = frameRecords(true, detail === 'full' ? FULL : [], ['wifi']);
          expect(n).toBe(expected.length);
          expectSame(records.sort(byFrame), viaMsgpackr(expected).sort(byFrame));
        } finally {
          await p.stop();
        }
      }
    } finally {
      await nats.stop();
    }
  });

  it('detail config: basic by default, full, or a list of groups', () => {
    const parse = (detail?: unknown) => configSchema.parse({ source: { kind: 'file', path: '/x.pcap' }, ...(detail === undefined ? {} : { detail }) }).detail;
    expect(detailGroups(parse())).toEqual([]);
    expect(detailGroups(parse('full'))).toEqual(FULL);
    expect(detailGroups(parse(['vendor_ies', 'resolved']))).toEqual(['resolved', 'vendor_ies']);
    expect(() => parse(['names'])).toThrow();
  });

  it('records made elsewhere (tshark-ek input) keep only the detail groups asked for', () => {
    const full = fields(frameRecords(false, FULL, ['wifi'])[0]!);
    for (const detail of [[], ['ssid_hex'], FULL] as DetailGroup[][]) {
      const out: Rec[] = [];
      new PacketProcessor((_o, r) => out.push(r), noCount, { wifi: true, wired: true, keepRaw: false, malformed: 'emit', detail }).emitRecord('frames', { ...full });
      expect(Object.keys(out[0]!).sort()).toEqual([...frameKeys(detail, false)].sort());
    }
  });

  it('a record larger than the room made for it is made again in a slab that fits (huge resolved names)', () => {
    // a manuf file whose names are far longer than any real one: RA, TA and BSSID names together exceed a whole slab (4 MiB)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-manuf-'));
    const name = (c: string) => c.repeat(1_500_000);
    writeFileSync(path.join(dir, 'manuf'), ['f8:1a:67', '1c:cd:e5', 'ff:ff:ff', '00:00:00'].map((o, i) => `${o}\t${name('abcd'[i]!)}\tLong name\n`).join(''));
    writeFileSync(path.join(dir, 'wka'), '');
    const builder = new FrameRecordBuilder(FULL, false, new MacResolver(dir));
    const dec = new WifiDecoder();
    const built: Rec[] = [];
    forEachPacket(readCorpusFile('wifi', 'aircrack-ng__test1.pcap'), (p, b) => {
      if (built.length < 5) built.push(builder.build(dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), built.length + 1, 'x.pcap'));
    });
    expect(built.some((r) => packedValues(r)!.length > 4 << 20)).toBe(true);
    const keys = frameKeys(FULL, false);
    for (const r of built) {
      const packed = packedValues(r)!;
      const msg = new Uint8Array(3 + packed.length);
      msg.set([0xdc, 0, keys.length]);
      msg.set(packed, 3);
      const values = decodeValue<unknown[]>(msg);
      expectSame(Object.fromEntries(keys.map((k, i) => [k, values[i]])), viaMsgpackr([fields(r)])[0]);
    }
  });

  it('reuse their slab once the runtime has released every record of it, and only then', () => {
    const RELEASE = Symbol.for('pcapflow.packedRelease');
    const keys = frameKeys([], true);
    const decodeOwn = (r: Rec): Rec => {
      const packed = packedValues(r)!;
      const msg = Buffer.alloc(3 + packed.length); // (a Buffer: raw decodes to one, as from a packed message)
      msg.set([0xdc, 0, keys.length]);
      msg.set(packed, 3);
      const values = decodeValue<unknown[]>(msg);
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    };
    const capture = readCorpusFile('wifi', 'aircrack-ng__test1.pcap');
    /** Records of the capture read again and again until `n` are made (keep_raw: a few slabs' worth). */
    const build = (n: number, onRecord: (r: Rec) => void) => {
      const builder = new FrameRecordBuilder([], true, getMacResolver());
      const dec = new WifiDecoder();
      let made = 0;
      while (made < n) {
        forEachPacket(capture, (p, b) => {
          if (made++ < n) onRecord(builder.build(dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), made, 'x.pcap', b.slice(p.pktOff, p.pktOff + p.capLen)));
        });
      }
    };
    const N = 30_000;
    // never released (records kept by a caller): every record's bytes stay its own
    const kept: Rec[] = [];
    build(N, (r) => kept.push(r));
    const buffers = new Set(kept.map((r) => packedValues(r)!.buffer));
    expect(buffers.size).toBeGreaterThan(1); // (so the released run below wraps around its slab)
    expectSame(kept.map(decodeOwn), viaMsgpackr(kept.map(fields)));
    // released as the runtime does (count it, drop the bytes): one slab serves them all
    const used = new Set<ArrayBufferLike>();
    const own: Rec[] = [];
    const objects: Rec[] = [];
    build(N, (r) => {
      const rs = r as unknown as Record<symbol, unknown>;
      used.add(packedValues(r)!.buffer);
      own.push(decodeOwn(r)); // (before the release: then its bytes may be overwritten)
      objects.push(fields(r));
      rs[PACKED_SLAB] = undefined;
      (rs[RELEASE] as { released: number }).released++;
    });
    expect(used.size).toBe(1);
    expectSame(own, viaMsgpackr(objects));
  });

  it('fed as a list (encoded together, or beside a record without a packed form) decode like msgpackr-packed objects', async () => {
    // the span form through the codec's list encoding (the runtime's path when a record cannot be appended at emit time)
    const built = (frameRecords(false) as unknown as Rec[]).slice(0, 500);
    expect(built.every((r) => packedValues(r) !== undefined)).toBe(true);
    const p = await startTestPipeline({ yaml: 'streams:\n  T: { subjects: ["t.>", "n.>"] }\ninstances: {}\n' });
    try {
      const together = p.collect('n.a');
      const mixed = p.collect('n.b');
      await p.feed('n.a', built);
      await p.feed('n.b', [{ plain: 1 }, ...built]);
      expectSame((await together.waitFor(built.length)).map(strip), viaMsgpackr(built.map(fields)));
      expectSame((await mixed.waitFor(built.length + 1)).map(strip), viaMsgpackr([{ plain: 1 }, ...built.map(fields)]));
    } finally {
      await p.stop();
    }
  });

  it('writes numbers and strings as msgpackr reads them back', async () => {
    const values: Array<number | string | null | boolean> = [0, 1, 63, 64, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53,
      -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -1.25, 1e300, NaN, Infinity,
      '', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(300), 'x'.repeat(70000), 'héllo', '日本語'.repeat(20), null, true, false];
    const keys = Object.freeze(values.map((_, i) => `k${i}`));
    const rec = { [PACKED_KEYS]: keys, [PACKED_VALUES]: packPlainValues(values) };
    const p = await startTestPipeline({ yaml: 'streams:\n  T: { subjects: ["t.>", "n.>"] }\ninstances: {}\n' });
    try {
      const got = p.collect('n.>');
      await p.feed('n.x', [rec as unknown as Rec]);
      const [out] = await got.waitFor(1);
      expect(Object.values(strip(out))).toEqual(values);
    } finally {
      await p.stop();
    }
  });
});
