import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PcapflowError } from '../errors';

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** Stop the server (SIGTERM), keeping the store so `restart()` resumes it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function findNatsServer(): string {
  const candidates = [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].filter(Boolean) as string[];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  throw new PcapflowError('PCAPFLOW_DEPENDENCY_MISSING', 'nats-server is not installed', {
    hint: 'apt-get install nats-server (or set NATS_SERVER_BIN to its path)',
  });
}

async function waitForPort(port: number, proc: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new PcapflowError('PCAPFLOW_TRANSPORT', `nats-server exited with code ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new PcapflowError('PCAPFLOW_TRANSPORT', `nats-server did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * Start a private nats-server with JetStream on a free port and a temporary store directory.
 * Tests call this per suite and `stop()` it in afterAll.
 */
export async function startNatsServer(options: { port?: number; storeDir?: string } = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(path.join(os.tmpdir(), 'pcapflow-nats-'));
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-m', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    try { await waitForPort(port, proc); }
    catch (e) { proc.kill('SIGKILL'); throw new PcapflowError('PCAPFLOW_TRANSPORT', `${(e as Error).message}\n${stderr}`); }
  };
  await launch();
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    restart: async () => { await kill(); await launch(); },
    stop: async () => { await kill(); if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true }); },
  };
}
