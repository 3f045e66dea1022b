import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { startPostgres } from '../../../../tools/test-servers/src/postgres';
import { startMariadb } from '../../../../tools/test-servers/src/mariadb';

// Smoke tests of the project's own test servers (real Debian binaries, temp dirs, free ports).
describe('test servers', () => {
  it('startPostgres runs a real PostgreSQL 15 that psql can reach, and stop() removes it', async () => {
    const pg = await startPostgres();
    try {
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
      const out = execFileSync('psql', [pg.url, '-Atc', 'select 40 + 2, current_setting(\'fsync\')'], { encoding: 'utf8' });
      expect(out.trim()).toBe('42|off');
      expect(fs.existsSync(`${pg.socketDir}/.s.PGSQL.${pg.port}`)).toBe(true);
    } finally {
      await pg.stop();
    }
    expect(fs.existsSync(pg.dataDir)).toBe(false);
  });

  it('startMariadb runs a real MariaDB that the mariadb client can reach', async () => {
    const db = await startMariadb();
    try {
      const out = execFileSync('mariadb', ['-h', db.host, '-P', String(db.port), '-u', db.user, '-N', '-B', '-e', 'select 40 + 2'], { encoding: 'utf8' });
      expect(out.trim()).toBe('42');
    } finally {
      await db.stop();
    }
    expect(fs.existsSync(db.dataDir)).toBe(false);
  });
});
