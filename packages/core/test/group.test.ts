import path from 'node:path';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';

// Actor.handleMany: messages waiting in the mailbox are handed over as one group (NATS transport),
// acked only after the group's handler resolved; a failing group comes back one message at a time.

const FIXTURES = path.resolve(__dirname, 'fixtures');
const N = 60;

let nats: NatsServerHandle;
beforeAll(async () => { nats = await startNatsServer(); });
afterAll(async () => { await nats?.stop(); });

let p: TestPipeline | undefined;
afterEach(async () => { await p?.stop(); p = undefined; });

/** The grouper plugin between two streams named after `pre`, with its config and consumer options. */
function topology(pre: string, config: string, consumer: string): string {
  return `
streams:
  ${pre.toUpperCase()}_IN: { subjects: ["${pre}.in.>"], storage: memory }
  ${pre.toUpperCase()}_OUT: { subjects: ["${pre}.out.>"], storage: memory }
instances:
  g:
    use: ./grouper
    config: ${config}
    inputs: { in: "${pre}.in.>" }
    outputs: { out: "${pre}.out.x" }
    consumer: ${consumer}
`;
}

async function run(pre: string, failFirstGroup: boolean) {
  const yaml = topology(pre, `{ fail_first_group: ${failFirstGroup}, wait_ms: 20 }`, '{ backoff: [10] }');
  p = await startTestPipeline({ yaml, baseDir: FIXTURES, natsUrl: nats.url });
  const out = p.collect(`${pre}.out.>`);
  // published while the handler waits 20 ms per call: messages pile up in the mailbox
  for (let i = 0; i < N; i++) await p.feed(`${pre}.in.k${i % 3}`, [{ i }], `${pre}-${i}`);
  await p.drain(30_000);
  const records = out.records as unknown as Array<{ i: number; via: string; seq: number }>;
  const metrics = p.runtime.actors.find((a) => a.name === 'g')!.health().metrics;
  const state = await p.transport.consumerState(`${pre.toUpperCase()}_IN`, 'g_in');
  return { records, metrics, state };
}

test('waiting messages are handled as groups, each record once, all acked', async () => {
  const { records, metrics, state } = await run('grp', false);
  expect(records.map((r) => r.i).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
  expect(metrics.max_group).toBeGreaterThan(1);
  expect(metrics.groups).toBeLessThan(N);
  expect(metrics.grouped_redelivered).toBe(0);
  expect(metrics.handled).toBe(N);
  expect(state).toMatchObject({ pending: 0, ackPending: 0 });
});

test('a failing group publishes nothing; its messages are redelivered one at a time through handle', async () => {
  const { records, metrics, state } = await run('grf', true);
  // every record exactly once: the failed group's outputs were dropped, the redeliveries emitted them
  expect(records.map((r) => r.i).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
  expect(metrics.single_redelivered).toBeGreaterThanOrEqual(2);
  expect(metrics.grouped_redelivered).toBe(0);
  expect(metrics.failed).toBe(1);
  expect(state).toMatchObject({ pending: 0, ackPending: 0 });
});

describe('consumer linger', () => {
  // messages published one by one, 20 ms apart, to a handler that is never busy
  async function trickle(pre: string, linger: string, stopEarly = false) {
    const yaml = topology(pre, '{ wait_ms: 0 }', `{ linger: ${linger} }`);
    p = await startTestPipeline({ yaml, baseDir: FIXTURES, natsUrl: nats.url });
    const out = p.collect(`${pre}.out.>`);
    for (let i = 0; i < 10; i++) {
      await p.feed(`${pre}.in.k`, [{ i }], `${pre}-${i}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const g = p.runtime.actors.find((a) => a.name === 'g')!;
    if (stopEarly) {
      await p.stop();
      p = undefined;
      return { records: out.records, metrics: g.health().metrics };
    }
    await out.waitFor(10);
    return { records: out.records, metrics: g.health().metrics };
  }

  test('without linger, messages that come one by one are handled one by one', async () => {
    const { records, metrics } = await trickle('lg0', '0');
    expect(records).toHaveLength(10);
    expect(metrics.single + metrics.groups).toBeGreaterThan(1);
  });

  test('with linger, a handler that handles groups waits for more and gets them as one group', async () => {
    const { records, metrics } = await trickle('lg1', '1500ms');
    expect(records.map((r) => r.i)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(metrics).toMatchObject({ groups: 1, max_group: 10, single: 0 });
  });

  test('stopping cuts a linger short: what waits is handled and acked before the stop returns', async () => {
    // (a linger of 10 minutes: a stop that waited it out would time the test out)
    const { metrics } = await trickle('lg2', '10m', true);
    expect(metrics).toMatchObject({ handled: 10, emitted: 10, groups: 1, max_group: 10 });
  });
});
