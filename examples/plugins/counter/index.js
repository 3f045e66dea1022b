// A stateful consumer: keeps {count, sum, last_seq} per key in a KV bucket and emits each change.
// State remembers the stream sequences it has applied, so a redelivered message is not counted twice
// (a redelivery can arrive after newer messages, so "seq <= last" would wrongly skip it).
const { definePlugin, encodeValue, decodeValue, PoisonError, RetryableError } = require('@pcapflow/core');
const { z } = require('zod');

module.exports = definePlugin({
  name: 'pcapflow-example-counter',
  version: require('./package.json').version,
  summary: 'Counts records per key into a KV table and emits the running totals',
  config: z.strictObject({
    bucket: z.string().default('example_counts').describe('KV bucket holding the totals'),
    delay_ms: z.number().int().nonnegative().default(0).describe('artificial work per message (tests slow consumers)'),
    fail_first_deliveries: z.number().int().nonnegative().default(0).describe('throw a retryable error on the first N deliveries of each message'),
  }),
  inputs: [{ name: 'in', description: 'records with a string `key`' }],
  outputs: [{ name: 'totals', description: 'running totals per key after each change' }],
  create(ctx, config) {
    let kv;
    const seen = ctx.counter('records');
    return {
      async start() { kv = await ctx.kv(config.bucket); },
      async handle(batch) {
        if (batch.deliveryCount <= config.fail_first_deliveries) throw new RetryableError(`simulated failure on delivery ${batch.deliveryCount}`);
        if (config.delay_ms) await new Promise((r) => setTimeout(r, config.delay_ms));
        const poison = batch.records.filter((r) => r.poison);
        if (poison.length) await ctx.deadLetter(poison, new PoisonError('record marked as poison'));
        const byKey = new Map();
        for (const r of batch.records) {
          if (r.poison) continue;
          if (typeof r.key !== 'string') throw new PoisonError('record has no string key');
          const list = byKey.get(r.key) ?? [];
          list.push(r);
          byKey.set(r.key, list);
        }
        for (const [key, list] of byKey) {
          const entry = await kv.get(key);
          const state = entry ? decodeValue(entry.value) : { count: 0, sum: 0, last_seq: 0, applied: [] };
          if (state.applied.includes(batch.seq)) continue; // already applied (redelivery)
          for (const r of list) { state.count++; state.sum += r.value ?? 0; state.last_seq = r.seq; }
          state.applied.push(batch.seq);
          if (state.applied.length > 1024) state.applied.shift();
          await kv.put(key, encodeValue(state));
          seen.inc(list.length);
          ctx.emit('totals', { key, count: state.count, sum: state.sum, last_seq: state.last_seq });
        }
      },
      health() { return { ok: true, metrics: { records: seen.value } }; },
    };
  },
});
