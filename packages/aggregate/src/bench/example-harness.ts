/**
 * Shared set-up of the examples/wifi-probes.yaml runs: the end-to-end bench (aggregate-bench.ts) and
 * the oracle test (test/oracle.test.ts) both generate a capture, start a nats-server and PostgreSQL,
 * and run the example topology here. Not part of the plugin's public surface (not exported by index).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';

/** Repository root (this file is packages/aggregate/{src,dist}/bench/…). */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const EXAMPLE_FILE = path.join(REPO_ROOT, 'examples/wifi-probes.yaml');
/** The plugin packages the example uses. */
export const EXAMPLE_PLUGINS = ['@pcapflow/probe', '@pcapflow/aggregate', '@pcapflow/sink-postgres'] as const;
/** The instances of the example that aggregate (the ones a kill test stops). */
export const AGGREGATORS = ['daily_stats', 'device_stats'] as const;

/** The capture corpus (never copied into the repository). */
export function corpusDir(): string {
  return process.env.PCAPFLOW_CORPUS ?? path.resolve(REPO_ROOT, '../shared/captures');
}

/** Generate a radiotap capture of `frames` frames with the shared generator (deterministic for a seed). */
export function generateCapture(file: string, frames: number, seed = 3): void {
  const maker = process.env.PCAPFLOW_MAKE_PCAP ?? path.resolve(corpusDir(), '../tools/make-bench-pcap.mjs');
  if (!existsSync(maker)) throw new Error(`make-bench-pcap.mjs not found at ${maker} (set PCAPFLOW_CORPUS or PCAPFLOW_MAKE_PCAP)`);
  const r = spawnSync(process.execPath, [maker, '--out', file, '--packets', String(frames), '--seed', String(seed), '--devices', '1000', '--days', '7'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-bench-pcap failed (${r.status}): ${r.stderr}`);
}

// ---------------------------------------------------------------- PostgreSQL through psql (independent of the sink)

export function psql(url: string, sql: string, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-c', sql], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql failed (${code}): ${err.trim()}`))));
    child.stdin.end(stdin ?? '');
  });
}

/** Rows of a query as JSON objects (PostgreSQL's own JSON rendering: numbers, strings, arrays). */
export async function queryRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const out = await psql(url, `SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`);
  return JSON.parse(out.trim() || '[]') as Record<string, unknown>[];
}

/** A new database on the server of `serverUrl` (…/postgres); returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await psql(serverUrl, `CREATE DATABASE ${name}`);
  return serverUrl.replace(/\/[^/]*$/, `/${name}`);
}

// ---------------------------------------------------------------- servers

export interface PostgresLike { url: string; stop(): Promise<void> }

export interface Servers {
  readonly natsUrl: string;
  /** URL of the server's `postgres` database. */
  readonly pgUrl: string;
  /** A fresh nats-server (the example's stream, consumer and bucket names are fixed). */
  restartNats(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a private nats-server and PostgreSQL. `startPostgres` comes from @pcapflow/test-servers
 * (a TypeScript-source test package: jest maps it, the bench loads it through swc).
 */
export async function startServers(startPostgres: () => Promise<PostgresLike>): Promise<Servers> {
  const [first, pg] = await Promise.all([startNatsServer(), startPostgres()]);
  let nats: NatsServerHandle = first;
  return {
    get natsUrl() { return nats.url; },
    get pgUrl() { return pg.url; },
    async restartNats() { await nats.stop(); nats = await startNatsServer(); },
    async stop() { await Promise.all([nats.stop(), pg.stop()]); },
  };
}

// ---------------------------------------------------------------- the topology

export interface ExampleOptions {
  /** Replace a plugin name in `use:` (e.g. by a local wrapper package directory). */
  use?: Partial<Record<(typeof EXAMPLE_PLUGINS)[number], string>>;
  /** Place every instance on the host this returns (instances then run only in a pipeline started for that host). */
  hostOf?: (instance: string) => string;
  /** Consumer settings added to every consuming instance (e.g. a short ack_wait for kill tests). */
  consumer?: { ack_wait?: string; max_ack_pending?: number };
}

/** examples/wifi-probes.yaml, adapted: plugin locations, placement on hosts, consumer settings. */
export function exampleTopology(o: ExampleOptions = {}): string {
  let yaml = readFileSync(EXAMPLE_FILE, 'utf8');
  for (const name of EXAMPLE_PLUGINS) {
    const to = o.use?.[name];
    if (to) yaml = yaml.split(`use: "${name}"`).join(`use: ${JSON.stringify(to)}`);
  }
  const extra = (name: string, body: string) => {
    const lines: string[] = [];
    if (o.hostOf) lines.push(`    hosts: [${JSON.stringify(o.hostOf(name))}]`);
    if (o.consumer && /\n {4}inputs:/.test(body)) lines.push(`    consumer: ${JSON.stringify(o.consumer)}`);
    return lines.length ? lines.join('\n') + '\n' : '';
  };
  // Instance blocks: "  name:\n    use: …\n" up to the next instance or the end.
  return yaml.replace(/^ {2}([A-Za-z_][\w-]*):\n((?: {4}.*\n|\s*\n|\s*#.*\n)*)/gm, (block, name: string, body: string) =>
    (/^ {4}use: /m.test(body) ? `  ${name}:\n${extra(name, body)}${body}` : block));
}

// ---------------------------------------------------------------- running it

export interface RunOptions {
  natsUrl: string;
  /** Capture file or directory (the example's $CAPTURE). */
  capture: string;
  /** Database URL for the sinks (the example's $PG_URL). */
  pgUrl: string;
  /** Topology text from exampleTopology(); with kills, placed with `hostOf: killPlacement`. */
  yaml: string;
  /**
   * Kill the aggregators this many times mid-run: their connection is closed without draining
   * (in-flight messages stay unacked, a commit may be cut in half — what kill -9 does to the
   * process), then they are started again.
   */
  kills?: number;
  /** Frames expected (spaces the kills over the run). */
  expectedFrames?: number;
  /** Progress notes (kills, restarts, drain), with ms since the start. */
  onEvent?: (ms: number, what: string) => void;
  /** Called every 50 ms with the frames the probe has published and daily_stats (which reads every frame) has aggregated so far. */
  onTick?: (progress: { published: number; aggregated: number }) => void;
  timeoutMs?: number;
}

export interface RunResult {
  frames: number;
  /** Wall time from start to every queue drained (ms): start-up and idle detection included. */
  ms: number;
  /** From the probe starting to read to the last input handled anywhere (ms): the pipeline at work. */
  activeMs: number;
  /** Wall time until the probe had published and got acks for every frame (ms). */
  sourceMs: number;
  kills: number;
  /** Rows the two sinks wrote (upserts, incl. repeated keys). */
  sinkRows: number;
  /** Metrics of the actors at the end, by actor name (of the last incarnation of killed ones). */
  metrics: Record<string, Record<string, number>>;
}

/** Placement for kill runs: aggregators on host "agg", everything else on "io". */
export const killPlacement = (instance: string): string => ((AGGREGATORS as readonly string[]).includes(instance) ? 'agg' : 'io');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function metric(p: TestPipeline, instance: string, name: string): number {
  return p.runtime.actors.filter((a) => a.name === instance || a.name.startsWith(`${instance}[`)).reduce((s, a) => s + (a.health().metrics[name] ?? 0), 0);
}

/** Run the example topology until every queue is drained. */
export async function runExample(o: RunOptions): Promise<RunResult> {
  const env = { ...process.env, CAPTURE: o.capture, PG_URL: o.pgUrl };
  const start = (host?: string) => startTestPipeline({ yaml: o.yaml, natsUrl: o.natsUrl, env, host });
  const kills = o.kills ?? 0;
  const t0 = performance.now();
  const io = await start(kills ? 'io' : undefined);
  let agg: TestPipeline | undefined = kills ? await start('agg') : undefined;
  const probe = io.runtime.actors.find((a) => a.name === 'probe');
  if (!probe) throw new Error('the topology has no "probe" instance on this host');
  let sourceMs = 0;
  let done = 0;
  /** frames aggregated by killed incarnations of daily_stats */
  let aggregatedBefore = 0;
  const ticker = setInterval(() => {
    if (!sourceMs && probe.finished) sourceMs = performance.now() - t0;
    o.onTick?.({ published: probe.metrics().emitted_frames ?? 0, aggregated: metric(agg ?? io, 'daily_stats', 'records_in') + aggregatedBefore });
  }, 50);
  const note = (what: string) => o.onEvent?.(performance.now() - t0, what);
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 600_000);
    const expected = o.expectedFrames ?? 0;
    for (let k = 0; k < kills; k++) {
      // Each incarnation handles about 1/(kills+1) of the frames (daily_stats reads every frame), then dies.
      const share = expected / (kills + 1);
      while (metric(agg!, 'daily_stats', 'records_in') < share && Date.now() < deadline) {
        if (probe.finished && (await agg!.runtime.idle()) && (await io.runtime.idle())) break;
        await sleep(20);
      }
      if (metric(agg!, 'daily_stats', 'records_in') < share) break; // finished before this kill was due
      aggregatedBefore += metric(agg!, 'daily_stats', 'records_in');
      await (agg!.transport as unknown as { nc: { close(): Promise<void> } }).nc.close();
      void agg!.runtime.stop().catch(() => undefined);
      done++;
      note(`kill ${done} (probe at ${probe.metrics().emitted_frames ?? 0} frames)`);
      agg = await start('agg');
      note(`aggregators restarted`);
    }
    note('draining');
    // Idle in both pipelines at once: a late redelivery to the aggregators makes the io side busy again.
    const remaining = () => Math.max(1000, deadline - Date.now());
    for (let round = 0; round < (agg ? 2 : 1); round++) {
      await io.drain(remaining());
      if (agg) await agg.drain(remaining());
    }
    const ms = performance.now() - t0;
    note('drained');
    if (!sourceMs) sourceMs = ms;
    const sinkRows = metric(io, 'pg_daily', 'rows_written') + metric(io, 'pg_devices', 'rows_written');
    const metrics: RunResult['metrics'] = {};
    for (const p of agg ? [io, agg] : [io]) for (const a of p.runtime.actors) metrics[a.name] = a.health().metrics;
    const activeMs = spanMs(activityOf(agg ? [io, agg] : [io]));
    return { frames: probe.metrics().emitted_frames ?? 0, ms, activeMs, sourceMs, kills: done, sinkRows, metrics };
  } finally {
    clearInterval(ticker);
    await agg?.stop().catch(() => undefined);
    await io.stop().catch(() => undefined);
  }
}

/** Epoch ms from the first source's start to the last input handled (or source finished) in these pipelines. */
export function activityOf(pipelines: readonly TestPipeline[]): { since: number; until: number } {
  let since = Infinity, until = 0;
  for (const p of pipelines) {
    for (const a of p.runtime.actors) {
      if (a.sourceStartedAt) since = Math.min(since, a.sourceStartedAt);
      until = Math.max(until, a.lastDoneAt);
    }
  }
  return { since, until };
}

/** Milliseconds of an activity span (0 when no source ran). */
export function spanMs({ since, until }: { since: number; until: number }): number {
  return Number.isFinite(since) ? until - since : 0;
}

/** Run one instance of a placed topology (hostOf: name → name) over what its input streams hold. */
export async function runInstanceAlone(o: { natsUrl: string; yaml: string; instance: string; capture: string; pgUrl: string; timeoutMs?: number }): Promise<{ ms: number; recordsIn: number; emitted: number }> {
  const t0 = performance.now();
  const p = await startTestPipeline({ yaml: o.yaml, natsUrl: o.natsUrl, env: { ...process.env, CAPTURE: o.capture, PG_URL: o.pgUrl }, host: o.instance });
  try {
    await p.drain(o.timeoutMs ?? 1_800_000);
    const ms = performance.now() - t0;
    return { ms, recordsIn: metric(p, o.instance, 'records_in'), emitted: metric(p, o.instance, 'emitted') };
  } finally {
    await p.stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- CPU by process (Linux /proc)

/** CPU seconds used so far by this process and its descendants, grouped by command name, and the machine's steal time. */
export interface CpuSnapshot { byCommand: Map<string, number>; steal: number; total: number }

/**
 * utime+stime of this process and each live descendant (the servers and host processes the bench
 * started) plus cutime+cstime (their reaped children: exited PostgreSQL backends, finished child
 * processes), grouped by command name. A delta of two snapshots is what each kind of process used
 * in between. Empty off Linux.
 */
export function cpuSnapshot(): CpuSnapshot {
  const hz = 100; // USER_HZ: 100 on Linux for every architecture Node runs on
  const byCommand = new Map<string, number>();
  let steal = 0;
  let total = 0;
  try {
    // cpu  user nice system idle iowait irq softirq steal …
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    steal = (cpu[7] ?? 0) / hz;
    total = cpu.reduce((s, x) => s + x, 0) / hz;
    const procs: Array<{ pid: number; ppid: number; name: string; seconds: number }> = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      // fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
      const seconds = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / hz;
      procs.push({ pid: Number(pid), ppid: Number(f[1]), name: comm.startsWith('postgres') ? 'postgres' : comm, seconds });
    }
    // Only this process and its descendants (the servers and host processes it started; an ended
    // child's time is in its parent's cutime/cstime): other work on a shared machine is not the run's.
    const children = new Map<number, number[]>();
    for (const p of procs) {
      const list = children.get(p.ppid);
      if (list) list.push(p.pid);
      else children.set(p.ppid, [p.pid]);
    }
    const mine = new Set<number>([process.pid]);
    for (const pid of mine) for (const c of children.get(pid) ?? []) mine.add(c);
    for (const p of procs) if (mine.has(p.pid)) byCommand.set(p.name, (byCommand.get(p.name) ?? 0) + p.seconds);
  } catch {
    // not Linux: no figures
  }
  return { byCommand, steal, total };
}

/** CPU seconds per command between two snapshots (only the ones that used at least 0.05 s), and steal. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { byCommand: Array<[string, number]>; steal: number; wallCpu: number } {
  const out: Array<[string, number]> = [];
  for (const [k, v] of b.byCommand) {
    const d = v - (a.byCommand.get(k) ?? 0);
    if (d >= 0.05) out.push([k, d]);
  }
  out.sort((x, y) => y[1] - x[1]);
  return { byCommand: out, steal: b.steal - a.steal, wallCpu: b.total - a.total };
}
