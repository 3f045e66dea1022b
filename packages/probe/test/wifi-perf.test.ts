// Throughput benchmark (opt-in): PCAPFLOW_BENCH=/tmp/bench.pcap npx jest test/wifi-perf
// Make the file with: node /work/shared/tools/make-bench-pcap.mjs --out /tmp/bench.pcap --packets 1000000 --seed 1
import { readFileSync } from 'node:fs';
import { forEachPacket } from '../src/capture';
import { WifiDecoder } from '../src/wifi/decoder';
import { writeEkWifi, EkSink } from '../src/ek/wifi';
import { getMacResolver } from '../src/oui';

const file = process.env.PCAPFLOW_BENCH;
const run = file ? it : it.skip;

describe('Wi-Fi throughput', () => {
  run('decode loop and ek formatting', () => {
    const buf = readFileSync(file!);
    getMacResolver();
    const best = { decode: 0, ek: 0 };
    for (let rep = 0; rep < 3; rep++) {
      let dec = new WifiDecoder();
      let n = 0;
      let t = process.hrtime.bigint();
      forEachPacket(buf, (p, b) => {
        dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec);
        n++;
      });
      best.decode = Math.max(best.decode, n / (Number(process.hrtime.bigint() - t) / 1e9));
      dec = new WifiDecoder();
      const sink = new EkSink();
      let bytes = 0;
      n = 0;
      t = process.hrtime.bigint();
      forEachPacket(buf, (p, b) => {
        writeEkWifi(dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), sink);
        if (sink.pos > 1 << 20) bytes += sink.take().length;
        n++;
      });
      bytes += sink.take().length;
      best.ek = Math.max(best.ek, n / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    // eslint-disable-next-line no-console
    console.log(`decode loop: ${(best.decode / 1e6).toFixed(2)} M frames/s; decode+ek: ${(best.ek / 1e3).toFixed(0)} k frames/s`);
    expect(best.decode).toBeGreaterThan(0);
  });
});
