/**
 * Runtime benchmark: records/s from one publisher actor to one consumer actor through the
 * runtime, on JetStream (file storage, acked) and on the embedded transport, each beside a raw
 * nats.js loop (same batching, same payloads) measured in the same run.
 *
 *   npm run bench -w @pcapflow/core -- [--records N] [--batch B] [--rounds R] [--projected]
 *
 * --projected: the consumer reads only `key` (Actor.inputFields), so the runtime decodes messages
 * with the projected decoder (codec-projection.ts); the raw loops then decode with it too.
 *
 * Each path runs R times, raw and runtime alternating (which goes first alternates too, so
 * neither always gets the cold JIT), and the medians are compared: on a shared machine one run
 * of either can be slowed by other work.
 */
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { encodeBatch, decodeBatch } from '../codec';
import { ProjectedDecoder } from '../codec-projection';
import { Runtime, resolveTopology } from '../runtime/runtime';
import { EmbeddedTransport } from '../transport/embedded';
import { JetStreamTransport } from '../transport/jetstream';
import { startNatsServer } from '../testkit/nats-server';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
const RECORDS = arg('records', 2_000_000);
const BATCH = arg('batch', 1000);
const ROUNDS = Math.max(1, arg('rounds', 5));
const PROJECTED = args.includes('--projected');
const EXAMPLES = path.resolve(__dirname, '../../../../examples');
const projected = new ProjectedDecoder(['key']);
/** What the consumer decodes: whole records, or (--projected) only their key. */
const decode = (data: Uint8Array) => (PROJECTED ? projected.decode(data) ?? decodeBatch(data) : decodeBatch(data));

function record(seq: number) { return { key: `key-${seq % 64}`, seq, value: seq % 7 }; }

async function rawJetStream(url: string, round: number): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `RAW${round}`, subjects: [`raw${round}.>`], storage: StorageType.File });
  await jsm.consumers.add(`RAW${round}`, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 256 });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(`RAW${round}`, 'raw');
  const t0 = process.hrtime.bigint();
  const consumed = (async () => {
    let n = 0;
    const it = await consumer.consume({ max_messages: 64 });
    for await (const m of it) {
      n += decode(m.data).length;
      m.ack();
      if (n >= RECORDS) break;
    }
    await it.close();
  })();
  const inflight = new Set<Promise<unknown>>();
  for (let seq = 0; seq < RECORDS; seq += BATCH) {
    const batch = [];
    for (let i = seq; i < Math.min(seq + BATCH, RECORDS); i++) batch.push(record(i));
    const p = js.publish(`raw${round}.p${(seq / BATCH) % 4}`, encodeBatch(batch), { msgID: `raw-${seq}` }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 32) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await consumed;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await nc.close();
  return RECORDS / s;
}

async function rawEmbedded(): Promise<number> {
  const t = new EmbeddedTransport();
  await t.ensureStream({ name: 'RAW', subjects: ['raw.>'], retention: 'limits', storage: 'memory', duplicateWindowMs: 120_000, replicas: 1 });
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const t0 = process.hrtime.bigint();
  const sub = await t.consume({ stream: 'RAW', durable: 'raw', filterSubject: 'raw.>', maxAckPending: 256, ackWaitMs: 30_000, maxDeliver: 5 }, async (m) => {
    n += decode(m.data).length; m.ack(); if (n >= RECORDS) done();
  });
  for (let seq = 0; seq < RECORDS; seq += BATCH) {
    const batch = [];
    for (let i = seq; i < Math.min(seq + BATCH, RECORDS); i++) batch.push(record(i));
    await t.publish(`raw.p${(seq / BATCH) % 4}`, encodeBatch(batch), { msgId: `raw-${seq}` });
    if ((seq / BATCH) % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await sub.stop();
  return RECORDS / s;
}

async function throughRuntime(round: number, natsUrl?: string): Promise<number> {
  const yaml = `
${natsUrl ? `transport: { nats: { servers: "${natsUrl}" } }` : 'transport: embedded'}
streams:
  EVENTS${round}: { subjects: ["bench${round}.events.>"], storage: ${natsUrl ? 'file' : 'memory'} }
instances:
  publisher:
    use: ./plugins/generator
    config: { count: ${RECORDS}, keys: 64 }
    outputs:
      out: { subject: "bench${round}.events.p{key%4}", batch: ${BATCH} }
  consumer:
    use: ./plugins/null-sink
    inputs: { in: "bench${round}.events.>" }
`;
  const topology = resolveTopology({ text: yaml, file: 'bench.yaml', baseDir: EXAMPLES });
  if (PROJECTED) {
    // the null sink, reading only `key`
    const consumer = topology.instances.find((i) => i.name === 'consumer')!;
    const declaration = consumer.plugin.declaration;
    consumer.plugin = {
      ...consumer.plugin,
      declaration: { ...declaration, create: async (ctx, config) => ({ ...(await declaration.create(ctx, config as never)), inputFields: () => ['key'] }) },
    };
  }
  const transport = natsUrl ? await JetStreamTransport.connect({ servers: [natsUrl] }) : new EmbeddedTransport();
  const t0 = process.hrtime.bigint();
  const runtime = await Runtime.start(topology, { transport });
  const consumer = runtime.actors.find((a) => a.name === 'consumer')!;
  // Polled every millisecond, so the end is seen about as promptly as the raw loop's own count.
  while ((consumer.metrics().records_in ?? 0) < RECORDS) await new Promise((r) => setTimeout(r, 1));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await runtime.stop();
  await transport.close();
  return RECORDS / s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Raw and runtime alternately, `ROUNDS` times each; the first of a round alternates too. */
async function compare(raw: (round: number) => Promise<number>, runtime: (round: number) => Promise<number>) {
  const r = { raw: [] as number[], runtime: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) { r.raw.push(await raw(round)); r.runtime.push(await runtime(round)); }
    else { r.runtime.push(await runtime(round)); r.raw.push(await raw(round)); }
  }
  return { ...r, rawMedian: median(r.raw), runtimeMedian: median(r.runtime) };
}

async function main() {
  const nats = await startNatsServer();
  const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}`.padStart(12);
  const all = (xs: number[]) => xs.map((x) => `${(x / 1e6).toFixed(2)}M`).join(', ');
  try {
    process.stdout.write(`pcapflow runtime benchmark: ${RECORDS.toLocaleString('en-US')} records, ${BATCH} records per message, one publisher -> one consumer${PROJECTED ? ' reading only `key` (projected decoding)' : ''}, median of ${ROUNDS} rounds\n`);
    const js = await compare((round) => rawJetStream(nats.url, round), (round) => throughRuntime(round, nats.url));
    const emb = await compare(() => rawEmbedded(), (round) => throughRuntime(round));
    process.stdout.write(`\n| path | raw loop (records/s) | runtime (records/s) | runtime / raw |\n|---|---:|---:|---:|\n`);
    process.stdout.write(`| JetStream, file storage, acked | ${fmt(js.rawMedian)} | ${fmt(js.runtimeMedian)} | ${(100 * js.runtimeMedian / js.rawMedian).toFixed(0)}% |\n`);
    process.stdout.write(`| embedded transport | ${fmt(emb.rawMedian)} | ${fmt(emb.runtimeMedian)} | ${(100 * emb.runtimeMedian / emb.rawMedian).toFixed(0)}% |\n`);
    process.stdout.write(`\nrounds (records/s): JetStream raw ${all(js.raw)}; runtime ${all(js.runtime)}\n`);
    process.stdout.write(`                    embedded raw ${all(emb.raw)}; runtime ${all(emb.runtime)}\n`);
    const rt = js.runtimeMedian;
    process.stdout.write(`\ntargets: runtime >= 80% of raw JetStream (${rt >= 0.8 * js.rawMedian ? 'met' : 'NOT met'}); >= 200k records/s end to end (${rt >= 200_000 ? 'met' : 'NOT met'})\n`);
  } finally {
    await nats.stop();
  }
}

main().catch((e) => { process.stderr.write(`${e?.stack ?? e}\n`); process.exit(1); });
