import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PcapflowError, RetryableError } from '@pcapflow/core';
import { startPostgres, type PostgresServer } from '../../../../tools/test-servers/src/postgres';
import { PostgresWriter, type PostgresWriterOptions } from '../src/writer';

// TLS to a real PostgreSQL server with ssl=on and a certificate from a CA made for this suite
// (openssl). The server certificate names only "localhost", so connecting to 127.0.0.1 tells
// verify-ca (chain only) from verify-full (chain and host name).
describe('TLS on PostgreSQL', () => {
  let pg: PostgresServer;
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapflow-pg-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pcapflow test CA');
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    fs.writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
    fs.chmodSync(file('server.key'), 0o600);
    if (process.getuid?.() === 0) {
      // The server runs as the postgres user (see test-servers) and must own its key.
      const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const [uid, gid] = [id('-u'), id('-g')];
      fs.chownSync(dir, uid, gid);
      for (const f of fs.readdirSync(dir)) fs.chownSync(file(f), uid, gid);
    }
    pg = await startPostgres({ settings: { ssl: 'on', ssl_cert_file: file('server.pem'), ssl_key_file: file('server.key') } });
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const open: PostgresWriter[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  const writer = (o: Partial<PostgresWriterOptions>) => {
    const w = new PostgresWriter({ url: pg.url, retryDelayMs: 10, table: { table: 'tls', key: ['k'], mode: 'upsert', createTable: true, evolve: true }, ...o });
    open.push(w);
    return w;
  };
  /** Whether the writer's connection is encrypted, as the server sees it. */
  const encrypted = async (w: PostgresWriter) => (await w.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'))[0]?.ssl;
  const failure = async (w: PostgresWriter) => w.write([{ k: 'a' }]).then(() => undefined, (e: unknown) => e as PcapflowError);

  it('require: encrypted, the certificate is not checked', async () => {
    expect(await encrypted(writer({ ssl: { mode: 'require' } }))).toBe(true);
  });

  it('disable (and no ssl option): a plain connection', async () => {
    expect(await encrypted(writer({ ssl: { mode: 'disable' } }))).toBe(false);
    expect(await encrypted(writer({}))).toBe(false);
  });

  it('verify-ca: the chain is checked against the CA (file path or PEM text), not the host name', async () => {
    expect(await encrypted(writer({ ssl: { mode: 'verify-ca', ca: file('ca.pem') } }))).toBe(true);
    expect(await encrypted(writer({ ssl: { mode: 'verify-ca', ca: fs.readFileSync(file('ca.pem'), 'utf8') } }))).toBe(true);
    const err = await failure(writer({ ssl: { mode: 'verify-ca', ca: file('other.pem') } }));
    expect(err).toBeInstanceOf(PcapflowError);
    expect(err).not.toBeInstanceOf(RetryableError);
    expect(err!.message).toMatch(/certificate/);
  });

  it('verify-full: the host name is checked too (servername when the URL host is not in the certificate)', async () => {
    const err = await failure(writer({ ssl: { mode: 'verify-full', ca: file('ca.pem') } }));
    expect(err).toBeInstanceOf(PcapflowError);
    expect(err).not.toBeInstanceOf(RetryableError);
    expect(err!.message).toMatch(/Hostname\/IP does not match certificate's altnames/);
    expect(await encrypted(writer({ ssl: { mode: 'verify-full', ca: file('ca.pem'), servername: 'localhost' } }))).toBe(true);
  });

  it('the URL\'s sslmode and sslrootcert mean what they mean to libpq', async () => {
    // node-postgres alone would read sslmode=require as verify-full and refuse this server's certificate.
    expect(await encrypted(writer({ url: `${pg.url}?sslmode=require` }))).toBe(true);
    expect(await encrypted(writer({ url: `${pg.url}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(file('ca.pem'))}` }))).toBe(true);
    const err = await failure(writer({ url: `${pg.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(file('ca.pem'))}` }));
    expect(err!.message).toMatch(/altnames/);
    expect(await encrypted(writer({ url: `${pg.url}?sslmode=disable` }))).toBe(false);
    // Explicit options win over the URL's.
    expect(await encrypted(writer({ url: `${pg.url}?sslmode=verify-full`, ssl: { mode: 'require' } }))).toBe(true);
    const prefer = await failure(writer({ url: `${pg.url}?sslmode=prefer` }));
    expect(prefer).toMatchObject({ code: 'PCAPFLOW_CONFIG_INVALID', message: 'sslmode=prefer in the PostgreSQL URL is not supported' });
  });

  it('an unreadable CA file is a configuration error, not an outage to wait out', async () => {
    const err = await failure(writer({ ssl: { mode: 'verify-ca', ca: file('missing.pem') } }));
    expect(err).toMatchObject({ code: 'PCAPFLOW_CONFIG_INVALID' });
    expect(err!.message).toContain('cannot read the TLS CA file');
  });
});
