// A message an aggregator applied and committed, but never acked before it died, may reach the
// next aggregator as a *first* delivery: nats-server can hand a message out again with a delivery
// count of 1 when the pull it went to lost its subscriber (seen in the kill -9 test in state.test.ts:
// one message counted twice, its second copy delivered with deliveryCount 1). The applied
// sequences read back from KV must recognise it whatever its delivery count.
import type { InputBatch, KvStore } from '@pcapflow/core';
import { testActorContext } from '@pcapflow/core/testkit';
import { AggregateActor, configSchema, type AggregateConfig } from '../src';
import { MemKv } from '../src/bench/mem-kv';

const config = configSchema.parse({
  op: 'aggregate', table: `redelivery${process.pid}`, group_by: ['key'], aggregates: { n: 'COUNT(*)', total: 'SUM(value)' },
  query: false,
}) as AggregateConfig;

const batch = (seq: number, deliveryCount: number): InputBatch => ({
  input: 'in', subject: 'in.x', stream: 'IN', seq, deliveryCount,
  records: [{ key: 'a', value: seq }, { key: 'b', value: seq }],
});

async function actorOn(kv: KvStore) {
  const { ctx, count, emitted } = testActorContext({ instance: 'stats', outputs: ['changes'], overrides: { kv: async () => kv } });
  const actor = new AggregateActor(ctx, config);
  await actor.start();
  const rows = () => Object.fromEntries(actor['agg'].rows().map((r: { row: Record<string, unknown> }) => [r.row.key, [r.row.n, r.row.total]]));
  return { actor, count, emitted, rows };
}

describe('a message handed out again as a first delivery', () => {
  test('handle: the next aggregator does not apply a committed message again (deliveryCount 1)', async () => {
    const kv = new MemKv();
    const first = await actorOn(kv);
    await first.actor.handle(batch(1, 1));
    await first.actor.handle(batch(2, 1));
    expect(first.rows()).toEqual({ a: [2, 3], b: [2, 3] });
    // it dies before acking 2: the next one gets 2 again, as a first delivery, then 3
    await first.actor.stop();
    const next = await actorOn(kv);
    await next.actor.handle(batch(2, 1));
    await next.actor.handle(batch(3, 1));
    expect(next.rows()).toEqual({ a: [3, 6], b: [3, 6] });
    expect(next.count('duplicates_skipped')).toBe(1);
    await next.actor.stop();
  });

  test('handleMany: a group of first deliveries skips the applied ones (and a message twice in the group)', async () => {
    const kv = new MemKv();
    const first = await actorOn(kv);
    await first.actor.handleMany([batch(1, 1), batch(2, 1)]);
    await first.actor.stop();
    const next = await actorOn(kv);
    await next.actor.handleMany([batch(2, 1), batch(3, 1), batch(3, 1), batch(4, 1)]);
    expect(next.rows()).toEqual({ a: [4, 10], b: [4, 10] });
    expect(next.count('duplicates_skipped')).toBe(2);
    // what it committed says the same: a third aggregator reads it back and skips all four
    await next.actor.stop();
    const third = await actorOn(kv);
    expect(third.rows()).toEqual({ a: [4, 10], b: [4, 10] });
    await third.actor.handleMany([batch(1, 1), batch(2, 1), batch(3, 1), batch(4, 1)]);
    expect(third.rows()).toEqual({ a: [4, 10], b: [4, 10] });
    expect(third.count('duplicates_skipped')).toBe(4);
    await third.actor.stop();
  });
});
