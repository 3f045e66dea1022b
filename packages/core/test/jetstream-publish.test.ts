// Acked publishes and KV puts of the NATS transport (its own request path, not nats.js's request()):
// acks, dedupe by msgId, typed failures, timeouts, and KV entries that nats.js's KV client reads back.
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { EmbeddedTransport, JetStreamTransport } from '@pcapflow/core/runtime';
import { startNatsServer, type NatsServerHandle } from '@pcapflow/core/testkit';
import { PcapflowError } from '@pcapflow/core';
import { PubAckReader } from '../src/transport/jetstream';

let nats: NatsServerHandle;
let t: JetStreamTransport;
beforeAll(async () => {
  nats = await startNatsServer();
  t = await JetStreamTransport.connect({ servers: [nats.url] });
  await t.ensureStream({ name: 'PUB', subjects: ['pub.>'], retention: 'limits', storage: 'file', duplicateWindowMs: 120_000, replicas: 1 });
});
afterAll(async () => { await t?.close(); await nats?.stop(); });

const bytes = (s: string) => new TextEncoder().encode(s);

async function rejection(p: Promise<unknown>): Promise<PcapflowError> {
  try { await p; } catch (e) { return e as PcapflowError; }
  throw new Error('expected a rejection');
}

test('publishes are acked with the stream and its sequences, in order, also many at once', async () => {
  const first = await t.publish('pub.a', bytes('x'));
  expect(first).toEqual({ stream: 'PUB', seq: expect.any(Number), duplicate: false });
  const acks = await Promise.all(Array.from({ length: 300 }, (_, i) => t.publish(`pub.m.${i % 7}`, bytes(String(i)))));
  expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 300 }, (_, i) => first.seq + 1 + i));
  // what the server stored is what was sent, under the subject it was sent to
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  const m = await jsm.streams.getMessage('PUB', { seq: acks[123]!.seq });
  expect(m?.subject).toBe('pub.m.4');
  expect(new TextDecoder().decode(m!.data)).toBe('123');
  await nc.close();
});

test('a msgId is the dedupe id: a second publish with it is acked as a duplicate of the first; headers travel along', async () => {
  const a = await t.publish('pub.d', bytes('one'), { msgId: 'dedupe-1', headers: { 'X-Trace': 'abc' } });
  const b = await t.publish('pub.d', bytes('two'), { msgId: 'dedupe-1' });
  expect(a.duplicate).toBe(false);
  expect(b).toEqual({ stream: 'PUB', seq: a.seq, duplicate: true });
  const nc = await connect({ servers: nats.url });
  const m = await (await jetstreamManager(nc)).streams.getMessage('PUB', { seq: a.seq });
  expect(m?.header.get('Nats-Msg-Id')).toBe('dedupe-1');
  expect(m?.header.get('X-Trace')).toBe('abc');
  expect(new TextDecoder().decode(m!.data)).toBe('one');
  await nc.close();
});

test('a subject no stream captures fails as a typed transport error', async () => {
  const e = await rejection(t.publish('nowhere.x', bytes('x')));
  expect(e).toBeInstanceOf(PcapflowError);
  expect(e.code).toBe('PCAPFLOW_TRANSPORT');
  expect(e.message).toBe('publish to nowhere.x failed: no stream captures subject nowhere.x (no responders)');
  expect(e.hint).toMatch(/stream in the topology captures this subject/);
});

test('an error the server answers (a failed expectation) fails with its description and codes', async () => {
  const e = await rejection(t.publish('pub.e', bytes('x'), { headers: { 'Nats-Expected-Stream': 'OTHER' } }));
  expect(e).toBeInstanceOf(PcapflowError);
  expect(e.code).toBe('PCAPFLOW_TRANSPORT');
  expect(e.message).toMatch(/^publish to pub\.e failed: expected stream does not match/);
  expect(e.details).toEqual({ status: 400, errCode: 10060 });
  // the transport is still usable afterwards
  expect((await t.publish('pub.e', bytes('y'))).stream).toBe('PUB');
});

test('a publish nobody acks times out (after the 5 s JetStream timeout, as through nats.js)', async () => {
  // a plain subscriber takes the message but never answers
  const nc = await connect({ servers: nats.url });
  const silent = nc.subscribe('mute.x');
  await nc.flush();
  const e = await rejection(t.publish('mute.x', bytes('x')));
  expect(e).toBeInstanceOf(PcapflowError);
  expect(e.message).toMatch(/^publish to mute\.x failed: timeout/);
  silent.unsubscribe();
  await nc.close();
}, 20_000);

test('KV puts return the revision and are what nats.js\'s KV client reads; invalid keys are refused', async () => {
  const kv = await t.kv('pubtest');
  const r1 = await kv.put('a.k1', bytes('v1'));
  const r2 = await kv.put('a.k1', bytes('v2'));
  expect(r2).toBeGreaterThan(r1);
  expect(await kv.get('a.k1')).toEqual({ value: bytes('v2'), revision: r2 });
  const nc = await connect({ servers: nats.url });
  const other = await new Kvm(jetstream(nc)).open('pubtest');
  const e = await other.get('a.k1');
  expect(e?.revision).toBe(r2);
  expect(new TextDecoder().decode(e!.value)).toBe('v2');
  await nc.close();
  const keys: string[] = [];
  for await (const k of kv.keys()) keys.push(k);
  expect(keys).toEqual(['a.k1']);
  for (const bad of ['', '.a', 'a.', 'a b', 'a*']) {
    const err = await rejection(kv.put(bad, bytes('x')));
    expect(err).toBeInstanceOf(PcapflowError);
    expect(err.code).toBe('PCAPFLOW_TRANSPORT');
    expect(() => kv.putUnacked!(bad, bytes('x'))).toThrow(PcapflowError);
  }
});

describe.each([
  ['JetStream KV', () => t.kv(`guard${Date.now() % 100000}`)],
  ['the embedded transport\'s KV', () => new EmbeddedTransport().kv('guard')],
])('putIfLast on %s', (_what, open) => {
  test('stores only when the bucket\'s last write has the given revision; puts sent before it count', async () => {
    const kv = await open();
    const r1 = await kv.put('k1', bytes('1'));
    // three unawaited puts, then the guarded put expecting all three stored: one round trip
    const sent = [kv.put('k2', bytes('2')), kv.put('k3', bytes('3')), kv.put('k2', bytes('2b'))];
    const r5 = await kv.putIfLast!('ck', bytes('c1'), r1 + 3);
    expect(await Promise.all(sent)).toEqual([r1 + 1, r1 + 2, r1 + 3]);
    expect(r5).toBe(r1 + 4);
    // a delete is a write too
    await kv.delete('k3');
    // expecting a revision the bucket is not at: refused, nothing stored
    const err = await rejection(kv.putIfLast!('ck', bytes('c2'), r5));
    expect(err).toBeInstanceOf(PcapflowError);
    expect(err.code).toBe('PCAPFLOW_TRANSPORT');
    expect(await kv.get('ck')).toEqual({ value: bytes('c1'), revision: r5 });
    expect((await kv.putIfLast!('ck', bytes('c3'), r5 + 1))).toBe(r5 + 2);
  });

  test('unacked puts are stored in order and counted by the guarded put sent after them', async () => {
    const kv = await open();
    const r1 = await kv.put('u0', bytes('0'));
    kv.putUnacked!('u1', bytes('1'));
    kv.putUnacked!('u2', bytes('2'));
    kv.putUnacked!('u1', bytes('1b'));
    // refused: it expects one write fewer than were sent; nothing of it is stored
    expect((await rejection(kv.putIfLast!('ck', bytes('early'), r1 + 2))).code).toBe('PCAPFLOW_TRANSPORT');
    expect(await kv.putIfLast!('ck', bytes('c1'), r1 + 3)).toBe(r1 + 4);
    expect(await kv.get('u1')).toEqual({ value: bytes('1b'), revision: r1 + 3 });
    expect(await kv.get('u2')).toEqual({ value: bytes('2'), revision: r1 + 2 });
  });
});

test('an unacked put the server refuses is reported by nothing but the guarded put after it', async () => {
  const bucket = `refuse${Date.now() % 100000}`;
  const kv = await t.kv(bucket);
  // the bucket's stream now refuses messages over 64 bytes: silently, for a put that asks for no reply
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(`KV_${bucket}`);
  await jsm.streams.update(`KV_${bucket}`, { ...info.config, max_msg_size: 64 });
  await nc.close();
  const r1 = await kv.put('a', bytes('1'));
  kv.putUnacked!('b', bytes('x'.repeat(100)));
  const err = await rejection(kv.putIfLast!('ck', bytes('c'), r1 + 1));
  expect(err.code).toBe('PCAPFLOW_TRANSPORT');
  expect(await kv.get('b')).toBeUndefined();
  expect(await kv.get('ck')).toBeUndefined();
  // counted right, the guarded put is stored
  expect(await kv.putIfLast!('ck', bytes('c'), r1)).toBe(r1 + 1);
});

test('publishes waiting for their ack when the connection closes fail instead of hanging', async () => {
  const t2 = await JetStreamTransport.connect({ servers: [nats.url] });
  await t2.publish('pub.c', bytes('warm'));
  const waiting = Array.from({ length: 50 }, () => t2.publish('mute.y', bytes('x')).then(() => 'acked', (e: Error) => e.message));
  await new Promise((r) => setImmediate(r));
  await t2.close();
  const results = await Promise.all(waiting);
  for (const r of results) expect(r).toMatch(/^publish to mute\.y failed: /);
  const after = await rejection(t2.publish('pub.c', bytes('late')));
  expect(after.code).toBe('PCAPFLOW_TRANSPORT');
});

test('PubAcks are read without JSON.parse when they have the usual form; anything else is left to JSON.parse', () => {
  const r = new PubAckReader();
  const read = (s: string) => r.read(new TextEncoder().encode(s));
  // as nats-server 2.9 writes them, and compact
  expect(read('{"stream":"B", "seq":1}')).toEqual({ stream: 'B', seq: 1, duplicate: false });
  expect(read('{"stream":"B", "seq":2,"duplicate": true}')).toEqual({ stream: 'B', seq: 2, duplicate: true });
  expect(read('{"stream":"KV_x-y","seq":123456789012345,"duplicate":false}')).toEqual({ stream: 'KV_x-y', seq: 123456789012345, duplicate: false });
  expect(read('{"stream":"B","seq":7}')).toEqual({ stream: 'B', seq: 7, duplicate: false });
  for (const other of [
    '{"stream":"B","seq":1,"domain":"hub"}', '{"stream":"B","domain":"hub","seq":1}', '{"seq":1,"stream":"B"}',
    '{"stream":"B","seq":1234567890123456}', '{"stream":"B\\"x","seq":1}', '{"stream":"Bé","seq":1}', '{"stream":"","seq":1}',
    '{"stream":"B","seq":}', '{"stream":"B","seq":1', '{"stream":"B","seq":1}x', '{"stream":"B","seq":1,"duplicate":1}',
    '{"error":{"code":503,"err_code":10039,"description":"x"}}', '',
  ]) expect([other, read(other)]).toEqual([other, undefined]);
});
