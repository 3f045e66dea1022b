import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const BIN = path.join(REPO, 'apps/cli/bin/pcapflow.js');
export const EXAMPLES = path.join(REPO, 'examples');

export function cli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, encoding: 'utf8', input: opts.input, env: { ...process.env, ...opts.env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], opts: { cwd?: string } = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return Object.assign(child, { output: () => out });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Write a topology into a temp dir next to copies of nothing: local plugins are referenced by absolute path. */
export function writeTopology(yaml: string, name = 'topology.yaml'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-cli-'));
  const file = path.join(dir, name);
  writeFileSync(file, yaml.replace(/\.\/plugins\//g, `${EXAMPLES}/plugins/`));
  return file;
}
