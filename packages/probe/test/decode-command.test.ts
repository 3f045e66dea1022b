// `pcapflow decode` (decodeCommand) on every capture of the corpus, compared line by line with
// tshark 4.0.17's references. Corpus missing => the test FAILS (never skips).
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Unpackr } from 'msgpackr';
import { decodeCommand, type DecodeCommandOptions } from '../src/decode-command';
import { corpusPath, listCaptures, readReferenceLines, requireCorpus, wifiCases } from './helpers/corpus';

class Sink extends PassThrough {
  private parts: Buffer[] = [];
  constructor() {
    super();
    this.on('data', (c: Buffer) => this.parts.push(c));
  }
  buffer(): Buffer { return Buffer.concat(this.parts); }
  text(): string { return this.buffer().toString('utf8'); }
  lines(): string[] { return this.text().split('\n').filter((l) => l.length > 0); }
}

async function run(input: string, format: DecodeCommandOptions['format'], fields: DecodeCommandOptions['fields'], stdin?: NodeJS.ReadableStream) {
  const out = new Sink();
  const err = new Sink();
  const code = await decodeCommand({ input, format, fields, out, err, stdin });
  out.end();
  err.end();
  return { code, out, err };
}

/** First differing fields of two ek lines, for a readable failure. */
function explain(file: string, n: number, exp: string | undefined, act: string | undefined): string {
  if (exp === undefined || act === undefined) return `${file} line ${n}: expected ${exp} got ${act}`;
  const e = JSON.parse(exp), a = JSON.parse(act);
  const keys = new Set([...Object.keys(e.layers), ...Object.keys(a.layers)]);
  const diffs = [...keys].filter((k) => JSON.stringify(e.layers[k]) !== JSON.stringify(a.layers[k])).map((k) => `${k}: ${JSON.stringify(e.layers[k])} != ${JSON.stringify(a.layers[k])}`);
  if (e.timestamp !== a.timestamp) diffs.unshift(`timestamp ${e.timestamp} != ${a.timestamp}`);
  return `${file} line ${n}: ${diffs.join('; ') || 'formatting/key order'}`;
}

function compare(file: string, expected: string[], actual: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) out.push(explain(file, i + 1, expected[i], actual[i]));
    if (out.length >= 10) break;
  }
  return out;
}

/** Offset of the first packet record/block: the classic pcap header, or the pcapng blocks before the first EPB. */
function headerLength(buf: Buffer): number {
  if (buf.readUInt32LE(0) !== 0x0a0d0d0a) return 24;
  let off = 0;
  while (buf.readUInt32LE(off) !== 6) off += buf.readUInt32LE(off + 4);
  return off;
}

/**
 * A corpus capture's packets repeated to ~9 MiB (more than two read chunks), and its reference
 * repeated. pcapng: with `bigBlockAt`, the block holding that file offset gets ~700 KB of comment
 * options (larger than the room kept for a unit cut at a chunk edge; the fields are unchanged).
 */
function bigCapture(capture: string, reference: string, bigBlockAt?: number): { big: Buffer; expected: string[] } {
  const src = readFileSync(corpusPath('wifi', capture));
  const head = headerLength(src);
  const times = Math.ceil((9 << 20) / (src.length - head));
  let big = Buffer.concat([src.subarray(0, head), ...Array.from({ length: times }, () => src.subarray(head))]);
  if (bigBlockAt !== undefined) {
    let off = head;
    while (off + big.readUInt32LE(off + 4) <= bigBlockAt) off += big.readUInt32LE(off + 4);
    const blen = big.readUInt32LE(off + 4);
    const dataEnd = off + 28 + ((big.readUInt32LE(off + 20) + 3) & ~3);
    const comments = Buffer.concat(Array.from({ length: 11 }, () => {
      const opt = Buffer.alloc(4 + 65532, 0x61);
      opt.writeUInt16LE(1, 0);
      opt.writeUInt16LE(65532, 2);
      return opt;
    }));
    const block = Buffer.concat([big.subarray(off, dataEnd), comments, big.subarray(dataEnd, off + blen)]);
    block.writeUInt32LE(block.length, 4);
    block.writeUInt32LE(block.length, block.length - 4);
    big = Buffer.concat([big.subarray(0, off), block, big.subarray(off + blen)]);
  }
  const ref = readReferenceLines(reference);
  return { big, expected: Array.from({ length: times }, () => ref).flat() };
}

describe('pcapflow decode --format ek equals tshark 4.0.17 for every corpus capture', () => {
  requireCorpus();
  const wifi = wifiCases();
  const wired = listCaptures('wired');

  it('finds the corpus', () => {
    expect(wifi.length).toBeGreaterThanOrEqual(20);
    expect(wired.length).toBeGreaterThanOrEqual(10);
  });

  it.each(wifi.map((c) => [c.capture, c.reference]))('wifi %s == %s', async (capture, reference) => {
    const { code, out } = await run(corpusPath('wifi', capture), 'ek', 'wifi');
    expect(code).toBe(0);
    const expected = readReferenceLines(reference);
    expect(compare(capture, expected, out.lines())).toEqual([]);
    expect(out.lines()).toHaveLength(expected.length);
  });

  for (const kind of ['dns', 'flows'] as const) {
    it.each(wired.map((c) => [c]))(`wired %s --fields ${kind}`, async (capture) => {
      const ref = corpusPath('wired', capture.replace(/\.(pcap|pcapng|cap)$/, `.${kind}.jsonl`));
      expect(existsSync(ref)).toBe(true);
      const expected = readFileSync(ref, 'utf8').split('\n').filter((l) => l.length > 0);
      const { code, out } = await run(corpusPath('wired', capture), 'ek', kind);
      expect(code).toBe(0);
      expect(compare(capture, expected, out.lines())).toEqual([]);
    });
  }
});

describe('pcapflow decode: stdin, other formats, errors', () => {
  it('reads the capture from stdin when input is "-" (streamed in small chunks)', async () => {
    const file = corpusPath('wifi', 'aircrack-ng__test1.pcap');
    const stdin = createReadStream(file, { highWaterMark: 1000 }); // records straddle chunks
    const { code, out } = await run('-', 'ek', 'wifi', stdin);
    expect(code).toBe(0);
    expect(out.lines()).toEqual(readReferenceLines('aircrack-ng__test1.tshark.jsonl'));
  });

  it('--format json prints one typed record per frame', async () => {
    const { code, out } = await run(corpusPath('wifi', 'libwifi__probe_req.pcap'), 'json', 'wifi');
    expect(code).toBe(0);
    const recs = out.lines().map((l) => JSON.parse(l));
    expect(recs.length).toBe(readReferenceLines('libwifi__probe_req.tshark.jsonl').length);
    expect(recs[0]).toMatchObject({ type_subtype: 4, subtype_name: 'probe_req', sa: '00:20:91:11:22:33', ssid: 'libwifi-probe-req', channel: 36 });
  });

  it('--format msgpack prints a stream of plain msgpack records', async () => {
    const { code, out } = await run(corpusPath('wired', 'zeek__wikipedia.pcap'), 'msgpack', 'flows');
    expect(code).toBe(0);
    const recs = new Unpackr({ useRecords: false }).unpackMultiple(out.buffer()) as Array<Record<string, unknown>>;
    const flows = readFileSync(corpusPath('wired', 'zeek__wikipedia.flows.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(recs).toHaveLength(flows.length);
    expect(recs[0]).toHaveProperty('frame', 1);
    const dns = await run(corpusPath('wired', 'zeek__wikipedia.pcap'), 'json', 'dns');
    const dnsRef = readFileSync(corpusPath('wired', 'zeek__wikipedia.dns.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(dns.out.lines().map((l) => JSON.parse(l).frame)).toEqual(dnsRef.map((l) => Number(JSON.parse(l).layers.frame_number[0])));
  });

  it('a missing file, a directory, a non-capture and an empty input exit 1 with a message', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-decode-'));
    const notCapture = path.join(dir, 'notes.txt');
    writeFileSync(notCapture, 'this is not a capture file\n');
    const empty = path.join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    for (const [input, msg] of [
      [path.join(dir, 'missing.pcap'), /no such file/],
      [dir, /is a directory/],
      [notCapture, /not a pcap or pcapng capture/],
      [empty, /empty or too short/],
    ] as const) {
      const { code, out, err } = await run(input, 'ek', 'wifi');
      expect(code).toBe(1);
      expect(err.text()).toMatch(msg);
      expect(out.text()).toBe('');
    }
  });

  it('a capture cut short prints every complete frame, warns and exits 0', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-decode-'));
    const full = readFileSync(corpusPath('wifi', 'libwifi__probe_req.pcap'));
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, full.subarray(0, full.length - 10));
    const { code, out, err } = await run(cut, 'ek', 'wifi');
    expect(code).toBe(0);
    expect(err.text()).toMatch(/cut short/);
    const ref = readReferenceLines('libwifi__probe_req.tshark.jsonl');
    expect(out.lines()).toEqual(ref.slice(0, ref.length - 1));
  });

  // The file is read in 4 MiB chunks: records cut at chunk edges are carried into the next chunk.
  it.each([
    ['aircrack-ng__test1.pcap', 'aircrack-ng__test1.tshark.jsonl'],
    ['derived__aircrack-ng__test1.pcapng', 'aircrack-ng__test1.tshark.jsonl'],
  ])('a capture larger than the read chunks (%s repeated) prints the reference repeated; cut short, all but the last', async (capture, reference) => {
    const { big, expected } = bigCapture(capture, reference);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-decode-'));
    const file = path.join(dir, capture);

    writeFileSync(file, big);
    const whole = await run(file, 'ek', 'wifi');
    expect(whole.code).toBe(0);
    expect(whole.err.text()).toBe('');
    const lines = whole.out.lines();
    expect(compare(capture, expected, lines)).toEqual([]);
    expect(lines).toHaveLength(expected.length);

    writeFileSync(file, big.subarray(0, big.length - 7));
    const cut = await run(file, 'ek', 'wifi');
    expect(cut.code).toBe(0);
    expect(cut.err.text()).toMatch(/cut short/);
    expect(cut.out.lines()).toEqual(expected.slice(0, -1));
  });

  // Into a file (or /dev/null) the built command formats Wi-Fi ek lines in a worker thread when a
  // core is idle; PCAPFLOW_DECODE_WORKER forces either path. Both must print the reference.
  it.each([
    ['aircrack-ng__test1.pcap', undefined],
    ['derived__aircrack-ng__test1.pcapng', (4 << 20) - 600_000],
  ])('the built command writing a file prints the reference with and without the ek worker (%s repeated)', (capture, bigBlockAt) => {
    const built = path.resolve(__dirname, '../dist/decode-command.js');
    expect(existsSync(built)).toBe(true); // built by `npm ci` (prepare) or `npm run build`
    const { big, expected } = bigCapture(capture, 'aircrack-ng__test1.tshark.jsonl', bigBlockAt);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-decode-'));
    const file = path.join(dir, capture);
    for (const [bytes, want, warn] of [[big, expected, ''], [big.subarray(0, big.length - 7), expected.slice(0, -1), 'cut short']] as const) {
      writeFileSync(file, bytes);
      for (const worker of ['1', '0']) {
        const outFile = path.join(dir, `out-${worker}.jsonl`);
        const fd = openSync(outFile, 'w');
        const script = `require(${JSON.stringify(built)}).decodeCommand({ input: ${JSON.stringify(file)}, format: 'ek', fields: 'wifi', out: process.stdout, err: process.stderr }).then((c) => { process.exitCode = c; })`;
        const r = spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, PCAPFLOW_DECODE_WORKER: worker }, encoding: 'utf8', timeout: 120_000 });
        closeSync(fd);
        expect({ worker, status: r.status, warned: warn ? r.stderr.includes(warn) : r.stderr === '' }).toEqual({ worker, status: 0, warned: true });
        const lines = readFileSync(outFile, 'utf8').split('\n').filter((l) => l.length > 0);
        expect(compare(`${capture} (worker ${worker})`, want as string[], lines)).toEqual([]);
        expect(lines).toHaveLength(want.length);
      }
    }
  });

  it('rejects an unknown format', async () => {
    const { code, err } = await run(corpusPath('wifi', 'libwifi__probe_req.pcap'), 'xml' as never, 'wifi');
    expect(code).toBe(1);
    expect(err.text()).toMatch(/unknown --format/);
  });

  it('every corpus directory file is covered', () => {
    const names = readdirSync(corpusPath('wifi'));
    expect(names.filter((n) => /\.(pcap|cap|pcapng)$/.test(n)).length).toBe(wifiCases().length);
  });
});
