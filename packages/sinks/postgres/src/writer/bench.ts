import { PostgresWriter, type PostgresWriterOptions } from './writer';

import type { TableSpec, WriteOptions } from './writer';

/**
 * Throughput of the write paths: single-row upserts, multi-row VALUES upserts, COPY + merge,
 * upserts carrying a version (as the plugin writes changelogs), idempotent inserts.
 * Prints rows/s; no assertions. Run against a server:
 *   node dist/writer/bench.js postgres://postgres@127.0.0.1:5432/postgres
 * (without a URL: embedded PGlite, VALUES paths only). Figures on a shared machine: compare in one run.
 */
export interface BenchResult {
  name: string;
  rows: number;
  ms: number;
  rowsPerSec: number;
  /** CPU time of this process per row (µs): the writer's own cost; with PGlite, its worker's too. */
  cpuUsPerRow: number;
}

function record(i: number, round: number): Record<string, unknown> {
  return {
    mac: `02:00:${(i >>> 16).toString(16).padStart(2, '0')}:${((i >>> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:00`,
    frames: i * 3 + round,
    rssi: -40 - (i % 50) / 3,
    ssids: ['home', `net-${i % 97}`],
    last_seen: 1700000000000 + i,
    vendor: i % 3 ? 'Apple, Inc.' : 'Intel Corporate',
  };
}

async function measure(
  name: string,
  base: Omit<PostgresWriterOptions, 'table'>,
  table: string,
  total: number,
  batch: number,
  extra: Partial<PostgresWriterOptions> = {},
  variant: { spec?: Partial<TableSpec>; options?: (batchIndex: number, size: number) => WriteOptions } = {},
): Promise<BenchResult> {
  const w = new PostgresWriter({
    ...base,
    ...extra,
    table: { table, key: ['mac'], mode: 'upsert', createTable: true, evolve: true, timestampFields: ['last_seen'], ...variant.spec },
  });
  const opts = variant.options ?? (() => ({}));
  try {
    await w.write([record(0, 0)], opts(-1, 1)); // create the table outside the timing
    await w.query(`TRUNCATE ${JSON.stringify(table)}`);
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < total; i += batch) batches.push(Array.from({ length: Math.min(batch, total - i) }, (_, j) => record(i + j, 1)));
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < batches.length; i++) {
      const r = await w.write(batches[i], opts(i, batches[i].length));
      if (r.rejected.length) throw new Error(`bench rows rejected: ${r.rejected[0].error}`);
    }
    const cpu = process.cpuUsage(cpu0);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return {
      name, rows: total, ms: Math.round(ms), rowsPerSec: Math.round((total / ms) * 1000),
      cpuUsPerRow: Math.round(((cpu.user + cpu.system) / total) * 100) / 100,
    };
  } finally {
    await w.close();
  }
}

export async function runBench(base: Omit<PostgresWriterOptions, 'table'>, scale = 1): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const server = !!base.url;
  out.push(await measure('single-row upsert', base, 'bench_single', Math.round(3000 * scale), 1));
  out.push(await measure('500-row VALUES upsert', base, 'bench_values', Math.round(100000 * scale), 500, { copyThreshold: 0 }));
  out.push(await measure('5000-row batch, VALUES ×500', base, 'bench_values5k', Math.round(100000 * scale), 5000, { copyThreshold: 0 }));
  if (server) {
    out.push(await measure('5000-row batch, COPY + merge', base, 'bench_copy5k', Math.round(100000 * scale), 5000, { copyThreshold: 1 }));
    out.push(await measure('20000-row batch, COPY + merge', base, 'bench_copy20k', Math.round(100000 * scale), 20000, { copyThreshold: 1 }));
    out.push(await measure('20000-row batch, VALUES ×500', base, 'bench_values20k', Math.round(100000 * scale), 20000, { copyThreshold: 0 }));
  }
  // The plugin's changelog path: every row carries its message's version; redeliveries are guarded.
  const versioned = { spec: { versionColumn: '_pcapflow_version' } };
  const version = (i: number) => ({ version: i + 1 });
  const guarded = (i: number) => ({ version: i + 1, onlyIfNewer: true });
  out.push(await measure('500-row VALUES upsert, version', base, 'bench_ver', Math.round(100000 * scale), 500, { copyThreshold: 0 }, { ...versioned, options: version }));
  out.push(await measure('500-row VALUES upsert, guarded', base, 'bench_guard', Math.round(100000 * scale), 500, { copyThreshold: 0 }, { ...versioned, options: guarded }));
  if (server) {
    out.push(await measure('5000-row COPY upsert, guarded', base, 'bench_guard_copy', Math.round(100000 * scale), 5000, { copyThreshold: 1 }, { ...versioned, options: guarded }));
  }
  // A changelog spread over partition subjects: 60-row messages, one write each (a message alone),
  // or messages waiting together written together (handleMany: per-row versions, ≤ 9960 rows).
  const perMessage = (i: number) => ({ version: i + 1 });
  const grouped = (i: number, n: number) => ({ versions: Array.from({ length: n }, (_, j) => i * 166 + Math.floor(j / 60) + 1) });
  out.push(await measure('60-row messages, one write each', base, 'bench_msg60', Math.round(60000 * scale), 60, {}, { ...versioned, options: perMessage }));
  out.push(await measure('60-row messages grouped (≤9960)', base, 'bench_grouped', Math.round(60000 * scale), 9960, {}, { ...versioned, options: grouped }));
  // The plugin's stream path: idempotent inserts, one id per record.
  const insert = { spec: { mode: 'insert' as const, key: undefined, idempotencyColumn: '_pcapflow_id' } };
  const ids = (i: number, n: number) => ({ ids: Array.from({ length: n }, (_, j) => `bench:${i}:${j}`) });
  out.push(await measure('500-row VALUES insert', base, 'bench_ins', Math.round(100000 * scale), 500, { copyThreshold: 0 }, { ...insert, options: ids }));
  if (server) {
    out.push(await measure('5000-row COPY insert', base, 'bench_ins_copy', Math.round(100000 * scale), 5000, { copyThreshold: 1 }, { ...insert, options: ids }));
  }
  return out;
}

if (require.main === module) {
  const url = process.argv[2];
  runBench(url ? { url } : {})
    .then((rs) => {
      for (const r of rs) console.log(`${r.name.padEnd(32)} ${String(r.rowsPerSec).padStart(8)} rows/s  ${r.cpuUsPerRow.toFixed(1).padStart(6)} µs CPU/row  (${r.rows} rows, ${r.ms} ms)`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
