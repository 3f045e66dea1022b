// Paced replay: frames are emitted no earlier than their capture time allows (N times capture pace),
// for a capture file and for a directory of files (one clock across the directory's files).
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestPipeline } from '@pcapflow/core/testkit';
import { readCapture } from '../src';
import { corpusPath, requireCorpus } from './helpers/corpus';
import { wrapperPlugin } from './helpers/wrapper-plugin';


const FILE = 'wifi/aircrack-ng__n-02.cap';
const FACTOR = 20;

function topology(pluginDir: string, source: Record<string, unknown>): string {
  return `
streams:
  PACE: { subjects: ["pace.>"], storage: memory }
instances:
  probe:
    use: ${JSON.stringify(pluginDir)}
    config: { source: ${JSON.stringify(source)}, wired: false }
    outputs:
      frames: { subject: "pace.{subtype_name}", batch: 10 }
`;
}

beforeAll(() => requireCorpus());

describe.each([['file'], ['directory']])('%s source with pace: %s', (kind) => {
  test(`pace ${FACTOR}: every frame, none before its time (capture span / ${FACTOR} at least)`, async () => {
    const file = corpusPath(FILE);
    const frames = [...readCapture(readFileSync(file))];
    const ts = frames.map((p) => p.tsSec * 1000 + p.tsNsec / 1e6);
    const spanMs = Math.max(...ts) - Math.min(...ts);
    expect(spanMs).toBeGreaterThan(10_000); // so the paced replay takes a measurable while
    let source: Record<string, unknown>;
    const expected = frames.length;
    if (kind === 'file') source = { kind: 'file', path: file, pace: FACTOR };
    else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-pace-'));
      copyFileSync(file, path.join(dir, 'a.pcap'));
      source = { kind: 'directory', path: dir, pattern: '*.pcap', follow: false, pace: FACTOR };
    }
    const t0 = performance.now();
    const p = await startTestPipeline({ yaml: topology(wrapperPlugin(), source) });
    try {
      const seen = p.collect('pace.>');
      const got = await seen.waitFor(expected, 60_000);
      const elapsed = performance.now() - t0;
      expect(got).toHaveLength(expected);
      // the last frame is due span/FACTOR after the first: a slower machine only adds to this
      expect(elapsed).toBeGreaterThanOrEqual(spanMs / FACTOR);
    } finally {
      await p.stop();
    }
  });
});
