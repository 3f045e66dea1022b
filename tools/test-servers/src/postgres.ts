import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { sleep, timedOutWaiting } from './wait';

/**
 * A throw-away PostgreSQL server for tests: Debian's PostgreSQL binaries (initdb + postgres) on a
 * free port, with a temporary data directory and unix-socket directory, trust authentication and
 * fsync off (test data is disposable; durability would only slow the suites down).
 *
 * initdb refuses to run as root, so when the tests run as root everything runs as the `postgres`
 * OS user (runuser) and the temporary directory is chowned to it.
 */
export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  host: string;
  /** The cluster's data directory (inside the temporary directory). */
  dataDir: string;
  /** Directory holding the unix socket (.s.PGSQL.<port>). */
  socketDir: string;
  /** Shut the server down (fast shutdown) but keep the data directory: for restart tests. */
  stopServer(): Promise<void>;
  /** Start the server again on the same data directory and port. */
  startServer(): Promise<void>;
  /** Shut the server down and remove the temporary directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** How long to wait for the server to accept connections (ms). Default 30000. */
  readyTimeoutMs?: number;
}

const PG_USER = 'postgres';

/** Find the directory with initdb/postgres: `pg_config --bindir`, then Debian's versioned paths. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PCAPFLOW_PG_BINDIR) candidates.push(process.env.PCAPFLOW_PG_BINDIR);
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && pgConfig.stdout.trim()) candidates.push(pgConfig.stdout.trim());
  // Debian's /usr/bin/pg_config belongs to libpq-dev and reports /usr/bin, which has no initdb:
  // look at the versioned server directories too, newest first.
  candidates.push('/usr/lib/postgresql/15/bin');
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* not a Debian layout */
  }
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found (looked in ' +
      candidates.join(', ') +
      '). Install them with `apt-get install postgresql` (Debian/Ubuntu) or set PCAPFLOW_PG_BINDIR.',
  );
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Command + args, wrapped in `runuser -u postgres --` when we are root. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [cmd, args];
  if (fs.existsSync('/usr/sbin/runuser') || fs.existsSync('/sbin/runuser') || fs.existsSync('/usr/bin/runuser')) {
    return ['runuser', ['-u', PG_USER, '--', cmd, ...args]];
  }
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', [PG_USER, '-s', '/bin/sh', '-c', quoted]];
}

function chownRecursive(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownRecursive(p, uid, gid);
    else fs.chownSync(p, uid, gid);
  }
}

function osUserIds(user: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) {
    throw new Error(`running as root but OS user "${user}" does not exist; install the postgresql package (apt-get install postgresql) or run the tests as a normal user`);
  }
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function tail(file: string, n = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Postmasters still running, killed on process exit so a crashed test run leaves no server behind. */
const live = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
    }
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapflow-pg-'));
  const dataDir = path.join(tmp, 'data');
  const socketDir = tmp;
  const logFile = path.join(tmp, 'postgres.log');
  const host = '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30000;

  try {
    if (isRoot()) {
      const { uid, gid } = osUserIds(PG_USER);
      chownRecursive(tmp, uid, gid);
    }
    const [initCmd, initArgs] = asServerUser(path.join(binDir, 'initdb'), [
      '-D', dataDir, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync',
    ]);
    const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', cwd: tmp });
    if (init.status !== 0) {
      throw new Error(`initdb failed (exit ${init.status}): ${init.error?.message ?? ''}\n${init.stdout}\n${init.stderr}`);
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }

  const port = await freePort(host);
  const settings: Record<string, string | number> = {
    listen_addresses: host,
    port,
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 50,
    shared_buffers: '64MB',
    ...options.settings,
  };

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isFinite(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };

  const startServer = async (): Promise<void> => {
    if (child) return;
    const args = ['-D', dataDir];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const [cmd, cmdArgs] = asServerUser(path.join(binDir, 'postgres'), args);
    const logFd = fs.openSync(logFile, 'a');
    if (isRoot()) fs.chownSync(logFile, osUserIds(PG_USER).uid, osUserIds(PG_USER).gid);
    const proc = spawn(cmd, cmdArgs, { cwd: tmp, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    child = proc;
    installExitHook();
    let exitInfo: string | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitInfo = `exit code ${code}, signal ${signal}`;
        if (child === proc) child = undefined;
        resolve();
      });
      proc.once('error', (err) => {
        exitInfo = err.message;
        if (child === proc) child = undefined;
        resolve();
      });
    });

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new Error(`postgres exited while starting (${exitInfo}); log ${logFile}:\n${tail(logFile)}`);
      }
      const ready = spawnSync(path.join(binDir, 'pg_isready'), ['-h', host, '-p', String(port), '-U', PG_USER, '-q'], {
        timeout: 5000,
      });
      if (ready.status === 0) break;
      if (Date.now() > deadline) {
        await stopServer();
        throw new Error(`postgres did not become ready within ${readyTimeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
      }
      await sleep(100);
    }
    const pid = postmasterPid();
    if (pid) live.add(pid);
  };

  const stopServer = async (): Promise<void> => {
    if (!child) return;
    const proc = child;
    // Signal the postmaster itself (not runuser/su): SIGINT = fast shutdown.
    const pid = postmasterPid() ?? proc.pid;
    try {
      if (pid) process.kill(pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    const timedOut = await timedOutWaiting(exited, 15000);
    if (timedOut) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
        proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    }
    if (pid) live.delete(pid);
    child = undefined;
  };

  try {
    await startServer();
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }

  return {
    url: `postgres://${PG_USER}@${host}:${port}/postgres`,
    port,
    host,
    dataDir,
    socketDir,
    stopServer,
    startServer,
    async stop() {
      await stopServer();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
