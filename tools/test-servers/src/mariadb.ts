import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { sleep, timedOutWaiting } from './wait';

/**
 * A throw-away MariaDB server for tests: Debian's mariadb-install-db + mariadbd on a free port
 * with a temporary data directory. root@localhost has no password (authentication method
 * "normal", empty password), so `mysql://root@127.0.0.1:<port>/` works. When running as root the
 * server runs as the `mysql` OS user (mariadbd --user), otherwise as the current user.
 */
export interface MariadbServer {
  /** mysql://root@127.0.0.1:<port>/ */
  url: string;
  port: number;
  host: string;
  user: string;
  dataDir: string;
  /** Unix socket path. */
  socket: string;
  stop(): Promise<void>;
}

function findBinary(names: string[], dirs: string[]): string | undefined {
  for (const d of dirs) for (const n of names) if (fs.existsSync(path.join(d, n))) return path.join(d, n);
  return undefined;
}

/** Resolves true when something on host:port sends a MySQL handshake (protocol version 10). */
function handshake(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once('error', () => done(false));
    // packet: 3-byte length, 1-byte sequence, then protocol version 10.
    sock.once('data', (buf) => done(buf.length > 4 && buf[4] === 10));
  });
}

export async function startMariadb(options: { readyTimeoutMs?: number } = {}): Promise<MariadbServer> {
  const dirs = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  const mariadbd = findBinary(['mariadbd', 'mysqld'], dirs);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db'], dirs);
  if (!mariadbd || !installDb) {
    throw new Error('MariaDB server binaries (mariadbd, mariadb-install-db) not found. Install them with `apt-get install mariadb-server`.');
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapflow-mariadb-'));
  const dataDir = path.join(tmp, 'data');
  const socket = path.join(tmp, 'mysqld.sock');
  const logFile = path.join(tmp, 'mariadb.log');
  const host = '127.0.0.1';
  const userArgs = root ? ['--user=mysql'] : [];
  if (root) {
    // mariadbd drops to the mysql user; it must be able to reach the temp dir.
    const ids = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' });
    if (ids.status !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error('running as root but OS user "mysql" does not exist (apt-get install mariadb-server)');
    }
    fs.chownSync(tmp, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }

  const init = spawnSync(
    installDb,
    ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...userArgs],
    { encoding: 'utf8', cwd: tmp },
  );
  if (init.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (exit ${init.status}): ${init.error?.message ?? ''}\n${init.stdout}\n${init.stderr}`);
  }

  const port = await freePort(host);
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--socket=${socket}`,
    `--port=${port}`,
    `--bind-address=${host}`,
    `--pid-file=${path.join(tmp, 'mariadbd.pid')}`,
    `--log-error=${logFile}`,
    '--skip-name-resolve',
    '--skip-log-bin',
    // Durability off: test data is disposable.
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--innodb-buffer-pool-size=64M',
    '--innodb-log-file-size=16M',
    ...userArgs,
  ];
  const child: ChildProcess = spawn(mariadbd, args, { cwd: tmp, stdio: 'ignore' });
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = `exit code ${code}, signal ${signal}`;
      resolve();
    });
    child.once('error', (e) => {
      exitInfo = e.message;
      resolve();
    });
  });
  const onExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  };
  process.on('exit', onExit);

  const stop = async (): Promise<void> => {
    if (exitInfo === undefined) {
      child.kill('SIGTERM');
      const timedOut = await timedOutWaiting(exited, 20000);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    process.removeListener('exit', onExit);
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60000);
  for (;;) {
    if (exitInfo !== undefined) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      await stop();
      throw new Error(`mariadbd exited while starting (${exitInfo}):\n${log}`);
    }
    if (await handshake(host, port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('mariadbd did not accept connections in time');
    }
    await sleep(150);
  }

  return { url: `mysql://root@${host}:${port}/`, port, host, user: 'root', dataDir, socket, stop };
}
