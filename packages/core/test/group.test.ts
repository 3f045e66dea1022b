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

async function run(pre: string, failFirstGroup: boolean) {
  const yaml = `
streams:
  ${pre.toUpperCase()}_IN: { subjects: ["${pre}.in.>"], storage: memory }
  ${pre.toUpperCase()}_OUT: { subjects: ["${pre}.out.>"], storage: memory }
instances:
  g:
    use: ./grouper
    config: { fail_first_group: ${failFirstGroup}, wait_ms: 20 }
    inputs: { in: "${pre}.in.>" }
    outputs: { out: "${pre}.out.x" }
    consumer: { backoff: [10] }
`;
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
