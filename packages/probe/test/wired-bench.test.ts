// Throughput of the wired decode loop over the real corpus frames (repeated), measured in a plain
// `node` child process: code running inside jest's vm sandbox is several times slower and would
// not say anything about production speed. The sources are transpiled with swc (as jest does)
// into a temp dir. Prints frames/s; the assertion is only a generous floor (loaded CI machines).
//   WIRED_BENCH_REPEAT=2000 npx jest test/wired-bench
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { transformFileSync } from '@swc/core';

const CORPUS = process.env.PCAPFLOW_CORPUS ?? path.resolve(__dirname, '../../../../shared/captures');
const WIRED = path.join(CORPUS, 'wired');
const SRC = path.resolve(__dirname, '../src');

function transpile(dir: string, out: string): void {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) transpile(p, path.join(out, f));
    else if (f.endsWith('.ts')) {
      fs.mkdirSync(out, { recursive: true });
      const r = transformFileSync(p, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
      fs.writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), r.code);
    }
  }
}

const BENCH = `
const fs = require('fs'), path = require('path');
const { readCapture } = require('./capture/reader');
const W = require('./wired');
const [dir, rep] = [process.argv[2], +process.argv[3]];
const frames = [];
for (const n of fs.readdirSync(dir).filter((x) => /\\.(pcap|pcapng|cap)$/.test(x)).sort())
  for (const p of readCapture(new Uint8Array(fs.readFileSync(path.join(dir, n))))) frames.push(p);
const out = { frames: frames.length, repeat: rep };
for (const mode of ['decode', 'decode+record', 'decode+ek']) {
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const dec = new W.WiredDecoder();
    let n = 0, sink = 0;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rep; r++) for (const p of frames) {
      const f = dec.decode(p); n++;
      if (mode === 'decode+record') sink += W.toWiredRecord(f).cap_len;
      else if (mode === 'decode+ek') { sink += W.formatEkFlows(f).length; const d = W.formatEkDns(f); if (d) sink += d.length; }
      else sink += f.l4.length;
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (sink < 0) throw new Error('unreachable');
    best = Math.max(best, n / s);
  }
  out[mode] = Math.round(best);
}
console.log(JSON.stringify(out));
`;

it('wired decode loop throughput (plain node)', () => {
  if (!fs.existsSync(WIRED)) throw new Error(`wired corpus not found at ${WIRED} (set PCAPFLOW_CORPUS)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wired-bench-'));
  try {
    for (const d of ['wired', 'ek', 'capture', 'oui']) if (fs.existsSync(path.join(SRC, d))) transpile(path.join(SRC, d), path.join(tmp, d));
    fs.writeFileSync(path.join(tmp, 'bench.js'), BENCH);
    const repeat = Number(process.env.WIRED_BENCH_REPEAT ?? 300);
    const r = JSON.parse(execFileSync(process.execPath, [path.join(tmp, 'bench.js'), WIRED, String(repeat)], { encoding: 'utf8' }));
    const fmt = (k: string): string => `${k}: ${r[k].toLocaleString('en')} frames/s`;
    console.log(`wired bench (node ${process.version}), ${r.frames} corpus frames x ${r.repeat}, best of 3:\n  ${['decode', 'decode+record', 'decode+ek'].map(fmt).join('\n  ')}`);
    expect(r.decode).toBeGreaterThan(100_000);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
