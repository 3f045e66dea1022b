import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PcapflowError } from '@pcapflow/core';
import { RUNTIME_VERSION } from '@pcapflow/core/runtime';
import { EXIT } from '../exit-codes';

/**
 * Scaffold a plugin package: plain CommonJS JavaScript (no build step), its declaration, and a
 * test on node's built-in runner that runs it in a topology through the testkit.
 */
export function initPluginCommand(name: string, o: { dir?: string }): number {
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) {
    throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `"${name}" is not a valid npm package name`, { hint: 'use lower case, digits and dashes, e.g. pcapflow-plugin-rssi or @me/pcapflow-rssi' });
  }
  const dir = path.resolve(o.dir ?? name.replace(/^@[^/]+\//, ''));
  if (existsSync(dir)) throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `${dir} already exists`, { hint: 'choose another --dir' });
  mkdirSync(path.join(dir, 'test'), { recursive: true });
  const runtimeRange = `^${RUNTIME_VERSION}`;
  const files: Record<string, string> = {
    'package.json': JSON.stringify({
      name, version: '0.1.0', description: 'A pcapflow plugin', main: 'index.js', license: 'Apache-2.0',
      engines: { node: '>=20' },
      keywords: ['pcapflow', 'pcapflow-plugin'],
      pcapflow: { plugin: true, runtime: runtimeRange },
      scripts: { test: 'node --test test/' },
      peerDependencies: { '@pcapflow/core': runtimeRange, zod: '^4.0.0' },
    }, null, 2) + '\n',
    'index.js': `'use strict';
// ${name}: a pcapflow plugin. It adds a field to every record it receives and passes it on.
const { definePlugin, PoisonError } = require('@pcapflow/core');
const { z } = require('zod');

module.exports = definePlugin({
  name: ${JSON.stringify(name)},
  version: require('./package.json').version,
  summary: 'Tags every record with a label',
  config: z.strictObject({
    label: z.string().default('seen').describe('value written into the \`tag\` field').meta({ examples: ['kitchen'] }),
  }),
  inputs: [{ name: 'in', description: 'any records' }],
  outputs: [{ name: 'out', description: 'the same records with \`tag\` set' }],
  create(ctx, config) {
    const tagged = ctx.counter('tagged');
    return {
      async handle(batch) {
        for (const record of batch.records) {
          if (record === null || typeof record !== 'object') throw new PoisonError('record is not an object');
          ctx.emit('out', { ...record, tag: config.label });
          tagged.inc();
        }
      },
      health() { return { ok: true, metrics: { tagged: tagged.value } }; },
    };
  },
});
`,
    'test/plugin.test.js': `'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startTestPipeline } = require('@pcapflow/core/testkit');

test('tags every record it receives', async () => {
  const pipeline = await startTestPipeline({
    baseDir: path.join(__dirname, '..'),
    yaml: \`
streams:
  IN: { subjects: ["in.>"] }
  OUT: { subjects: ["out.>"] }
instances:
  tagger:
    use: ./
    config: { label: kitchen }
    inputs: { in: "in.>" }
    outputs: { out: "out.{key}" }
\`,
  });
  const out = pipeline.collect('out.>');
  await pipeline.feed('in.x', [{ key: 'a', n: 1 }, { key: 'b', n: 2 }]);
  const records = await out.waitFor(2);
  assert.deepStrictEqual(records.map((r) => [r.$subject, r.n, r.tag]), [['out.a', 1, 'kitchen'], ['out.b', 2, 'kitchen']]);
  await pipeline.stop();
});
`,
    'README.md': `# ${name}\n\nA pcapflow plugin. Use it in a topology:\n\n\`\`\`yaml\ninstances:\n  tagger:\n    use: "${name}"\n    version: "^0.1.0"\n    config: { label: kitchen }\n    inputs: { in: "wifi.frames.>" }\n    outputs: { out: "tagged.{sa}" }\n\`\`\`\n\nTest: \`npm test\`. Describe: \`pcapflow plugins --describe ${name}\`.\n`,
  };
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  process.stdout.write(`created ${dir}\n  npm test        runs its test (needs @pcapflow/core and zod installed where node can find them)\n  use: "${path.relative(process.cwd(), dir) || '.'}" in a topology to try it\n`);
  return EXIT.OK;
}
