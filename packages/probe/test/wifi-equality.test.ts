// Field-by-field equality with tshark 4.0.17 references for every Wi-Fi corpus capture.
import { forEachPacket, newReaderCounters } from '../src/capture';
import { WifiDecoder } from '../src/wifi/decoder';
import { formatEkWifi, writeEkWifi, EkSink } from '../src/ek/wifi';
import { readCorpusFile, readReferenceLines, wifiCases, requireCorpus } from './helpers/corpus';

/**
 * Frames tshark flags as malformed (`tshark -r F -Y _ws.malformed`, tshark 4.0.17). The decoder must
 * flag exactly these (frame numbers, 1-based).
 */
const TSHARK_MALFORMED: Record<string, number[]> = {
  'aircrack-ng__wpa.cap': [1],
  'tcpdump__ieee802.11_parse_elements_oobr.pcap': [1],
  'tcpdump__ieee802.11_tim_ie_oobr.pcap': [1],
};

interface Mismatch {
  frame: number;
  field: string;
  expected: unknown;
  actual: unknown;
}

function diff(frame: number, exp: string, act: string): Mismatch[] {
  const e = JSON.parse(exp) as { timestamp: string; layers: Record<string, string[]> };
  const a = JSON.parse(act) as { timestamp: string; layers: Record<string, string[]> };
  const out: Mismatch[] = [];
  if (e.timestamp !== a.timestamp) out.push({ frame, field: 'timestamp', expected: e.timestamp, actual: a.timestamp });
  const keys = new Set([...Object.keys(e.layers), ...Object.keys(a.layers)]);
  for (const k of keys) {
    if (JSON.stringify(e.layers[k]) !== JSON.stringify(a.layers[k])) out.push({ frame, field: k, expected: e.layers[k], actual: a.layers[k] });
  }
  if (out.length === 0 && exp !== act) out.push({ frame, field: '(key order / formatting)', expected: exp, actual: act });
  return out;
}

describe('Wi-Fi decode equals tshark 4.0.17 references', () => {
  requireCorpus();
  const cases = wifiCases();

  it('finds the corpus references', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.map((c) => c.capture)).toContain('derived__aircrack-ng__test1.pcapng');
  });

  it.each(cases.map((c) => [c.capture, c.reference]))('%s matches %s', (capture, reference) => {
    const lines = readReferenceLines(reference);
    const dec = new WifiDecoder();
    const sink = new EkSink(1 << 16);
    const mismatches: Mismatch[] = [];
    const malformed: number[] = [];
    let n = 0;
    const counters = newReaderCounters();
    forEachPacket(readCorpusFile('wifi', capture), (p, buf) => {
      const fr = dec.decode(buf, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec);
      n++;
      if (fr.malformed) malformed.push(n);
      const line = formatEkWifi(fr);
      writeEkWifi(fr, sink);
      const bytes = sink.take().toString('utf8');
      if (bytes !== line + '\n') mismatches.push({ frame: n, field: '(writeEkWifi vs formatEkWifi)', expected: line, actual: bytes });
      if (n > lines.length) mismatches.push({ frame: n, field: '(extra frame)', expected: undefined, actual: line });
      else if (line !== lines[n - 1]) mismatches.push(...diff(n, lines[n - 1], line));
    }, counters);
    if (n < lines.length) mismatches.push({ frame: n + 1, field: '(missing frames)', expected: lines.length, actual: n });
    if (mismatches.length) {
      const report = mismatches.slice(0, 20).map((m) => `${capture} frame ${m.frame} ${m.field}: expected ${JSON.stringify(m.expected)} actual ${JSON.stringify(m.actual)}`);
      throw new Error(`${mismatches.length} mismatches\n${report.join('\n')}`);
    }
    expect(n).toBe(lines.length);
    expect(malformed).toEqual(TSHARK_MALFORMED[capture] ?? []);
  });
});
