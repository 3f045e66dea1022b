// Config → engine spec: parse "FN(arg, option=value)" aggregate strings, map engine errors to
// config paths (so the runtime can point at the YAML line of the offending field).
import { AGGREGATES, aggregateFactory, Aggregator, AggregationSpecError, parseDuration, type AggregateColumn, type AggregateOptions, type AggregationSpec, type WindowSpec } from '../engine';

export type AggregateConfigValue = string | { fn: string; arg?: string; options?: AggregateOptions };

const OPTION_NAMES: Record<string, keyof AggregateOptions> = {
  max: 'max', exactlimit: 'exactLimit', exact_limit: 'exactLimit', ignorenulls: 'ignoreNulls', ignore_nulls: 'ignoreNulls',
};

export class AggregateSyntaxError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = 'AggregateSyntaxError';
  }
}

/** Split at top-level commas (outside (), [], {}, quotes and backticks). Returns [text, offset] pairs. */
function splitArgs(s: string, base: number): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) {
        if (s[i + 1] === quote) i++;
        else quote = '';
      }
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push([s.slice(start, i), base + start]);
      start = i + 1;
    }
  }
  out.push([s.slice(start), base + start]);
  return out;
}

function optionValue(v: string): number | boolean {
  const t = v.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  const n = Number(t);
  if (t !== '' && Number.isFinite(n)) return n;
  throw new Error(`option value must be a number or true/false, got '${t}'`);
}

/**
 * Parse one aggregate column: "COUNT(*)", "MIN(signal_dbm)", "COLLECT_SET(ssid, max=100)",
 * "COUNT_DISTINCT(da, exact_limit=50000)", "WINDOWSTART", or the structured form {fn, arg, options}.
 * Columns in errors are 1-based positions inside the aggregate text.
 */
export function parseAggregate(name: string, v: AggregateConfigValue): AggregateColumn {
  if (typeof v === 'object') return { name, fn: v.fn, ...(v.arg !== undefined ? { arg: v.arg } : {}), ...(v.options ? { options: v.options } : {}) };
  const m = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([\s\S]*)\))?\s*$/.exec(v);
  if (!m) throw new AggregateSyntaxError(`expected FUNCTION(argument), e.g. COUNT(*) or MAX(signal_dbm), got '${v}'`, 1);
  const fn = m[2].toUpperCase();
  if (!aggregateFactory(fn)) throw new AggregateSyntaxError(`unknown aggregate function '${m[2]}' (known: ${Object.keys(AGGREGATES).join(', ')})`, m[1].length + 1);
  const col: AggregateColumn = { name, fn };
  if (m[3] === undefined) return col;
  const argsStart = v.indexOf('(') + 1;
  const parts = splitArgs(m[3], argsStart);
  const first = parts[0][0].trim();
  if (first !== '' && first !== '*') col.arg = first;
  else if (first === '*' && fn !== 'COUNT') throw new AggregateSyntaxError(`${fn}(*) is not allowed: only COUNT(*) takes *`, parts[0][1] + 1);
  for (const [text, off] of parts.slice(1)) {
    const om = /^\s*([A-Za-z_]+)\s*[=:]\s*([\s\S]+)$/.exec(text);
    const key = om ? OPTION_NAMES[om[1].toLowerCase()] : undefined;
    if (!om || !key) throw new AggregateSyntaxError(`unknown option '${text.trim()}' (options: max=N, exact_limit=N, ignore_nulls=true|false)`, off + 1 + (text.length - text.trimStart().length));
    try {
      (col.options ??= {} as AggregateOptions)[key] = optionValue(om[2]) as never;
    } catch (e) {
      throw new AggregateSyntaxError((e as Error).message, off + 1);
    }
  }
  return col;
}

/** 0-based offset of the argument expression inside an aggregate text ("MAX(  x + 1)" → 6), or -1. */
export function argOffset(text: string): number {
  const open = text.indexOf('(');
  if (open < 0) return -1;
  let i = open + 1;
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

/** The aggregate op's config as the plugin schema outputs it (durations still as given). */
export interface AggregateOpConfig {
  op: 'aggregate';
  table: string;
  group_by: string[];
  window?: {
    type: 'none' | 'tumbling' | 'hopping' | 'session';
    size?: string | number; advance?: string | number; gap?: string | number; grace?: string | number;
    retention?: string | number; ttl?: string | number; idle_close?: string | number;
    time?: 'event' | 'ingest'; timestamp?: string;
  };
  time?: 'event' | 'ingest';
  timestamp?: string;
  aggregates: Record<string, AggregateConfigValue>;
  where?: string;
  emit: 'changes' | 'final';
  debounce?: string | number;
  late: 'dead_letter' | 'drop' | 'emit';
  ttl?: string | number;
  retention?: string | number;
}

/** A config error with the config path (relative to `config`) it belongs to. */
export interface ConfigIssue { path: (string | number)[]; message: string }

/** Build the engine spec; throws AggregationSpecError / AggregateSyntaxError (use `specIssues` for paths). */
export function toAggregationSpec(c: AggregateOpConfig): AggregationSpec {
  const w = c.window;
  const time = w?.time ?? c.time ?? 'event';
  const timestamp = time === 'ingest' ? undefined : (w?.timestamp ?? c.timestamp);
  const type = w?.type ?? 'none';
  let window: WindowSpec;
  const common = {
    ...(w?.grace !== undefined ? { grace: w.grace } : {}),
    ...((w?.retention ?? c.retention) !== undefined ? { retention: (w?.retention ?? c.retention)! } : {}),
    ...(w?.idle_close !== undefined ? { idleClose: w.idle_close } : {}),
  };
  switch (type) {
    case 'none':
      window = { type: 'none', ...((w?.ttl ?? c.ttl) !== undefined ? { ttl: (w?.ttl ?? c.ttl)! } : {}), ...(w?.idle_close !== undefined ? { idleClose: w.idle_close } : {}) };
      break;
    case 'tumbling':
      window = { type, size: w?.size as string, ...common };
      break;
    case 'hopping':
      window = { type, size: w?.size as string, advance: w?.advance as string, ...common };
      break;
    case 'session':
      window = { type, gap: w?.gap as string, ...common };
      break;
  }
  const aggregates = Object.entries(c.aggregates).map(([name, v]) => parseAggregate(name, v));
  return {
    groupBy: c.group_by,
    window,
    ...(timestamp ? { timestamp } : {}),
    aggregates,
    ...(c.where ? { where: c.where } : {}),
    emit: c.emit,
    ...(c.debounce !== undefined ? { debounceMs: durationMs(c.debounce) } : {}),
  };
}

/** Milliseconds of a duration ("500ms", "30s", "5m", "1h30m", "2 hours" or a number of ms). */
export function durationMs(d: string | number, path = 'duration'): number {
  return parseDuration(d, path);
}

/** Validate the aggregate op's config by compiling it; returns issues with config paths. */
export function specIssues(c: AggregateOpConfig): ConfigIssue[] {
  const names = Object.keys(c.aggregates ?? {});
  let spec: AggregationSpec;
  try {
    spec = toAggregationSpec(c);
  } catch (e) {
    if (e instanceof AggregateSyntaxError) {
      const col = names.find((n) => {
        try { parseAggregate(n, c.aggregates[n]); return false; } catch { return true; }
      });
      return [{ path: ['aggregates', col ?? ''], message: `${e.message} (at column ${e.column} of the aggregate)` }];
    }
    return [{ path: [], message: (e as Error).message }];
  }
  try {
    new Aggregator(spec);
    return [];
  } catch (e) {
    if (!(e instanceof AggregationSpecError)) return [{ path: [], message: (e as Error).message }];
    return [{ path: mapSpecPath(e.path, c, names), message: e.message.replace(/^[\w.[\]]+: /, '') }];
  }
}

function mapSpecPath(p: string, c: AggregateOpConfig, names: string[]): (string | number)[] {
  let m: RegExpExecArray | null;
  if ((m = /^groupBy\[(\d+)\]/.exec(p))) return ['group_by', Number(m[1])];
  if ((m = /^aggregates\[(\d+)\]/.exec(p))) return ['aggregates', names[Number(m[1])] ?? Number(m[1])];
  if (p === 'where') return ['where'];
  if (p === 'emit') return ['emit'];
  if (p === 'timestamp') return c.window?.timestamp !== undefined ? ['window', 'timestamp'] : ['timestamp'];
  if ((m = /^window\.(\w+)/.exec(p))) {
    const k = m[1] === 'idleClose' ? 'idle_close' : m[1];
    if ((k === 'ttl' || k === 'retention') && c.window?.[k] === undefined && c[k] !== undefined) return [k];
    return ['window', k];
  }
  return p ? p.split('.') : [];
}

/** Rows a running-totals table holds in memory per partition unless state.max_rows says otherwise (about 2 KB each for the example's per-device row). */
export const DEFAULT_MAX_ROWS = 100_000;
