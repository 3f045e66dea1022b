// A source plugin in plain JavaScript: emits `count` records spread over `keys` keys, in order.
const { definePlugin } = require('@pcapflow/core');
const { z } = require('zod');

module.exports = definePlugin({
  name: 'pcapflow-example-generator',
  version: require('./package.json').version,
  summary: 'Emits synthetic records {key, seq, value} (for demos, tests and benchmarks)',
  config: z.strictObject({
    count: z.number().int().nonnegative().default(1000).describe('records to emit'),
    keys: z.number().int().positive().default(10).describe('distinct keys (key-0 … key-N)'),
    fail_every: z.number().int().positive().optional().describe('mark every Nth record as poison (tests dead-lettering)'),
  }),
  inputs: [],
  outputs: [{ name: 'out', description: 'generated records', record: z.object({ key: z.string(), seq: z.number(), value: z.number() }) }],
  create(ctx, config) {
    return {
      async start() {
        for (let seq = 0; seq < config.count; seq++) {
          const record = { key: `key-${seq % config.keys}`, seq, value: seq % 7 };
          if (config.fail_every && seq % config.fail_every === config.fail_every - 1) record.poison = true;
          ctx.emit('out', record);
          // a getter call per record costs more than the record: check for a stop once per 1024
          if ((seq & 1023) === 1023) {
            if (ctx.signal.aborted) break;
            await ctx.ready();
          }
        }
        await ctx.flush();
      },
    };
  },
});
