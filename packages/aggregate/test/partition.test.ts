// Partitioned aggregation: with instances: 3 each partition owns a disjoint set of keys, and the
// union of their tables equals the table of one instance (and values computed here).
import { partitionOf } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type NatsServerHandle } from '@pcapflow/core/testkit';
import { queryTable } from '../src';
import { wrapperPlugin } from './helpers/wrapper-plugin';

let nats: NatsServerHandle;
let use: string;
beforeAll(async () => { nats = await startNatsServer(); use = JSON.stringify(wrapperPlugin()); });
afterAll(async () => { await nats?.stop(); });

const N = 6000;
const rec = (i: number) => ({ mac: `m${(i * 7) % 97}`, ssid: `net${i % 11}`, ts: 1_700_000_000_000 + i * 10_000, rssi: -30 - (i % 50) });

// The grace period covers the whole input: a partition owning two subjects reads them through two
// consumers that are not merged by event time, so one may run ahead of the other (README, known limits).
function topology(prefix: string, instances: number): string {
  return `
streams:
  ${prefix}_SRC: { subjects: ["${prefix}.src"], storage: memory }
  ${prefix}_IN: { subjects: ["${prefix}.in.>"], storage: memory }
  ${prefix}_TAB: { subjects: ["${prefix}.tab.>"], storage: memory }
instances:
  keyed:
    use: ${use}
    config: { op: project, select: '*' }
    inputs: { in: "${prefix}.src" }
    outputs: { out: { subject: "${prefix}.in.p{mac%6}", batch: 40 } }
  stats:
    use: ${use}
    ${instances > 1 ? `instances: ${instances}` : ''}
    config:
      op: aggregate
      table: ${prefix}_stats
      group_by: [mac]
      window: { type: hopping, size: 1h, advance: 30m, grace: 30d, retention: 60d, timestamp: ts }
      aggregates: { n: COUNT(*), ssids: COUNT_DISTINCT(ssid), lo: MIN(rssi), hi: MAX(rssi), first: EARLIEST(ts) }
    inputs: { in: ${instances > 1 ? `{ subject: "${prefix}.in.p{partition}", partitions: 6 }` : `"${prefix}.in.>"`} }
    outputs: { changes: "${prefix}.tab.{mac}" }
`;
}

/** Expected rows, computed from the records directly. */
function expected(): Record<string, { n: number; ssids: number; lo: number; hi: number; first: number }> {
  const out: Record<string, { n: number; ssids: Set<string>; lo: number; hi: number; first: number }> = {};
  for (let i = 0; i < N; i++) {
    const r = rec(i);
    const newest = Math.floor(r.ts / 1_800_000) * 1_800_000;
    for (const ws of [newest, newest - 1_800_000]) {
      const e = (out[`${r.mac}@${ws}`] ??= { n: 0, ssids: new Set(), lo: Infinity, hi: -Infinity, first: Infinity });
      e.n++; e.ssids.add(r.ssid); e.lo = Math.min(e.lo, r.rssi); e.hi = Math.max(e.hi, r.rssi); e.first = Math.min(e.first, r.ts);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { ...v, ssids: v.ssids.size }]));
}

async function run(instances: number) {
  const prefix = `p${instances}_${Date.now() % 100000}`;
  const p = await startTestPipeline({ yaml: topology(prefix, instances), natsUrl: nats.url });
  for (let i = 0; i < N; i += 200) await p.feed(`${prefix}.src`, Array.from({ length: 200 }, (_, j) => rec(i + j)));
  await p.drain(120_000);
  const res = await queryTable(p.transport, `${prefix}_stats`, { limit: 1_000_000 });
  // every key lives in exactly one partition
  const owners = new Map<string, Set<number>>();
  for (let part = 0; part < instances; part++) {
    const one = await p.transport.request(`pcapflow.query.${prefix}_stats.${part}`, new TextEncoder().encode('{"op":"query","limit":1000000}'), 5000);
    for (const r of (JSON.parse(new TextDecoder().decode(one)) as { rows: Array<{ mac: string }> }).rows) {
      const s = owners.get(r.mac) ?? new Set<number>();
      s.add(part);
      owners.set(r.mac, s);
    }
  }
  await p.stop();
  return { res, owners };
}

test('instances: 3 and instances: 1 build the same table, each key owned by one partition', async () => {
  const one = await run(1);
  const three = await run(3);
  const table = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [`${r.mac}@${r.window_start}`, { n: r.n, ssids: r.ssids, lo: r.lo, hi: r.hi, first: r.first }]));
  const exp = expected();
  expect(table(one.res.rows)).toEqual(exp);
  expect(table(three.res.rows)).toEqual(exp);
  expect(three.res.partitions).toBe(3);
  for (const parts of three.owners.values()) expect(parts.size).toBe(1);
  // keys with the same subject partition (mac % 6) are owned by the same instance
  const bySubjectPartition = new Map<number, Set<number>>();
  for (const [mac, parts] of three.owners) {
    const s = bySubjectPartition.get(partitionOf(mac, 6)) ?? new Set<number>();
    s.add([...parts][0]);
    bySubjectPartition.set(partitionOf(mac, 6), s);
  }
  for (const s of bySubjectPartition.values()) expect(s.size).toBe(1);
  expect(new Set([...three.owners.values()].map((s) => [...s][0])).size).toBe(3);
}, 180_000);
