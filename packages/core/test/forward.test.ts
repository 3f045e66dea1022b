import path from 'node:path';
import { decodeBatch, encodeBatch } from '@pcapflow/core/runtime';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { PACKED_KEYS, PACKED_VALUES } from '../src/codec';

// ctx.forward: a message whose records are all forwarded unchanged, in order, to one subject is
// republished as it arrived; anything else is encoded from the records the handler gave.

const FIXTURES = path.resolve(__dirname, 'fixtures');

let nats: NatsServerHandle;
beforeAll(async () => { nats = await startNatsServer(); });
afterAll(async () => { await nats?.stop(); });

/** Hand-built input: two messages, one key each (so one output subject per message). */
const inputs = [
  Array.from({ length: 40 }, (_, i) => ({ key: 'a', seq: i, value: i % 7 })),
  Array.from({ length: 25 }, (_, i) => ({ key: 'b', seq: 100 + i, value: i - 12, flag: i % 2 === 0, nested: { x: [i, `s${i}`] } })),
];

/**
 * The first message in pre-packed form with its small integers written as uint8 (0xcc n), not as
 * fixints as msgpackr writes them: it decodes to the same records, but encoding those records
 * again gives other bytes, so a republished message is told apart from a re-encoded one.
 */
function encodeInput(i: number): Uint8Array {
  if (i !== 0) return encodeBatch(inputs[i]!);
  const keys = Object.freeze(['key', 'seq', 'value']);
  return encodeBatch(inputs[0]!.map((r) => ({
    ...r, [PACKED_KEYS]: keys, [PACKED_VALUES]: Uint8Array.from([0xa1, 0x61, 0xcc, r.seq, 0xcc, r.value]),
  })));
}

describe.each([['embedded'], ['nats']])('forwarded records on %s transport', (kind) => {
  let testNo = 0;
  let p: TestPipeline | undefined;
  afterEach(async () => { await p?.stop(); p = undefined; });

  async function run(mode: string, o: { checkRecords?: boolean; input?: Array<Array<Record<string, unknown>>> } = {}) {
    const pre = `fw${++testNo}x${Date.now() % 100000}`;
    const yaml = `
streams:
  IN_${pre}: { subjects: ["${pre}.in.>"], storage: memory }
  OUT_${pre}: { subjects: ["${pre}.out.>"], storage: memory }
instances:
  fw:
    use: ./forwarder
    config: { mode: ${mode} }
    inputs: { in: "${pre}.in.>" }
    outputs:
      out: { subject: "${pre}.out.{key}", batch: 1000 }
`;
    p = await startTestPipeline({ yaml, baseDir: FIXTURES, natsUrl: kind === 'nats' ? nats.url : undefined, checkRecords: o.checkRecords });
    const published: Array<{ subject: string; data: Uint8Array }> = [];
    const sub = p.transport.subscribe(`${pre}.out.>`, (subject, data) => published.push({ subject: subject.slice(pre.length + 1), data: Uint8Array.from(data) }));
    const sent: Uint8Array[] = [];
    for (const [i, records] of (o.input ?? inputs).entries()) {
      const data = o.input ? encodeBatch(records) : encodeInput(i);
      sent.push(data);
      await p.transport.publish(`${pre}.in.m${i}`, data, { msgId: `${pre}-in-${i}` });
    }
    await p.drain();
    sub.stop();
    const fw = p.runtime.actors.find((a) => a.name === 'fw')!;
    return { published, sent, metrics: fw.metrics() };
  }

  test('a message forwarded whole is republished byte for byte', async () => {
    const { published, sent, metrics } = await run('forward');
    expect(decodeBatch(sent[0]!)).toEqual(inputs[0]);
    expect(Buffer.from(encodeBatch(inputs[0]!)).equals(Buffer.from(sent[0]!))).toBe(false);
    expect(published.map((m) => m.subject).sort()).toEqual(['out.a', 'out.b']);
    for (const m of published) {
      const i = m.subject === 'out.a' ? 0 : 1;
      expect(Buffer.from(m.data).equals(Buffer.from(sent[i]!))).toBe(true);
      expect(decodeBatch(m.data)).toEqual(inputs[i]);
    }
    expect(metrics.passed_through).toBe(2);
  });

  test('part of a message forwarded is encoded from the records', async () => {
    const { published, metrics } = await run('forward-even');
    const bySubject = Object.fromEntries(published.map((m) => [m.subject, decodeBatch(m.data)]));
    expect(bySubject).toEqual({
      'out.a': inputs[0]!.filter((_, i) => i % 2 === 0),
      'out.b': inputs[1]!.filter((_, i) => i % 2 === 0),
    });
    expect(metrics.passed_through ?? 0).toBe(0);
  });

  test('records forwarded to several subjects are encoded per subject', async () => {
    const mixed = [[...inputs[0]!.slice(0, 10), ...inputs[1]!.slice(0, 10), ...inputs[0]!.slice(10)]];
    const { published, metrics } = await run('forward', { input: mixed });
    const bySubject = Object.fromEntries(published.map((m) => [m.subject, decodeBatch(m.data)]));
    expect(bySubject).toEqual({ 'out.a': inputs[0], 'out.b': inputs[1]!.slice(0, 10) });
    expect(metrics.passed_through ?? 0).toBe(0);
  });

  test.each([
    ['forward-then-emit', (rs: Array<Record<string, unknown>>) => [...rs, { key: rs[0]!.key, seq: -1, value: 0 }]],
    ['forward-reversed', (rs: Array<Record<string, unknown>>) => [...rs].reverse()],
    ['forward-twice', (rs: Array<Record<string, unknown>>) => rs.flatMap((r) => [r, r])],
  ])('a message forwarded whole and then some (%s) is encoded from the records, in their order', async (mode, expected) => {
    const { published, metrics } = await run(mode);
    const bySubject = Object.fromEntries(published.map((m) => [m.subject, decodeBatch(m.data)]));
    expect(bySubject).toEqual({ 'out.a': expected(inputs[0]!), 'out.b': expected(inputs[1]!) });
    expect(metrics.passed_through ?? 0).toBe(0);
  });

  test('records forwarded around a flush in the handler leave in two messages, in order', async () => {
    const { published, metrics } = await run('forward-flush');
    for (const [subject, records] of [['out.a', inputs[0]!], ['out.b', inputs[1]!]] as const) {
      const half = records.length >> 1;
      expect(published.filter((m) => m.subject === subject).map((m) => decodeBatch(m.data))).toEqual([records.slice(0, half), records.slice(half)]);
    }
    expect(metrics.passed_through ?? 0).toBe(0);
  });

  test('the input\'s own records changed and emitted are published as changed', async () => {
    const { published, metrics } = await run('emit-changed');
    expect(published).toHaveLength(2);
    for (const m of published) {
      const i = m.subject === 'out.a' ? 0 : 1;
      expect(decodeBatch(m.data)).toEqual(inputs[i]!.map((r) => ({ ...r, value: 'changed' })));
    }
    expect(metrics.passed_through ?? 0).toBe(0);
  });

  test('with --check-records, a changed record forwarded is caught and its message dead-lettered, unpublished', async () => {
    const { published, metrics } = await run('forward-changed', { checkRecords: true });
    expect(published).toEqual([]);
    expect(metrics.dead_lettered).toBe(2);
    expect(metrics.passed_through ?? 0).toBe(0);
  });
});
