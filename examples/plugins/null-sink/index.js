// The cheapest possible consumer: counts records and drops them.
const { definePlugin } = require('@pcapflow/core');
const { z } = require('zod');

module.exports = definePlugin({
  name: 'pcapflow-example-null-sink',
  version: require('./package.json').version,
  summary: 'Counts the records it receives and drops them',
  config: z.strictObject({}),
  inputs: [{ name: 'in', description: 'any records' }],
  outputs: [],
  create(ctx) {
    const records = ctx.counter('records');
    return {
      handle(batch) { records.inc(batch.records.length); },
      health() { return { ok: true, metrics: { records: records.value } }; },
    };
  },
});
