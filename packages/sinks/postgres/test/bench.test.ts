import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPostgres } from '../../../../tools/test-servers/src/postgres';
import { runBench, type BenchResult } from '../src/writer/bench';

// Throughput numbers, printed only: PCAPFLOW_BENCH=1 npx jest test/bench.test.ts
const run = process.env.PCAPFLOW_BENCH === '1' ? describe : describe.skip;

const print = (title: string, rs: BenchResult[]) =>
  console.log(`${title}\n` + rs.map((r) => `  ${r.name.padEnd(32)} ${String(r.rowsPerSec).padStart(8)} rows/s  (${r.rows} rows, ${r.ms} ms)`).join('\n'));

run('writer throughput', () => {
  it('PostgreSQL 15 server (node-postgres)', async () => {
    const pg = await startPostgres();
    try {
      print('PostgreSQL 15 (fsync=off, local TCP)', await runBench({ url: pg.url }));
    } finally {
      await pg.stop();
    }
  }, 600000);

  it('embedded PGlite', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapflow-pglite-bench-'));
    try {
      print('PGlite (worker thread, data dir)', await runBench({ dataDir: dir }, 0.3));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600000);
});
