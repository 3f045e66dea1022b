// `fields:` (tshark's -e): a record with a field selection is the full record restricted to the
// selected keys (record order), in its object and in its pre-packed msgpack form, which decodes
// (a record definition + values, as the runtime batches it; msgpackr as consumers read it) to
// exactly that. The full record is the reference: record-pack.test.ts ties it to the library
// record and the decoder tests tie that to tshark. Checked on every frame of the corpus.
import { isDeepStrictEqual } from 'node:util';
import { Packr } from 'msgpackr';
import { decodeValue, partitionOf, subjectToken } from '@pcapflow/core';
import { startTestPipeline } from '@pcapflow/core/testkit';
import { forEachPacket } from '../src/capture';
import { configSchema } from '../src/plugin';
import { Counters, PacketProcessor, WIRED_FIELDS, type FieldSelection } from '../src/source/processor';
import { DETAIL_GROUPS, FRAME_FIELDS, frameKeys, packedValues, PACKED_KEYS, type DetailGroup } from '../src/wifi/pack';
import { corpusPath, listCaptures, readCorpusFile, requireCorpus } from './helpers/corpus';
import { wrapperPlugin } from './helpers/wrapper-plugin';

type Rec = Record<string, unknown>;
const noCount = new Counters({ counter: () => ({ value: 0, inc() { /* not counted here */ } }) });
const keysPackr = new Packr({ useRecords: false });
const packr = new Packr({ useRecords: true });
/** What a consumer receives for `records` packed the ordinary way (msgpackr over the objects). */
const viaMsgpackr = (records: object[]): Rec[] => decodeValue<Rec[]>(packr.pack(records));
const FULL: DetailGroup[] = [...DETAIL_GROUPS];

/** The fields the wifi-probes analysis reads (examples/wifi-probes.yaml), plus channel. */
const ANALYSIS = ['ts', 'type_subtype', 'subtype_name', 'sa', 'sa_resolved', 'da', 'signal_dbm', 'ssid', 'wps_device_name', 'channel'];

function expectSame(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

/** What a consumer decodes from a message holding this one pre-packed record (the runtime's batch layout: `[d4 72 40 keys values]`). */
function consumerView(r: object): Rec {
  const rs = r as Record<symbol, unknown>;
  const keys = keysPackr.pack(rs[PACKED_KEYS] as string[]);
  const values = packedValues(r)!;
  const msg = Buffer.alloc(4 + keys.length + values.length);
  msg.set([0x91, 0xd4, 0x72, 0x40]);
  msg.set(keys, 4);
  msg.set(values, 4 + keys.length);
  return decodeValue<Rec[]>(msg)[0]!;
}

/** What a consumer decodes from one message of these pre-packed records, all of one key list (the runtime's batch layout: `[d4 72 40 keys values] [40 values] …`). */
function consumerViews(rs: object[]): Rec[] {
  if (rs.length === 0) return [];
  const parts: Uint8Array[] = [Uint8Array.of(0xdd, rs.length >>> 24, (rs.length >>> 16) & 0xff, (rs.length >>> 8) & 0xff, rs.length & 0xff)];
  rs.forEach((r, i) => {
    const packed = r as Record<symbol, unknown>;
    parts.push(i === 0 ? Buffer.concat([Uint8Array.of(0xd4, 0x72, 0x40), keysPackr.pack(packed[PACKED_KEYS] as string[])]) : Uint8Array.of(0x40));
    parts.push(packedValues(r)!);
  });
  return decodeValue<Rec[]>(Buffer.concat(parts));
}

/** `r` restricted to `keys`, in that order. */
const restrict = (r: Rec, keys: readonly string[]): Rec => Object.fromEntries(keys.map((k) => [k, r[k]]));
/** String-keyed fields only (the packed form hides under symbols). */
const own = (r: object): Rec => Object.fromEntries(Object.entries(r));

/** Records of one corpus capture through PacketProcessor, per output. */
function records(sub: 'wifi' | 'wired', name: string, detail: readonly DetailGroup[], keepRaw: boolean, fields?: FieldSelection): { frames: Rec[]; wired: Rec[] } {
  const out = { frames: [] as Rec[], wired: [] as Rec[] };
  const proc = new PacketProcessor((o, r) => out[o].push(r), noCount, { wifi: true, wired: true, keepRaw, malformed: 'emit', detail, fields }).beginCapture(name);
  try {
    forEachPacket(readCorpusFile(sub, name), (p, b) => proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec));
  } catch { /* a corrupt capture: the frames before the error are enough */ }
  return out;
}

/** Frame records of every corpus capture (wifi, then wired) through one PacketProcessor, a capture after another (as a file source does). */
function corpusFrames(detail: readonly DetailGroup[], keepRaw: boolean, fields?: readonly string[]): Rec[] {
  const out: Rec[] = [];
  const proc = new PacketProcessor((o, r) => { if (o === 'frames') out.push(r); }, noCount, { wifi: true, wired: true, keepRaw, malformed: 'emit', detail, fields: fields && { frames: fields } });
  for (const sub of ['wifi', 'wired'] as const) {
    for (const name of listCaptures(sub)) {
      proc.beginCapture(name);
      try {
        forEachPacket(readCorpusFile(sub, name), (p, b) => proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec));
      } catch { /* a corrupt capture: the frames before the error are enough */ }
    }
  }
  return out;
}

const SELECTIONS: Array<[string, readonly DetailGroup[], boolean, readonly string[]]> = [
  ['the analysis fields', [], false, ANALYSIS],
  ['one field', [], false, ['sa_resolved']],
  ['fields listed out of order, twice', [], false, ['wps_device_name', 'ts', 'ssid', 'ts', 'frame', 'capture', 'sa_local', 'country', 'ds_channel']],
  ['every detail field', FULL, true, ['ra_resolved', 'ta_resolved', 'da_resolved', 'bssid_resolved', 'ssid_hex', 'ssids_hex', 'vendor_ies', 'raw', 'bssid', 'sta']],
  ['every field', FULL, true, FRAME_FIELDS],
];

describe('field selection (fields:)', () => {
  beforeAll(() => { requireCorpus(); });

  it.each(SELECTIONS)('frames with %s are the full records restricted to them, object and packed form, on every corpus frame', (_what, detail, keepRaw, fields) => {
    const keys = frameKeys(detail, keepRaw).filter((k) => fields.includes(k));
    let n = 0;
    for (const [sub, names] of [['wifi', listCaptures('wifi')], ['wired', listCaptures('wired')]] as const) {
      for (const name of names) {
        const full = records(sub, name, detail, keepRaw).frames;
        const sel = records(sub, name, detail, keepRaw, { frames: fields }).frames;
        expect(sel.length).toBe(full.length);
        const expected = full.map((r) => restrict(r, keys));
        expectSame(sel.map(own), expected);
        expect(sel.every((r) => (r as Record<symbol, unknown>)[PACKED_KEYS] === (sel[0] as Record<symbol, unknown>)[PACKED_KEYS])).toBe(true);
        expectSame(sel.map(consumerView), viaMsgpackr(expected));
        n += sel.length;
      }
    }
    expect(n).toBeGreaterThan(20_000);
  });

  // The selected-fields writer is code generated per selection, from one snippet per field, and
  // a resolved name right after its address reuses that address' cache slot: each field alone,
  // then the neighbours that change the generated code, against the full records.
  it('each field alone, and resolved names and SSIDs with and without their neighbours, are the full records restricted to them on every corpus frame', () => {
    const selections: string[][] = [
      ...FRAME_FIELDS.map((f) => [f]),
      ['ra', 'ra_resolved'], ['da', 'da_resolved'], ['ta', 'ta_resolved', 'bssid', 'bssid_resolved'], // right after the address
      ['da', 'sa_resolved', 'bssid_resolved'], ['ta', 'sa_resolved'], // after another address: a lookup of its own
      ['sa', 'sa_resolved', 'ssid', 'ssid_hex', 'ssids_hex'], // one SSID lookup for ssid and ssid_hex
      ['ssid_hex', 'ssids_hex', 'vendor_ies', 'raw', 'frame', 'capture', 'ts'],
    ];
    const full = corpusFrames(FULL, true);
    expect(full.length).toBeGreaterThan(20_000);
    for (const fields of selections) {
      const keys = frameKeys(FULL, true).filter((k) => fields.includes(k));
      const sel = corpusFrames(FULL, true, fields);
      expect(sel.length).toBe(full.length);
      const expected = full.map((r) => restrict(r, keys));
      expectSame(sel.map(own), expected);
      expectSame(consumerViews(sel), viaMsgpackr(expected));
    }
  });

  it('the selected record is smaller on the wire', () => {
    const name = 'aircrack-ng__n-02.cap';
    const size = (rs: Rec[]) => rs.reduce((a, r) => a + packedValues(r)!.length, 0) / rs.length;
    const full = size(records('wifi', name, [], false).frames);
    const sel = size(records('wifi', name, [], false, { frames: ANALYSIS }).frames);
    expect(sel).toBeLessThan(full / 2);
  });

  it('wired records with a selection are the full records restricted to it', () => {
    const fields = ['kind', 'ts', 'flow_key', 'dns', 'ip_src', 'capture', 'raw'];
    const keys = WIRED_FIELDS.filter((k) => fields.includes(k));
    let n = 0, dns = 0;
    for (const name of listCaptures('wired')) {
      const full = records('wired', name, [], true).wired;
      const sel = records('wired', name, [], true, { wired: fields }).wired;
      expectSame(sel, full.map((r) => restrict(r, keys)));
      n += sel.length;
      dns += sel.filter((r) => r.dns !== null).length;
    }
    expect(n).toBeGreaterThan(300); // (the wired corpus is small)
    expect(dns).toBeGreaterThan(0);
    // every field of a full record is in WIRED_FIELDS, in that order
    const one = records('wired', listCaptures('wired')[0]!, [], true).wired[0]!;
    expect(Object.keys(one)).toEqual(WIRED_FIELDS);
  });

  it('records made elsewhere (tshark-ek input) are restricted the same way', () => {
    const full = own(records('wifi', 'aircrack-ng__n-02.cap', FULL, false).frames[0]!);
    const out: Rec[] = [];
    new PacketProcessor((_o, r) => out.push(r), noCount, { wifi: true, wired: true, keepRaw: false, malformed: 'emit', detail: [], fields: { frames: ['ssid', 'sa', 'ts'] } })
      .emitRecord('frames', { ...full });
    expect(out).toEqual([{ ts: full.ts, sa: full.sa, ssid: full.ssid }]);
  });

  describe('config', () => {
    const parse = (extra: Rec) => configSchema.safeParse({ source: { kind: 'file', path: '/x.pcap' }, ...extra });
    const issues = (extra: Rec) => { const r = parse(extra); return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`); };

    it('accepts known fields per output, and no selection at all', () => {
      expect(parse({ fields: { frames: ANALYSIS } }).success).toBe(true);
      expect(parse({ fields: { wired: ['kind', 'flow_key'] } }).success).toBe(true);
      expect(parse({ detail: ['resolved'], fields: { frames: ['ra_resolved'] } }).success).toBe(true);
      expect(parse({}).data!.fields).toBeUndefined();
    });

    it('names an unknown field, where it is, and lists the valid ones', () => {
      const [msg, ...rest] = issues({ fields: { frames: ['ts', 'wlan.sa'] } });
      expect(rest).toEqual([]);
      expect(msg).toMatch(/^fields\.frames\.1: unknown frames field "wlan\.sa"; the fields are: ts, ts_sec, .*, wps_device_name, .*raw$/);
      expect(issues({ fields: { wired: ['kind', 'dns_qry'] } })).toEqual([`fields.wired.1: unknown wired field "dns_qry"; the fields are: ${WIRED_FIELDS.join(', ')}`]);
      expect(issues({ fields: { framez: ['ts'] } })).toEqual([expect.stringMatching(/framez/)]);
      expect(issues({ fields: { frames: [] } })).toHaveLength(1);
    });

    it('a field of a detail group that detail does not enable is an error naming the group (so is raw without keep_raw)', () => {
      expect(issues({ fields: { frames: ['ts', 'vendor_ies'] } })).toEqual(['fields.frames.1: field "vendor_ies" is in detail group "vendor_ies", which detail does not enable (add it: detail: [vendor_ies])']);
      expect(issues({ detail: ['resolved'], fields: { frames: ['ssid_hex'] } })).toEqual(['fields.frames.0: field "ssid_hex" is in detail group "ssid_hex", which detail does not enable (add it: detail: [resolved, ssid_hex])']);
      expect(issues({ fields: { frames: ['raw'], wired: ['raw'] } })).toEqual(['fields.frames.0: field "raw" needs keep_raw: true', 'fields.wired.0: field "raw" needs keep_raw: true']);
      expect(parse({ keep_raw: true, detail: 'full', fields: { frames: ['raw', 'vendor_ies'], wired: ['raw'] } }).success).toBe(true);
    });

    /** A topology with the probe (built from this checkout) and the given field selection and outputs. */
    const probeTopology = (fields: string, outputs: string) => `streams:
  F: { subjects: ["f.>", "wifi.>", "net.>"] }
instances:
  probe:
    use: ${JSON.stringify(wrapperPlugin())}
    config:
      source: { kind: file, path: /x.pcap }
      fields:
${fields}    outputs:
${outputs}`;

    it('in a topology file: the error has the file, line and path', async () => {
      const yaml = probeTopology('        frames: [ts, sa, bogus]\n', '      frames: "f.{sa}"\n');
      await expect(startTestPipeline({ yaml })).rejects.toThrow(/test-topology\.yaml:9:\d+: instances\.probe\.config\.fields\.frames\.2: unknown frames field "bogus"; the fields are: ts, /);
    });

    it('an output subject naming an unselected field is a topology error at the subject (so is an unbound output\'s default subject)', async () => {
      const topo = (outputs: string) => probeTopology('        frames: [ts, subtype_name]\n        wired: [ts, kind, flow_key]\n', outputs);
      await expect(startTestPipeline({ yaml: topo('      frames: { subject: "f.{subtype_name}.p{sa%16}" }\n') }))
        .rejects.toThrow(/test-topology\.yaml:12:\d+: instances\.probe\.outputs\.frames\.subject: the subject names \{sa\}, but under this config the records of "frames" carry only ts, subtype_name; add sa/);
      await expect(startTestPipeline({ yaml: topo('      frames: "f.{ts}"\n      wired: "net.{kind}.{ip_src}"\n') }))
        .rejects.toThrow(/instances\.probe\.outputs\.wired: the subject names \{ip_src\}/);
      // frames unbound: its default subject wifi.frames.{subtype_name}.p{sa%16} needs sa
      await expect(startTestPipeline({ yaml: topo('      wired: "net.{kind}"\n') }))
        .rejects.toThrow(/instances\.probe\.config: the subject names \{sa\}.*default subject of "frames"/);
      // every subject field selected: the topology loads (the missing capture file fails later, at start)
      const ok = await startTestPipeline({ yaml: topo('      frames: "f.{subtype_name}"\n      wired: "net.{kind}.p{flow_key%4}"\n') }).catch((e: Error) => e);
      expect(String(ok)).not.toMatch(/the subject names/);
      if (!(ok instanceof Error)) await ok.stop();
    });
  });

  it('in a topology: published records hold the selected fields, on the subjects their fields render', async () => {
    const dir = wrapperPlugin();
    const capture = 'aircrack-ng__n-02.cap';
    const p = await startTestPipeline({ yaml: `
streams:
  F: { subjects: ["f.>"] }
instances:
  probe:
    use: ${JSON.stringify(dir)}
    config: { source: { kind: file, path: ${JSON.stringify(corpusPath('wifi', capture))} }, wired: false, fields: { frames: ${JSON.stringify(ANALYSIS)} } }
    outputs:
      frames: { subject: "f.{subtype_name}.p{sa%16}", batch: 100 }
` });
    try {
      const got = p.collect('f.>');
      const expected = records('wifi', capture, [], false).frames.map((r) => {
        const keys = frameKeys([], false).filter((k) => ANALYSIS.includes(k));
        return { ...restrict(r, keys), $subject: `f.${subjectToken(r.subtype_name)}.p${partitionOf(r.sa, 16)}` };
      });
      await got.waitFor(expected.length);
      // per subject in capture order; across subjects in any order
      const sort = (rs: Rec[]) => [...rs].sort((a, b) => (String(a.$subject) < String(b.$subject) ? -1 : String(a.$subject) > String(b.$subject) ? 1 : 0));
      expectSame(sort(got.records), sort(expected));
      expect(new Set(got.records.map((r) => r.$subject)).size).toBeGreaterThan(5);
    } finally {
      await p.stop();
    }
  });
});
