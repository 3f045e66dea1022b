// The pre-packed frame records (src/wifi/pack.ts) must decode, through the runtime's codec, to
// exactly what msgpackr makes of the record objects: same keys, same values, for every frame of
// the corpus, with and without raw bytes, whether the runtime appends them to a batch at emit
// time (sources) or packs a list of them (testkit feed / handlers).
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Packr } from 'msgpackr';
import { decodeValue } from '@pcapflow/core';
import { startTestPipeline } from '@pcapflow/core/testkit';
import { forEachPacket } from '../src/capture';
import { Counters, PacketProcessor, type FrameRecord } from '../src/source/processor';
import { FRAME_KEYS, FRAME_KEYS_RAW, hasFrameShape, MsgWriter, PACKED_KEYS, PACKED_VALUES } from '../src/wifi/pack';
import { corpusPath, listCaptures, readCorpusFile, requireCorpus } from './helpers/corpus';

type Rec = Record<string, unknown>;
const packr = new Packr({ useRecords: true });
/** What a consumer receives for `records` packed the ordinary way (msgpackr over the objects). */
const viaMsgpackr = (records: object[]): Rec[] => decodeValue<Rec[]>(packr.pack(records));
const strip = (r: Rec): Rec => { const { $subject: _s, ...rest } = r; return rest; };
const byFrame = (a: Rec, b: Rec) => String(a.capture).localeCompare(String(b.capture)) || (a.frame as number) - (b.frame as number);

const cache = new Map<boolean, FrameRecord[]>();
function frameRecords(keepRaw: boolean): FrameRecord[] {
  const hit = cache.get(keepRaw);
  if (hit) return hit;
  const out: FrameRecord[] = [];
  cache.set(keepRaw, out);
  const counters = new Counters({ counter: () => ({ value: 0, inc() { /* not counted here */ } }) });
  for (const sub of ['wifi', 'wired'] as const) {
    for (const name of listCaptures(sub)) {
      const proc = new PacketProcessor((o, r) => { if (o === 'frames') out.push(r as unknown as FrameRecord); }, counters,
        { wifi: true, wired: true, keepRaw, malformed: 'emit' }).beginCapture(name);
      const buf = readCorpusFile(sub, name);
      try {
        forEachPacket(buf, (p, b) => proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec));
      } catch { /* a corrupt capture: the frames before the error are enough */ }
    }
  }
  return out;
}

/** node's deep equality is much faster than expect().toEqual on 20k records; toEqual shows the diff. */
function expectSame(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

describe('pre-packed frame records', () => {
  beforeAll(() => { requireCorpus(); });

  it('carry the packer key list, and keys in that order', () => {
    for (const keepRaw of [false, true]) {
      const want = keepRaw ? FRAME_KEYS_RAW : FRAME_KEYS;
      const recs = frameRecords(keepRaw);
      expect(recs.length).toBeGreaterThan(10000);
      expect(recs.filter((r) => (r as unknown as Record<symbol, unknown>)[PACKED_KEYS] !== want || Object.keys(r).join() !== want.join())).toEqual([]);
    }
  });

  it.each([false, true])('decode like msgpackr-packed objects when a list is packed (keep_raw %s)', async (keepRaw) => {
    const recs = frameRecords(keepRaw);
    const p = await startTestPipeline({ yaml: 'streams:\n  T: { subjects: ["t.>", "n.>"] }\ninstances: {}\n' });
    try {
      const got = p.collect('t.>');
      // plain and raw shapes mixed in one message too, and a message with a record of another shape
      const mixed = [...frameRecords(!keepRaw).slice(0, 20), { a: 1, b: 'x' }];
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
    const p = await startTestPipeline({ yaml: `
streams:
  PK: { subjects: ["pk.>"] }
instances:
  probe:
    use: ${JSON.stringify(dir)}
    config: { source: { kind: file, path: ${JSON.stringify(files)} }, keep_raw: true }
    outputs:
      frames: { subject: "pk.{subtype_name}.p{sa%4}", batch: 7 }
` });
    try {
      const got = p.collect('pk.>');
      const actor = p.runtime.actors.find((a) => a.name === 'probe')!;
      while (!actor.finished) await new Promise((r) => setTimeout(r, 10));
      const n = (actor.health().metrics as Record<string, number>).emitted_frames;
      await got.waitFor(n);
      // expected: the same frames through PacketProcessor, packed the ordinary way
      const expected: FrameRecord[] = [];
      const counters = new Counters({ counter: () => ({ value: 0, inc() { /* not counted here */ } }) });
      for (const f of files) {
        const proc = new PacketProcessor((o, r) => { if (o === 'frames') expected.push(r as unknown as FrameRecord); }, counters,
          { wifi: true, wired: true, keepRaw: true, malformed: 'emit' }).beginCapture(path.basename(f));
        try { forEachPacket(readCorpusFile('wifi', path.basename(f)), (q, b) => proc.packet(b, q.pktOff, q.capLen, q.origLen, q.linktype, q.tsSec, q.tsNsec)); } catch { /* corrupt tail */ }
      }
      expect(n).toBe(expected.length);
      expectSame(got.records.map(strip).sort(byFrame), viaMsgpackr(expected).sort(byFrame));
    } finally {
      await p.stop();
    }
  });

  it('refuses records whose keys differ from the packer key list', () => {
    const r = { ...frameRecords(false)[0] } as Record<string, unknown>;
    expect(hasFrameShape(r)).toBe(true);
    r.extra = 1;
    expect(hasFrameShape(r)).toBe(false);
  });

  it('writes numbers and strings as msgpackr reads them back', async () => {
    const w = new MsgWriter();
    const values: Array<number | string | null | boolean> = [0, 1, 63, 64, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53,
      -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -1.25, 1e300, NaN, Infinity,
      '', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(300), 'x'.repeat(70000), 'héllo', '日本語'.repeat(20), null, true, false];
    const keys = Object.freeze(values.map((_, i) => `k${i}`));
    w.begin();
    for (const v of values) {
      if (v === null) w.nil();
      else if (typeof v === 'boolean') w.bool(v);
      else if (typeof v === 'number') w.num(v);
      else w.str(v);
    }
    const rec = { [PACKED_KEYS]: keys, [PACKED_VALUES]: w.end() };
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
