import type { Actor, InputBatch } from '@pcapflow/core';
import { testActorContext } from '@pcapflow/core/testkit';
import plugin, { PostgresWriter } from '../src';

/**
 * The sink actor driven directly through `handle` / `handleMany`, as the runtime calls them, so a
 * group of messages is exactly the one given (on NATS, what forms a group depends on timing).
 * Shared by both backends: `connection()` gives the `url` or `data_dir` part of the config.
 * Expected values are written out by hand.
 */
export function actorCases(connection: () => { url?: string; data_dir?: string }): void {
  let n = 0;
  const open: { actor: Actor; abort: AbortController }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      o.abort.abort();
      await o.actor.stop?.();
    }
  });

  const unused = (what: string) => () => { throw new Error(`the sink does not use ctx.${what}`); };

  /** A sink actor with its own table; its counters and dead letters are kept for the test to read. */
  async function sink(config: Record<string, unknown>) {
    const table = `hm_${++n}_${Date.now() % 100000}`;
    const { ctx, count, deadLetters, abort } = testActorContext({
      instance: 'sink',
      overrides: { emit: unused('emit'), kv: unused('kv'), publishRaw: unused('publishRaw'), serve: unused('serve') },
    });
    const parsed = plugin.config.parse({ ...connection(), table, ...config });
    const actor = plugin.create(ctx, parsed) as Actor;
    open.push({ actor, abort });
    await actor.start?.();
    const query = async <R = Record<string, unknown>>(sql: string): Promise<R[]> => {
      const w = new PostgresWriter({ url: parsed.url, dataDir: parsed.url ? undefined : parsed.data_dir, table: { table: 'unused', mode: 'insert', createTable: false, evolve: false } });
      try { return await w.query<R>(sql); } finally { await w.close(); }
    };
    return { actor, table, count, deadLetters, query };
  }

  const msg = (seq: number, records: Record<string, unknown>[], deliveryCount = 1): InputBatch =>
    ({ input: 'in', subject: `t.p${seq % 16}`, stream: 'TABLES', seq, deliveryCount, records });

  /**
   * Four messages of a changelog waiting together: the same key in several of them, a deletion
   * between upserts of its key, a row the database rejects in the 2nd message.
   */
  const changelog = (): InputBatch[] => [
    msg(10, [{ _key: 'a', n: 1, note: 'first', _table: 't' }, { _key: 'b', n: 1, _table: 't' }]),
    msg(11, [{ _key: 'a', n: 2, _table: 't' }, { _key: 'bad', n: 'eleven', _table: 't' }]),
    msg(12, [{ _key: 'b', _deleted: true }, { _key: 'a', n: 3, _table: 't' }]),
    msg(13, [{ _key: 'b', n: 4, _table: 't' }, { _key: 'c', n: 1, _table: 't' }]),
  ];
  const expectedRows = [
    // a: n from its newest message (12), note kept from 10 (later records did not carry it)
    { _key: 'a', n: 3, note: 'first', v: 12 },
    // b: deleted by 12, written again by 13
    { _key: 'b', n: 4, note: null, v: 13 },
    { _key: 'c', n: 1, note: null, v: 13 },
  ];

  it('handleMany: messages waiting together are written together; newest wins per key, deletions keep their place, a rejected row is dead-lettered as it arrived', async () => {
    const s = await sink({ exclude: ['_table'] });
    await s.actor.handleMany!(changelog());
    const rows = () => s.query(`SELECT _key, n, note, _pcapflow_version AS v FROM ${s.table} ORDER BY _key`);
    expect(await rows()).toEqual(expectedRows);
    // excluded: never a column
    expect(await s.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = '${s.table}' ORDER BY c`)).toEqual(
      ['_key', '_pcapflow_version', 'n', 'note'].map((c) => ({ c })),
    );
    // two upsert writes (the deletion splits the records), not one per message
    expect(s.count('writes')).toBe(2);
    expect(s.count('deletes')).toBe(1);
    expect(s.count('rows_merged')).toBe(1); // a of 11 merged into a of 10
    expect(s.count('rows_written')).toBe(6);
    expect(s.count('rows_rejected')).toBe(1);
    expect(s.deadLetters).toHaveLength(1);
    // the original record of message 11, excluded field included
    expect(s.deadLetters[0].records).toEqual([{ _key: 'bad', n: 'eleven', _table: 't' }]);
    expect(s.deadLetters[0].error).toMatch(/\[22P02\].*"eleven"/);

    // Redelivered afterwards (an ack lost): one at a time, guarded; nothing changes.
    for (const b of changelog()) await s.actor.handle!({ ...b, deliveryCount: 2 });
    expect(await rows()).toEqual(expectedRows);
    // 10: a and b are older than the table's; 11: a; 12's deletion of b keeps b (13 is newer), its a is re-applied (same version)
    expect(s.count('rows_stale')).toBe(3);
    expect(s.count('deletes')).toBe(1);
    // a redelivery as a group is taken apart the same way
    await s.actor.handleMany!(changelog().map((b) => ({ ...b, deliveryCount: 2 })));
    expect(await rows()).toEqual(expectedRows);
    expect(s.count('rows_stale')).toBe(6);
  });

  it('handleMany: the same messages one at a time give the same table', async () => {
    const s = await sink({ exclude: ['_table'] });
    for (const b of changelog()) await s.actor.handle!(b);
    expect(await s.query(`SELECT _key, n, note, _pcapflow_version AS v FROM ${s.table} ORDER BY _key`)).toEqual(expectedRows);
    expect(s.count('writes')).toBe(4); // one per message (12: its deletion, then its upsert)
    expect(s.deadLetters.map((d) => d.records)).toEqual([[{ _key: 'bad', n: 'eleven', _table: 't' }]]);
  });

  it('handleMany, version_check always: a group older than the table writes nothing, newer rows win', async () => {
    const s = await sink({ key: ['device'], version_check: 'always' });
    await s.actor.handle!(msg(50, [{ device: 'x', n: 'stored', extra: 's' }]));
    // 40 and 60 around the stored 50; 60 lacks `extra`, so 40's extra must not come along with it
    await s.actor.handleMany!([
      msg(40, [{ device: 'x', n: 'old', extra: 'old' }, { device: 'y', n: 'old' }]),
      msg(60, [{ device: 'x', n: 'new' }]),
    ]);
    expect(await s.query(`SELECT device, n, extra, _pcapflow_version AS v FROM ${s.table} ORDER BY device`)).toEqual([
      { device: 'x', n: 'new', extra: 's', v: 60 },
      { device: 'y', n: 'old', extra: null, v: 40 },
    ]);
    expect(s.count('rows_stale')).toBe(1);
  });

  it('handleMany in insert mode: idempotency ids per message (stream:seq:index); a redelivered group adds nothing', async () => {
    const s = await sink({ mode: 'insert' });
    const group = () => [msg(20, [{ d: 1 }, { d: 2 }]), msg(21, [{ d: 3 }]), msg(22, [{ d: 2 }])];
    await s.actor.handleMany!(group());
    const rows = () => s.query(`SELECT d, _pcapflow_id AS id FROM ${s.table} ORDER BY id`);
    const expected = [
      { d: 1, id: 'TABLES:20:0' }, { d: 2, id: 'TABLES:20:1' }, { d: 3, id: 'TABLES:21:0' }, { d: 2, id: 'TABLES:22:0' },
    ];
    expect(await rows()).toEqual(expected);
    expect(s.count('writes')).toBe(1);
    await s.actor.handleMany!(group().map((b) => ({ ...b, deliveryCount: 2 })));
    await s.actor.handleMany!(group().slice(1));
    expect(await rows()).toEqual(expected);
  });

  it('handleMany: a write holds at most batch.group_rows rows (a bigger message stays whole)', async () => {
    const s = await sink({ batch: { group_rows: 3 } });
    await s.actor.handleMany!([
      msg(1, [{ _key: 'a', n: 1 }, { _key: 'b', n: 1 }]),
      msg(2, [{ _key: 'c', n: 1 }]),
      msg(3, [{ _key: 'd', n: 1 }, { _key: 'e', n: 1 }, { _key: 'f', n: 1 }, { _key: 'a', n: 3 }]),
      msg(4, [{ _key: 'b', n: 4 }]),
    ]);
    // writes: [1, 2] (3 rows), [3] (4 rows, alone), [4]
    expect(s.count('writes')).toBe(3);
    expect(await s.query(`SELECT _key, n, _pcapflow_version AS v FROM ${s.table} ORDER BY _key`)).toEqual([
      { _key: 'a', n: 3, v: 3 }, { _key: 'b', n: 4, v: 4 }, { _key: 'c', n: 1, v: 2 },
      { _key: 'd', n: 1, v: 3 }, { _key: 'e', n: 1, v: 3 }, { _key: 'f', n: 1, v: 3 },
    ]);
  });
}
