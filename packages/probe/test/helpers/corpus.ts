// Locates the shared capture corpus. Tests FAIL (not skip) when it is missing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

// The brief's expression `path.resolve(__dirname, '../../../../shared/captures')` is relative to the
// test/ directory; this helper lives one level deeper, hence TEST_DIR.
const TEST_DIR = path.resolve(__dirname, '..');
export const CORPUS_DIR = process.env.PCAPFLOW_CORPUS ?? path.resolve(TEST_DIR, '../../../../shared/captures');

export function requireCorpus(): string {
  if (!existsSync(path.join(CORPUS_DIR, 'wifi'))) {
    throw new Error(`capture corpus not found at ${CORPUS_DIR} (set PCAPFLOW_CORPUS)`);
  }
  return CORPUS_DIR;
}

export function corpusPath(...p: string[]): string {
  return path.join(requireCorpus(), ...p);
}

export function readCorpusFile(...p: string[]): Buffer {
  return readFileSync(corpusPath(...p));
}

const CAPTURE_RE = /\.(pcap|cap|pcapng)$/;

export interface WifiCase {
  /** capture file name under wifi/ */
  capture: string;
  /** reference file used (may belong to another capture, see PROVENANCE.md) */
  reference: string;
}

/**
 * Every Wi-Fi capture with a tshark reference. `derived__aircrack-ng__test1.pcapng` has none of its
 * own: PROVENANCE.md says it is `editcap -F pcapng` of aircrack-ng__test1.pcap, so it is compared
 * against that file's reference.
 */
export function wifiCases(): WifiCase[] {
  const dir = corpusPath('wifi');
  const names = readdirSync(dir);
  const out: WifiCase[] = [];
  for (const f of names.filter((n) => CAPTURE_RE.test(n)).sort()) {
    const base = f.replace(CAPTURE_RE, '');
    let ref = [`${base}.tshark.jsonl`, `${base}.tshark.jsonl.gz`].find((r) => names.includes(r));
    if (!ref && f === 'derived__aircrack-ng__test1.pcapng') ref = 'aircrack-ng__test1.tshark.jsonl';
    if (ref) out.push({ capture: f, reference: ref });
  }
  return out;
}

export function readReferenceLines(name: string): string[] {
  const raw = readCorpusFile('wifi', name);
  const text = name.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text.split('\n').filter((l) => l.length > 0);
}

export function listCaptures(sub: 'wifi' | 'wired'): string[] {
  return readdirSync(corpusPath(sub)).filter((n) => CAPTURE_RE.test(n)).sort();
}
