import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startNatsServer, type NatsServerHandle } from '@pcapflow/core/testkit';
import { JetStreamTransport } from '@pcapflow/core/runtime';
import { decodeValue } from '@pcapflow/core';
import { cli, cliAsync, exited, REPO, writeTopology } from './cli-helpers';
import type { KvStore } from '@pcapflow/core';

/** Sum of counts over the distinct keys of a bucket (a key updated mid-listing is listed again). */
async function totalCount(kv: KvStore): Promise<number> {
  const keys = new Set<string>();
  for await (const k of kv.keys()) keys.add(k);
  let total = 0;
  for (const k of keys) { const e = await kv.get(k); if (e) total += decodeValue<{ count: number }>(e.value).count; }
  return total;
}

async function waitForTotal(kv: KvStore, expected: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let total = 0;
  while (Date.now() < deadline) {
    total = await totalCount(kv);
    if (total >= expected) return total;
    await new Promise((r) => setTimeout(r, 200));
  }
  return total;
}

const GOOD = `
name: demo
streams:
  EVENTS: { subjects: ["demo.events.>"] }
instances:
  generator:
    use: ./plugins/generator
    config: { count: 100, keys: 4 }
    outputs:
      out: "demo.events.p{key%4}"
  counter:
    use: ./plugins/counter
    version: "^1.0.0"
    inputs:
      in: "demo.events.>"
`;

describe('pcapflow CLI', () => {
  test('--help and usage errors use the documented exit codes', () => {
    expect(cli(['--help']).code).toBe(0);
    expect(cli(['run', '--help']).stdout).toContain('--host <name>');
    expect(cli(['no-such-command']).code).toBe(2);
    expect(cli(['validate']).code).toBe(2);
  });

  test('validate: a valid topology exits 0', () => {
    const r = cli(['validate', writeTopology(GOOD)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(2 instances/);
  });

  test('validate: a bad plugin config names file, line, column and path', () => {
    const file = writeTopology(GOOD.replace('config: { count: 100, keys: 4 }', 'config:\n      count: "many"\n      keyz: 4'));
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    // Line 9 holds `count: "many"` (its value at column 14), line 10 the unknown key.
    expect(r.stderr).toContain(`${file}:9:14: instances.generator.config.count:`);
    expect(r.stderr).toMatch(/expected number/);
    expect(r.stderr).toContain(`${file}:10:7: instances.generator.config.keyz: unknown key "keyz"`);
  });

  test('validate: unknown top-level and instance keys are errors with their lines', () => {
    const file = writeTopology(GOOD.replace('name: demo', 'name: demo\nstreamz: {}').replace('    version: "^1.0.0"', '    verison: "^1.0.0"'));
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3:1: streamz: unknown key "streamz"`);
    expect(r.stderr).toContain(`${file}:14:5: instances.counter.verison: unknown key "verison"`);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:5: instances.counter.verison: unknown key`));
  });

  test('validate: a plugin version the topology does not accept is refused with installed and asked versions', () => {
    const file = writeTopology(GOOD.replace('version: "^1.0.0"', 'version: "^2.0.0"'));
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the topology asks for pcapflow-example-counter@^2.0.0');
    expect(r.stderr).toContain('but 1.0.0 is installed');
    expect(r.stderr).toMatch(/:13:14: instances\.counter\.version/);
  });

  test('validate: an unset ${ENV} fails clearly; a set one is substituted', () => {
    const yaml = GOOD.replace('config: { count: 100, keys: 4 }', 'config:\n      count: ${COUNT}\n      keys: "${KEYS:-4}"');
    const unset = cli(['validate', writeTopology(yaml)], { env: { COUNT: '' } });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/:9:14: \(env\): environment variable COUNT is not set/);
    // A plain `${COUNT}` takes its YAML type (a number); a quoted one stays a string, which the schema rejects.
    const set = cli(['validate', writeTopology(yaml)], { env: { COUNT: '7' } });
    expect(set.code).toBe(1);
    expect(set.stderr).not.toMatch(/config\.count/);
    expect(set.stderr).toMatch(/:10:13: instances\.generator\.config\.keys: .*expected number/);
    const ok = cli(['validate', writeTopology(yaml.replace('"${KEYS:-4}"', '${KEYS:-4}'))], { env: { COUNT: '7' } });
    expect(ok.code).toBe(0);
  });

  test('validate: YAML syntax errors point at the line', () => {
    const r = cli(['validate', writeTopology('instances:\n  a: [unclosed\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/topology\.yaml:\d+:\d+: \(yaml\)/);
  });

  test('plugins lists installed plugins; --describe prints docs generated from the declaration', () => {
    const list = cli(['plugins', '--json']);
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as Array<{ name: string }>).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@pcapflow/probe']));
    const d = cli(['plugins', '--describe', path.join(REPO, 'examples/plugins/counter')]);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('# pcapflow-example-counter 1.0.0');
    expect(d.stdout).toContain('`delay_ms` (integer');
    expect(d.stdout).toContain('artificial work per message');
  });

  test('schema prints a JSON Schema that rejects unknown keys', () => {
    const r = cli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['transport', 'streams', 'instances']));
  });

  test('graph prints the dataflow', () => {
    const r = cli(['graph', writeTopology(GOOD)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-> out: demo.events.p{key%4} => counter.in');
    expect(cli(['graph', writeTopology(GOOD), '--format', 'dot']).stdout).toContain('"generator" -> "counter"');
  });

  test('run on the embedded transport finishes a file-like job with --exit-when-done', () => {
    const r = cli(['run', writeTopology(GOOD), '--exit-when-done', '--log-level', 'info']);
    expect(r.code).toBe(0);
    const done = r.stderr.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
    expect(done.actors.counter.records_in).toBe(100);
  });

  test('init-plugin scaffolds a package whose own test passes', () => {
    const dir = mkdtempSync(path.join(REPO, 'apps/cli/test/.scaffold-'));
    try {
      const target = path.join(dir, 'pcapflow-plugin-tagger');
      const r = cli(['init-plugin', 'pcapflow-plugin-tagger', '--dir', target]);
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')).pcapflow).toEqual({ plugin: true, runtime: '^0.1.0' });
      const t = spawnSync(process.execPath, ['--test', 'test/'], { cwd: target, encoding: 'utf8' });
      expect(t.stdout + t.stderr).toMatch(/# pass 1/);
      expect(t.status).toBe(0);
      expect(cli(['init-plugin', 'Bad Name']).code).toBe(1);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('pcapflow run on NATS', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => { nats = await startNatsServer(); });
  afterAll(async () => { await nats?.stop(); });

  const split = (url: string, count: number) => `
transport: { nats: { servers: "${url}" } }
hosts:
  sensor: { labels: [capture] }
  analysis: { labels: [] }
streams:
  EVENTS: { subjects: ["split.events.>"] }
instances:
  generator:
    use: ./plugins/generator
    labels: [capture]
    config: { count: ${count}, keys: 8 }
    outputs: { out: "split.events.p{key%4}" }
  counter:
    use: ./plugins/counter
    hosts: [analysis]
    config: { bucket: split_counts }
    inputs: { in: "split.events.>" }
`;

  test('two processes with different --host values form one pipeline', async () => {
    const file = writeTopology(split(nats.url, 2000));
    const analysis = cliAsync(['run', file, '--host', 'analysis']);
    // The sensor process runs only the generator, the analysis process only the counter.
    const sensor = cli(['run', file, '--host', 'sensor', '--exit-when-done']);
    expect(sensor.code).toBe(0);
    const sensorDone = sensor.stderr.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
    expect(Object.keys(sensorDone.actors)).toEqual(['generator']);
    const t = await JetStreamTransport.connect({ servers: [nats.url] });
    const kv = await t.kv('split_counts');
    expect(await waitForTotal(kv, 2000, 30_000)).toBe(2000);
    if (process.platform === 'linux') {
      // run started itself again with a larger young generation (bin/pcapflow.js); SIGTERM to the
      // launcher reaches it and its exit code comes back
      const kids = readFileSync(`/proc/${analysis.pid}/task/${analysis.pid}/children`, 'utf8').trim().split(/\s+/);
      expect(kids).toHaveLength(1);
      expect(readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-semi-space-size=64', 'run']));
    }
    analysis.kill('SIGTERM');
    expect(await exited(analysis)).toBe(0);
    expect(analysis.output()).toContain('"actors":{"counter"');
    await t.close();
  });

  test('SIGTERM drains in-flight work, acks it and exits 0; a restart resumes without loss', async () => {
    const yaml = split(nats.url, 3000).replace(/split\./g, 'drain.').replace('split_counts', 'drain_counts').replace('EVENTS:', 'DRAIN_EVENTS:').replace('bucket: drain_counts', 'bucket: drain_counts, delay_ms: 20')
      .replace('inputs: { in: "drain.events.>" }', 'inputs: { in: "drain.events.>" }\n    consumer: { ack_wait: 60s }')
      .replace('outputs: { out: "drain.events.p{key%4}" }', 'outputs: { out: { subject: "drain.events.p{key%4}", batch: 10 } }');
    const file = writeTopology(yaml);
    const sensor = cli(['run', file, '--host', 'sensor', '--exit-when-done']);
    expect(sensor.code).toBe(0);
    const first = cliAsync(['run', file, '--host', 'analysis']);
    const watch = await JetStreamTransport.connect({ servers: [nats.url] });
    const progress = await watch.kv('drain_counts');
    // Stop it mid-way: once some totals exist.
    expect(await waitForTotal(progress, 1, 30_000)).toBeGreaterThan(0);
    await watch.close();
    first.kill('SIGTERM');
    expect(await exited(first)).toBe(0);
    const firstDone = first.output().trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
    expect(firstDone.actors.counter.handled).toBeGreaterThan(0);
    expect(firstDone.actors.counter.failed ?? 0).toBe(0);
    const t = await JetStreamTransport.connect({ servers: [nats.url] });
    const consumerAfterStop = await t.consumerState('DRAIN_EVENTS', 'counter_in');
    // Stopped mid-way: work remains, undelivered or handed back.
    expect(consumerAfterStop!.pending + consumerAfterStop!.ackPending).toBeGreaterThan(0);
    // Messages the first process had fetched were handled and acked before it exited, so the
    // successor finishes long before the 60 s ack_wait a stranded message would have to wait out.
    const startedSecond = Date.now();
    const second = cliAsync(['run', file, '--host', 'analysis']);
    const kv = await t.kv('drain_counts');
    const total = await waitForTotal(kv, 3000, 50_000);
    if (total !== 3000) console.log('DEBUG', total, await t.consumerState('DRAIN_EVENTS', 'counter_in'), second.output().slice(-1500), '\nFIRST', first.output().slice(-1500));
    // Once reached, the total must stay exact: nothing counted twice after the restart.
    await new Promise((r) => setTimeout(r, 500));
    expect(await totalCount(kv)).toBe(3000);
    expect(total).toBe(3000);
    expect(Date.now() - startedSecond).toBeLessThan(55_000);
    second.kill('SIGINT');
    expect(await exited(second)).toBe(0);
    await t.close();
  }, 120_000);
});

test('run on the embedded transport serves until a signal, then drains and exits 0', async () => {
  const run = cliAsync(['run', path.join(REPO, 'examples/demo.yaml')]);
  // its source is long finished by then: nothing but run itself keeps the process up
  await new Promise((r) => setTimeout(r, 3000));
  expect(run.exitCode).toBeNull();
  run.kill('SIGINT');
  expect(await exited(run)).toBe(0);
  const msgs = run.output().trim().split('\n').map((l) => JSON.parse(l).msg);
  expect(msgs).toEqual(expect.arrayContaining(['source finished', 'signal received; draining', 'done']));
  expect(msgs.filter((m) => m === 'signal received; draining')).toHaveLength(1);
}, 30_000);
