import path from 'node:path';
import { decodeBatch, encodeBatch } from '@pcapflow/core/runtime';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { PACKED_KEYS, PACKED_VALUES } from '../src/codec';

// Actor.inputFields: the runtime decodes only the fields an actor reads; whatever the actor passes
// on (forwarded, emitted as it came, dead-lettered) still leaves with every field.

const FIXTURES = path.resolve(__dirname, 'fixtures');

let nats: NatsServerHandle;
beforeAll(async () => { nats = await startNatsServer(); });
afterAll(async () => { await nats?.stop(); });

/** Message 0 in a source's pre-packed form (projectable); message 1 msgpackr-encoded with nested objects (not). */
const first = Array.from({ length: 30 }, (_, i) => ({ key: 'a', seq: i, value: i % 5, label: `frame ${i}`, flag: i % 3 === 0 }));
const inputs: Array<Array<Record<string, unknown>>> = [
  first,
  Array.from({ length: 10 }, (_, i) => ({ key: 'b', seq: 100 + i, value: i, nested: { x: [i, `s${i}`] } })),
];
const fieldNames = ['flag', 'key', 'label', 'seq', 'value'];
function encodeInput(i: number): Uint8Array {
  if (i !== 0) return encodeBatch(inputs[i]!);
  const keys = Object.freeze(['key', 'seq', 'value', 'label', 'flag']);
  return encodeBatch(first.map((r) => {
    const label = Buffer.from(r.label);
    const values = [0xa1, 0x61, 0xcc, r.seq, 0xcc, r.value, 0xa0 + label.length, ...label, r.flag ? 0xc3 : 0xc2];
    return { ...r, [PACKED_KEYS]: keys, [PACKED_VALUES]: Uint8Array.from(values) };
  }));
}

describe.each([['embedded'], ['nats']])('projected input on %s transport', (kind) => {
  let testNo = 0;
  let p: TestPipeline | undefined;
  afterEach(async () => { await p?.stop(); p = undefined; });

  async function run(mode: string, fields: string[] | undefined, o: { checkRecords?: boolean } = {}) {
    const pre = `pj${++testNo}x${Date.now() % 100000}`;
    const yaml = `
streams:
  IN_${pre}: { subjects: ["${pre}.in.>"], storage: memory }
  OUT_${pre}: { subjects: ["${pre}.out.>"], storage: memory }
instances:
  fw:
    use: ./forwarder
    config: { mode: ${mode}${fields ? `, fields: [${fields.join(', ')}]` : ''} }
    inputs: { in: "${pre}.in.>" }
    outputs:
      out: { subject: "${pre}.out.{key}", batch: 1000 }
`;
    p = await startTestPipeline({ yaml, baseDir: FIXTURES, natsUrl: kind === 'nats' ? nats.url : undefined, checkRecords: o.checkRecords });
    const published: Array<{ subject: string; data: Uint8Array }> = [];
    const sub = p.transport.subscribe(`${pre}.out.>`, (subject, data) => published.push({ subject: subject.slice(pre.length + 1), data: Uint8Array.from(data) }));
    const dead: Record<string, unknown>[] = [];
    const dlq = p.transport.subscribe('pcapflow.dlq.>', (_s, data) => { for (const r of decodeBatch(data)) dead.push(r); });
    for (let i = 0; i < inputs.length; i++) await p.transport.publish(`${pre}.in.m${i}`, encodeInput(i), { msgId: `${pre}-in-${i}` });
    await p.drain();
    await new Promise((r) => setTimeout(r, 100));
    sub.stop();
    dlq.stop();
    const fw = p.runtime.actors.find((a) => a.name === 'fw')!;
    const bySubject: Record<string, Record<string, unknown>[]> = {};
    for (const m of published) (bySubject[m.subject] ??= []).push(...decodeBatch(m.data));
    return { bySubject, dead, metrics: fw.metrics() };
  }

  test('the handler gets the fields it reads and those the output subject needs', async () => {
    const { bySubject, metrics } = await run('report-fields', ['value']);
    // message 0 projected: value, plus key for the subject "….out.{key}"; message 1 (nested shapes shared between records) whole
    expect(bySubject['out.a']!.map((r) => r.fields)).toEqual(inputs[0]!.map(() => 'key,value'));
    expect(bySubject['out.b']!.map((r) => r.fields)).toEqual(inputs[1]!.map(() => 'key,nested,seq,value'));
    expect(metrics.decoded_projected).toBe(1);
  });

  test('without inputFields, or with --check-records, records come whole', async () => {
    const plain = await run('report-fields', undefined);
    expect(plain.bySubject['out.a']!.map((r) => r.fields)).toEqual(inputs[0]!.map(() => fieldNames.join(',')));
    expect(plain.metrics.decoded_projected ?? 0).toBe(0);
    await p!.stop(); p = undefined;
    const checked = await run('report-fields', ['value'], { checkRecords: true });
    expect(checked.bySubject['out.a']!.map((r) => r.fields)).toEqual(inputs[0]!.map(() => fieldNames.join(',')));
  });

  test('records forwarded whole, in part, or dead-lettered leave with every field', async () => {
    const whole = await run('forward', ['value']);
    expect(whole.bySubject).toEqual({ 'out.a': inputs[0], 'out.b': inputs[1] });
    expect(whole.metrics.passed_through).toBe(2);
    await p!.stop(); p = undefined;
    const even = await run('forward-even', ['value']);
    expect(even.bySubject).toEqual({ 'out.a': inputs[0]!.filter((_, i) => i % 2 === 0), 'out.b': inputs[1]!.filter((_, i) => i % 2 === 0) });
    await p!.stop(); p = undefined;
    const dl = await run('dead-letter-odd', ['value']);
    expect(dl.bySubject['out.a']).toEqual(inputs[0]!.filter((_, i) => i % 2 === 0));
    const byKey = (k: string) => dl.dead.filter((r) => r.key === k);
    expect(byKey('a')).toEqual(inputs[0]!.filter((_, i) => i % 2 === 1));
    expect(byKey('b')).toEqual(inputs[1]!.filter((_, i) => i % 2 === 1));
    expect(dl.metrics.decoded_projected).toBe(1);
  });
});
