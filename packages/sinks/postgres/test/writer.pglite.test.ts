import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PostgresWriter } from '../src/writer';
import { actorCases } from './actor-cases';
import { writerCases } from './writer-cases';

// The embedded backend: PGlite with a data directory in a temp dir (what the demo uses).
describe('PostgresWriter on PGlite', () => {
  let dataDir: string;
  let keeper: PostgresWriter;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapflow-pglite-'));
    // Holds the shared PGlite instance open between tests (it closes when the last writer closes).
    keeper = new PostgresWriter({ dataDir, table: { table: 'keeper', mode: 'insert', createTable: true, evolve: true } });
    await keeper.query('SELECT 1');
  }, 120000);
  afterAll(async () => {
    await keeper?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  writerCases(() => ({ dataDir }));

  describe('the sink actor (handle, handleMany)', () => {
    actorCases(() => ({ data_dir: dataDir }));
  });

  it('persists in the data directory across close and reopen', async () => {
    const w = new PostgresWriter({ dataDir, table: { table: 'persist', key: ['k'], mode: 'upsert', createTable: true, evolve: true } });
    await w.write([{ k: 'a', v: 1 }]);
    await w.close();
    await keeper.close(); // last reference: PGlite really closes
    keeper = new PostgresWriter({ dataDir, table: { table: 'keeper', mode: 'insert', createTable: true, evolve: true } });
    expect(await keeper.query('SELECT k, v FROM persist')).toEqual([{ k: 'a', v: 1 }]);
  });
});
