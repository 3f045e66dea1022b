import { Writable } from 'node:stream';
import pino from 'pino';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { JetStreamTransport, encodeBatch, decodeBatch } from '@pcapflow/core/runtime';
import { startNatsServer, type NatsServerHandle } from '@pcapflow/core/testkit';
import type { Logger } from '@pcapflow/core';

let nats: NatsServerHandle;
beforeAll(async () => { nats = await startNatsServer(); });
afterAll(async () => { await nats?.stop(); });

/** A pino logger writing its JSON lines into an array. */
function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { log: pino({ level: 'warn' }, sink) as unknown as Logger, lines };
}

const spec = (stream: string, durable: string, log?: Logger) => ({
  stream, durable, filterSubject: `${stream.toLowerCase()}.>`, maxAckPending: 8, ackWaitMs: 30_000, maxDeliver: 5, log,
});

test('messages are handled in order across pulls and all acked; stop drains', async () => {
  const t = await JetStreamTransport.connect({ servers: [nats.url] });
  await t.ensureStream({ name: 'ORD', subjects: ['ord.>'], retention: 'limits', storage: 'file', duplicateWindowMs: 120_000, replicas: 1 });
  // 8 per pull (max_ack_pending 8): 100 messages take many pulls, with the next one issued ahead.
  for (let i = 0; i < 100; i++) await t.publish(`ord.k${i % 3}`, encodeBatch([{ i }]), { msgId: `ord-${i}` });
  const seen: number[] = [];
  const sub = await t.consume(spec('ORD', 'ord'), async (m) => {
    seen.push(decodeBatch(m.data)[0]!.i as number);
    if (seen.length % 7 === 0) await new Promise((r) => setTimeout(r, 1)); // a handler that sometimes waits
    m.ack();
  });
  while (seen.length < 100) await new Promise((r) => setTimeout(r, 5));
  await sub.stop();
  expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
  const st = await t.consumerState('ORD', 'ord');
  expect(st).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
  await t.close();
});

test('a failing pull is reported through the consumer\'s logger as a warning, not on stderr', async () => {
  const { log, lines } = capturingLogger();
  const t = await JetStreamTransport.connect({ servers: [nats.url] });
  await t.ensureStream({ name: 'GONE', subjects: ['gone.>'], retention: 'limits', storage: 'file', duplicateWindowMs: 120_000, replicas: 1 });
  const stderr = jest.spyOn(process.stderr, 'write');
  const sub = await t.consume(spec('GONE', 'gone', log), async (m) => { m.ack(); });
  // Deleting the durable under a running consumer makes its pulls fail.
  const nc = await connect({ servers: nats.url });
  await (await jetstreamManager(nc)).consumers.delete('GONE', 'gone');
  await nc.close();
  const deadline = Date.now() + 20_000;
  while (!lines.some((l) => l.msg === 'pull failed; pulling again') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await sub.stop();
  const warning = lines.find((l) => l.msg === 'pull failed; pulling again');
  expect(warning).toMatchObject({ level: 40, stream: 'GONE', durable: 'gone' });
  expect(typeof warning!.err).toBe('string');
  expect(stderr.mock.calls.filter(([s]) => String(s).includes('pull'))).toEqual([]);
  stderr.mockRestore();
  await t.close();
});

test('with onGroup, waiting messages go over in order as groups of at most maxGroup; all acked', async () => {
  const t = await JetStreamTransport.connect({ servers: [nats.url] });
  await t.ensureStream({ name: 'GRP', subjects: ['grp.>'], retention: 'limits', storage: 'file', duplicateWindowMs: 120_000, replicas: 1 });
  for (let i = 0; i < 100; i++) await t.publish(`grp.k${i % 3}`, encodeBatch([{ i }]), { msgId: `grp-${i}` });
  const seen: number[] = [];
  const groups: number[] = [];
  const sub = await t.consume({ ...spec('GRP', 'grp'), maxGroup: 5 }, async (m) => {
    seen.push(decodeBatch(m.data)[0]!.i as number);
    groups.push(1);
    await new Promise((r) => setTimeout(r, 5)); // messages pile up meanwhile
    m.ack();
  }, async (msgs) => {
    for (const m of msgs) seen.push(decodeBatch(m.data)[0]!.i as number);
    groups.push(msgs.length);
    await new Promise((r) => setTimeout(r, 5));
    for (const m of msgs) m.ack();
  });
  while (seen.length < 100) await new Promise((r) => setTimeout(r, 5));
  await sub.stop();
  expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
  expect(Math.max(...groups)).toBe(5);
  expect(await t.consumerState('GRP', 'grp')).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
  await t.close();
});
