// What a client knows about a table from its topology config: group columns, window, time columns.
import { Aggregator } from '../engine';
import { parse, type Node } from '../expr';
import { toAggregationSpec, type AggregateOpConfig } from '../runtime/aggspec';
import type { TableShape } from './query';

export interface TableColumns extends TableShape {
  /**
   * Columns holding epoch-ms times: WINDOWSTART/WINDOWEND, MIN/MAX/EARLIEST/LATEST of the table's
   * timestamp expression or of a time-valued expression, and group columns of a time-valued expression.
   * (window_start/window_end are times in every windowed table and not listed.)
   */
  timeColumns: string[];
}

// Functions whose result is epoch ms (functions.ts), and those that pass a time through.
const TIME_FNS = new Set(['STRINGTOTIMESTAMP', 'DATETRUNC', 'NOW', 'UNIX_TIMESTAMP']);
const PASS_FNS = new Set(['COALESCE', 'IFNULL', 'GREATEST', 'LEAST']);
const PICK_AGGS = new Set(['MIN', 'MAX', 'EARLIEST', 'LATEST', 'EARLIEST_BY_OFFSET', 'LATEST_BY_OFFSET']);
const AS_RE = /^([\s\S]*?)\s+AS\s+(`(?:[^`]|``)+`|[A-Za-z_$][A-Za-z0-9_$]*)\s*$/i;

const shapeText = (n: Node): string => JSON.stringify(n, (k, v) => (k === 'pos' ? undefined : v));

function parsed(src: string | undefined): Node | undefined {
  if (src === undefined) return undefined;
  try {
    return parse(src);
  } catch {
    return undefined;
  }
}

function isTime(n: Node | undefined, timestamp: string | undefined): boolean {
  if (!n) return false;
  if (timestamp !== undefined && shapeText(n) === timestamp) return true;
  if (n.type !== 'call') return false;
  const name = n.name.toUpperCase();
  if (TIME_FNS.has(name)) return true;
  return PASS_FNS.has(name) && n.args.every((a) => (a.type === 'lit' && a.value === null) || isTime(a, timestamp)) && n.args.some((a) => a.type !== 'lit');
}

/** Group columns, window and time columns of an aggregate op's (schema-parsed) config. */
export function tableColumns(config: AggregateOpConfig): TableColumns {
  const spec = toAggregationSpec(config);
  const agg = new Aggregator(spec);
  const tsNode = parsed(spec.timestamp);
  const ts = tsNode ? shapeText(tsNode) : undefined;
  const timeColumns: string[] = [];
  spec.groupBy.forEach((g, i) => {
    if (isTime(parsed(AS_RE.exec(g)?.[1] ?? g), ts)) timeColumns.push(agg.groupNames[i]);
  });
  for (const a of spec.aggregates) {
    const fn = a.fn.toUpperCase();
    if (fn === 'WINDOWSTART' || fn === 'WINDOWEND' || (PICK_AGGS.has(fn) && isTime(parsed(a.arg), ts))) timeColumns.push(a.name);
  }
  return { table: config.table, groupColumns: agg.groupNames, windowed: agg.window.type !== 'none', timeColumns };
}
