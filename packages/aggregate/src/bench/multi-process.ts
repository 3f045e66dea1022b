/**
 * The example topology run as several OS processes on one nats-server, as a deployment places
 * instances on hosts (`hosts:` in the topology, `pcapflow run --host NAME`): one child process per
 * host, driven over IPC by the bench. Run directly (by fork) this file is such a child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { startTestPipeline, type TestPipeline } from '@pcapflow/core/testkit';
import { activityOf, spanMs } from './example-harness';

type Metrics = Record<string, Record<string, number>>;

type Command =
  | { cmd: 'start'; yaml: string; natsUrl: string; host: string; env: Record<string, string> }
  | { cmd: 'drain'; timeoutMs: number }
  | { cmd: 'stop' };

type Reply =
  | { ok: true; metrics?: Metrics; maxRss?: number; sourceDone?: boolean; cpuMs?: number; waits?: number; since?: number; until?: number; doneAt?: Record<string, number> }
  | { ok: false; error: string };

// ---------------------------------------------------------------- child side

/** When each actor handled its last input, or its source ended (epoch ms), by actor name. */
function doneAtOf(p: TestPipeline): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of p.runtime.actors) out[a.name] = a.lastDoneAt;
  return out;
}

function actorMetrics(p: TestPipeline): Metrics {
  const out: Metrics = {};
  for (const a of p.runtime.actors) out[a.name] = a.health().metrics;
  return out;
}

function child(): void {
  let p: TestPipeline | undefined;
  let cpuAtStart = process.cpuUsage();
  let waitsAtStart = process.resourceUsage().voluntaryContextSwitches;
  const reply = (r: Reply) => process.send!(r);
  process.on('message', (m: Command) => {
    void (async () => {
      try {
        if (m.cmd === 'start') {
          p = await startTestPipeline({ yaml: m.yaml, natsUrl: m.natsUrl, host: m.host, env: { ...process.env, ...m.env } });
          cpuAtStart = process.cpuUsage();
          waitsAtStart = process.resourceUsage().voluntaryContextSwitches;
          // CPU since this process began: loading modules, connecting, creating consumers (and whatever the pipeline did meanwhile)
          reply({ ok: true, cpuMs: (cpuAtStart.user + cpuAtStart.system) / 1000 });
        } else if (m.cmd === 'drain') {
          await p!.drain(m.timeoutMs);
          const cpu = process.cpuUsage(cpuAtStart);
          reply({ ok: true, metrics: actorMetrics(p!), cpuMs: (cpu.user + cpu.system) / 1000, waits: process.resourceUsage().voluntaryContextSwitches - waitsAtStart, ...activityOf([p!]), doneAt: doneAtOf(p!) });
        } else {
          const metrics = p ? actorMetrics(p) : {};
          await p?.stop();
          // ru_maxrss: the peak resident set of this process over its whole life (KiB on Linux)
          reply({ ok: true, metrics, maxRss: process.resourceUsage().maxRSS * 1024 });
          process.disconnect();
        }
      } catch (e) {
        reply({ ok: false, error: (e as Error).stack ?? String(e) });
      }
    })();
  });
}

// ---------------------------------------------------------------- parent side

class Host {
  private readonly proc: ChildProcess;
  private waiting: Array<(r: Reply) => void> = [];
  private exited: string | undefined;

  constructor(readonly name: string) {
    this.proc = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)] });
    this.proc.on('message', (r: Reply) => this.waiting.shift()?.(r));
    this.proc.on('exit', (code, signal) => {
      this.exited = `process of host ${name} exited (${code ?? signal})`;
      for (const w of this.waiting.splice(0)) w({ ok: false, error: this.exited });
    });
  }

  async call(c: Command): Promise<Extract<Reply, { ok: true }>> {
    if (this.exited) throw new Error(this.exited);
    const r = await new Promise<Reply>((resolve) => { this.waiting.push(resolve); this.proc.send(c); });
    if (!r.ok) throw new Error(`host ${this.name}: ${r.error}`);
    return r;
  }

  /** Waits up to `graceMs` for the process to end by itself (a `--cpu-prof` in BENCH_CHILD_NODE_ARGS writes its profile at exit), then kills it. */
  async kill(graceMs = 0): Promise<void> {
    if (!this.exited && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.proc.once('exit', () => { clearTimeout(timer); resolve(); });
      });
    }
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

export interface ProcessRunResult {
  frames: number;
  /** Wall time from the start command to every queue drained (ms): start-up and idle detection included. */
  ms: number;
  /** From the probe starting to read to the last input handled in any process (ms). */
  activeMs: number;
  /** Peak RSS of each host's process, by host. */
  maxRss: Record<string, number>;
  /** Metrics of every actor, by actor name (from the process that ran it). */
  metrics: Metrics;
  /** CPU time (user + system) of each host's process from its pipeline's start to the end of the run (ms), by host. */
  cpuMs: Record<string, number>;
  /** CPU time of each host's process until its pipeline had started (ms): module loading, connecting, consumers; by host. */
  bootCpuMs: Record<string, number>;
  /** CPU time of the driving process itself over the run (ms): IPC and drain rounds. */
  driverCpuMs: number;
  /**
   * When each actor handled its last input (or its source ended), ms after the probe's start, by actor:
   * the ones ending last run alone at the end, on fewer cores than the machine has.
   */
  doneAfterMs: Record<string, number>;
  /** Times each host's process went to sleep waiting (voluntary context switches; every wake-up costs CPU), by host. */
  waits: Record<string, number>;
}

const sum = (m: Metrics) => Object.values(m).reduce((s, x) => s + (x.handled ?? 0) + (x.emitted ?? 0), 0);

/**
 * Run a topology placed on `hosts` (its instances carry `hosts: [name]`), one child process per
 * host, until every queue in every process is drained: drain rounds over all hosts repeat until a
 * round in which nothing was handled or emitted anywhere (a host may feed a host drained before it).
 */
export async function runInProcesses(o: { natsUrl: string; yaml: string; hosts: string[]; sourceHost?: string; env: Record<string, string>; timeoutMs?: number }): Promise<ProcessRunResult> {
  const hosts = o.hosts.map((h) => new Host(h));
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
    const t0 = performance.now();
    const driverAtStart = process.cpuUsage();
    const bootCpuMs: Record<string, number> = {};
    const start = async (h: Host) => { bootCpuMs[h.name] = (await h.call({ cmd: 'start', yaml: o.yaml, natsUrl: o.natsUrl, host: h.name, env: o.env })).cpuMs ?? 0; };
    // As a deployment runs: the consuming hosts are up before the source's host starts reading, so
    // their start-up (loading modules, connecting, creating consumers) is not inside the measured run.
    await Promise.all(hosts.filter((h) => h.name !== o.sourceHost).map(start));
    await Promise.all(hosts.filter((h) => h.name === o.sourceHost).map(start));
    let last = -1;
    let ms = 0;
    let metrics: Metrics = {};
    let cpuMs: Record<string, number> = {};
    let waits: Record<string, number> = {};
    let since = Infinity, until = 0;
    const doneAt: Record<string, number> = {};
    for (;;) {
      metrics = {};
      const cpu: Record<string, number> = {};
      const w: Record<string, number> = {};
      for (const h of hosts) {
        const r = await h.call({ cmd: 'drain', timeoutMs: Math.max(1000, deadline - Date.now()) });
        Object.assign(metrics, r.metrics);
        cpu[h.name] = r.cpuMs ?? 0;
        w[h.name] = r.waits ?? 0;
        if (r.since !== undefined && Number.isFinite(r.since)) since = Math.min(since, r.since);
        until = Math.max(until, r.until ?? 0);
        Object.assign(doneAt, r.doneAt);
      }
      const now = sum(metrics);
      // nothing happened in this round: everything was drained when the previous one ended
      if (now === last) break;
      last = now;
      ms = performance.now() - t0;
      cpuMs = cpu;
      waits = w;
    }
    const driver = process.cpuUsage(driverAtStart);
    const maxRss: Record<string, number> = {};
    for (const h of hosts) {
      const r = await h.call({ cmd: 'stop' });
      maxRss[h.name] = r.maxRss ?? 0;
      Object.assign(metrics, r.metrics);
    }
    const doneAfterMs = Object.fromEntries(Object.entries(doneAt).map(([k, t]) => [k, Number.isFinite(since) && t > 0 ? t - since : 0]));
    return { frames: metrics.probe?.emitted_frames ?? 0, ms, activeMs: spanMs({ since, until }), doneAfterMs, maxRss, metrics, cpuMs, waits, bootCpuMs, driverCpuMs: (driver.user + driver.system) / 1000 };
  } finally {
    await Promise.all(hosts.map((h) => h.kill(process.env.BENCH_CHILD_NODE_ARGS ? 5000 : 0)));
  }
}

if (require.main === module) child();
