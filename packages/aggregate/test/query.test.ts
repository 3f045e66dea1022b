// Pull queries over NATS request/reply (scatter/gather over partitions), over HTTP, through the
// `pcapflow query` command function, and push queries with `pcapflow tail`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { startNatsServer, startTestPipeline, type NatsServerHandle } from '@pcapflow/core/testkit';
import { queryTable, queryHttp, formatRows, type AggregateActor } from '../src';
import { queryCommand, tailCommand } from '../src/cli-commands';
import { wrapperPlugin } from './helpers/wrapper-plugin';

const sink = () => { const chunks: string[] = []; const w = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }); return { w, text: () => chunks.join('') }; };

let nats: NatsServerHandle;
let use: string;
beforeAll(async () => { nats = await startNatsServer(); use = JSON.stringify(wrapperPlugin()); });
afterAll(async () => { await nats?.stop(); });

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** 3 devices × 4 hours, device i sends i+1 frames per hour. */
function frames(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let h = 0; h < 4; h++) for (let d = 0; d < 3; d++) for (let k = 0; k <= d; k++) out.push({ sa: `02:00:00:00:00:0${d}`, ts: T0 + h * HOUR + k * 1000, signal: -40 - d });
  return out;
}

function topology(prefix: string, o: { http?: number; instances?: number }): string {
  const part = o.instances && o.instances > 1;
  return `
transport: { nats: { servers: ["${nats.url}"] } }
streams:
  ${prefix}_IN: { subjects: ["${prefix}.in.>"], storage: memory }
  ${prefix}_TAB: { subjects: ["${prefix}.tab.>"], storage: memory }
instances:
  hourly:
    use: ${use}
    ${part ? `instances: ${o.instances}` : ''}
    config:
      op: aggregate
      table: ${prefix}_hourly
      group_by: [sa]
      window: { type: tumbling, size: 1h, retention: 1d, timestamp: ts }
      aggregates: { frames: COUNT(*), max_signal: MAX(signal) }
      ${o.http !== undefined ? `http: { port: ${o.http} }` : ''}
    inputs: { in: ${part ? `{ subject: "${prefix}.in.p{partition}", partitions: 3 }` : `"${prefix}.in.>"`} }
    outputs: { changes: "${prefix}.tab.{sa}" }
`;
}

test('NATS request/reply over 3 partitions, HTTP, and the query command give the same rows', async () => {
  const prefix = `q${Date.now() % 100000}`;
  const yaml = topology(prefix, { http: 0, instances: 3 });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pcapflow-q-')), 'topology.yaml');
  writeFileSync(file, yaml);
  const p = await startTestPipeline({ yaml, natsUrl: nats.url, baseDir: path.dirname(file) });
  const byDevice = new Map<string, Record<string, unknown>[]>();
  for (const f of frames()) { const l = byDevice.get(f.sa as string) ?? []; l.push(f); byDevice.set(f.sa as string, l); }
  // each device's frames go to partition (device number % 3): every partition owns one device
  for (const [sa, list] of byDevice) await p.feed(`${prefix}.in.p${Number(sa.slice(-1)) % 3}`, list);
  await p.drain();
  // expected: device d has d+1 frames in each of 4 hours
  const expected = [0, 1, 2].flatMap((d) => [0, 1, 2, 3].map((h) => ({ sa: `02:00:00:00:00:0${d}`, window_start: T0 + h * HOUR, frames: d + 1, max_signal: -40 - d })));
  const pick = (rows: Record<string, unknown>[]) => rows.map((r) => ({ sa: r.sa, window_start: r.window_start, frames: r.frames, max_signal: r.max_signal }));

  const all = await queryTable(p.transport, `${prefix}_hourly`, {});
  expect(all.partitions).toBe(3);
  expect(pick(all.rows)).toEqual(expected);
  // by key (raw MAC), by prefix, by window range
  expect(pick((await queryTable(p.transport, `${prefix}_hourly`, { key: '02:00:00:00:00:01' })).rows)).toEqual(expected.filter((r) => r.sa.endsWith('1')));
  expect(pick((await queryTable(p.transport, `${prefix}_hourly`, { prefix: '02:00:00:00:00:0', from: T0 + HOUR, to: new Date(T0 + 2 * HOUR).toISOString() })).rows))
    .toEqual(expected.filter((r) => r.window_start + HOUR > T0 + HOUR && r.window_start < T0 + 2 * HOUR));

  // HTTP: every partition runs in this process, so the endpoint answers for all of them
  const actor = p.runtime.actors.find((a) => a.name === 'hourly[0]')! as unknown as { actor: AggregateActor };
  const port = (actor.actor as AggregateActor).httpPort!;
  const viaHttp = await queryHttp(`http://127.0.0.1:${port}`, `${prefix}_hourly`, { key: '02:00:00:00:00:02', from: String(T0 + 3 * HOUR) });
  expect(pick(viaHttp.rows)).toEqual(expected.filter((r) => r.sa.endsWith('2') && r.window_start >= T0 + 3 * HOUR));

  // the CLI command over NATS, JSON lines and table format
  const out = sink(), err = sink();
  expect(await queryCommand(file, `${prefix}_hourly`, '02:00:00:00:00:00', { format: 'json' }, { out: out.w, err: err.w })).toBe(0);
  expect(pick(out.text().trim().split('\n').map((l) => JSON.parse(l)))).toEqual(expected.filter((r) => r.sa.endsWith('0')));
  const out2 = sink();
  expect(await queryCommand(file, `${prefix}_hourly`, undefined, { format: 'table', to: String(T0 + HOUR) }, { out: out2.w, err: err.w })).toBe(0);
  const lines = out2.text().trim().split('\n');
  expect(lines[0].split(/\s+/)).toEqual(['sa', 'frames', 'max_signal', 'window_start', 'window_end']);
  expect(lines).toHaveLength(2 + 3);
  expect(lines[2]).toMatch(/^02:00:00:00:00:00\s+1\s+-40\s+2024-01-01T00:00:00.000Z\s+2024-01-01T01:00:00.000Z$/);
  // an unknown table is an input error
  expect(await queryCommand(file, 'nope', undefined, {}, { out: out.w, err: err.w })).toBe(1);
  await p.stop();
});

test('tail prints changes of a table as they happen; embedded topologies explain what to do', async () => {
  const prefix = `t${Date.now() % 100000}`;
  const yaml = topology(prefix, {});
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pcapflow-t-')), 'topology.yaml');
  writeFileSync(file, yaml);
  const p = await startTestPipeline({ yaml, natsUrl: nats.url, baseDir: path.dirname(file) });
  const out = sink();
  const tailing = tailCommand(file, `${prefix}_hourly`, { format: 'json', count: 2, transport: p.transport }, { out: out.w, err: process.stderr });
  await new Promise((r) => setTimeout(r, 50));
  await p.feed(`${prefix}.in.x`, [{ sa: 'aa', ts: T0, signal: -1 }]);
  await p.feed(`${prefix}.in.x`, [{ sa: 'aa', ts: T0 + 1, signal: -2 }]);
  expect(await tailing).toBe(0);
  expect(out.text().trim().split('\n').map((l) => JSON.parse(l).frames)).toEqual([1, 2]);
  await p.stop();

  const embedded = path.join(path.dirname(file), 'embedded.yaml');
  writeFileSync(embedded, yaml.replace(/^transport:.*$/m, 'transport: embedded'));
  const err = sink();
  expect(await queryCommand(embedded, `${prefix}_hourly`, undefined, {}, { out: sink().w, err: err.w })).toBe(1);
  expect(err.text()).toMatch(/embedded transport.*\n.*http: \{ port/);
});

test('formatRows aligns columns and prints JSON lines', () => {
  const rows = [{ k: 'a', n: 1, _key: 'a', _table: 't', _final: false }, { k: 'bbb', n: 100, _key: 'bbb', _table: 't', _final: false }];
  expect(formatRows(rows, 'table')).toBe('k      n\n---  ---\na      1\nbbb  100\n');
  expect(formatRows(rows, 'json').trim().split('\n').map((l) => JSON.parse(l))).toEqual(rows);
});
