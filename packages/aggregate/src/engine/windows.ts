/**
 * Window definitions and assignment (event time or ingest time, epoch milliseconds).
 *
 *   none      running totals per group key, optionally evicted after `ttl` of event-time idleness
 *   tumbling  [k·size, (k+1)·size), aligned to the epoch (as ksqlDB)
 *   hopping   windows of `size` starting every `advance` (aligned to the epoch); a record belongs to
 *             ceil(size/advance) windows
 *   session   per group key: records closer than `gap` to each other form one session; a record
 *             that bridges two sessions merges them. windowStart = first event time, windowEnd = last
 *             event time (inclusive, as ksqlDB)
 *
 * Stream time = the largest event time seen by this aggregator (one partition).
 * Watermark = stream time − grace. A window is closed when watermark ≥ its close time:
 * windowEnd for tumbling/hopping (end exclusive), windowEnd + gap for sessions. A record whose
 * every window is already closed is "late": it is not aggregated, it is counted, and add()
 * reports it so the caller can dead-letter or drop it.
 *
 * Closed windows stay in memory (and queryable) for `retention` after their close time, then
 * are evicted (default retention 0: evicted as soon as they are closed and emitted).
 * `idleClose`: when no record has arrived for this long (wall clock), stream time is advanced by the
 * wall-clock time elapsed since the last arrival, so windows close even when the input stops.
 */
export type Duration = number | string;

export interface WindowCommon {
  /** How long after a window's end records are still accepted (default 0). */
  grace?: Duration;
  /** How long closed windows are kept after closing (default 0). */
  retention?: Duration;
  /** Advance stream time with the wall clock after this much input idleness (default: never). */
  idleClose?: Duration;
}

export type WindowSpec =
  | { type: 'none'; /** Evict a group whose last event is older than stream time − ttl (default: never). */ ttl?: Duration; idleClose?: Duration }
  | ({ type: 'tumbling'; size: Duration } & WindowCommon)
  | ({ type: 'hopping'; size: Duration; advance: Duration } & WindowCommon)
  | ({ type: 'session'; gap: Duration } & WindowCommon);

/** Window spec with every duration in milliseconds. */
export interface NormalizedWindow {
  type: 'none' | 'tumbling' | 'hopping' | 'session';
  size: number;
  advance: number;
  gap: number;
  grace: number;
  retention: number;
  idleClose: number;
  ttl: number;
}

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000, w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

export class WindowSpecError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
    this.name = 'WindowSpecError';
  }
}

/** Parse a duration: a number of milliseconds, or text like "500ms", "30s", "5m", "1h", "1d", "2 hours", "1h30m". */
export function parseDuration(d: Duration, path = 'duration'): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new WindowSpecError(`${path} must be a non-negative number of milliseconds, got ${d}`, path);
    return d;
  }
  const s = String(d).trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let total = 0;
  let consumed = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const unit = UNIT_MS[m[2]];
    if (unit === undefined) throw new WindowSpecError(`${path}: unknown unit '${m[2]}' in '${d}' (use ms, s, m, h, d, w)`, path);
    total += Number(m[1]) * unit;
    consumed += m[0];
  }
  if (consumed.replace(/\s/g, '') !== s.replace(/\s/g, '') || consumed === '') throw new WindowSpecError(`${path}: cannot read duration '${d}' (examples: 500ms, 30s, 5m, 1h, 1d)`, path);
  return total;
}

export function normalizeWindow(w: WindowSpec | undefined, path = 'window'): NormalizedWindow {
  const n: NormalizedWindow = { type: 'none', size: 0, advance: 0, gap: 0, grace: 0, retention: 0, idleClose: 0, ttl: 0 };
  if (!w || w.type === 'none') {
    if (w && w.ttl !== undefined) n.ttl = parseDuration(w.ttl, `${path}.ttl`);
    if (w && w.idleClose !== undefined) n.idleClose = parseDuration(w.idleClose, `${path}.idleClose`);
    return n;
  }
  n.type = w.type;
  if (w.grace !== undefined) n.grace = parseDuration(w.grace, `${path}.grace`);
  if (w.retention !== undefined) n.retention = parseDuration(w.retention, `${path}.retention`);
  if (w.idleClose !== undefined) n.idleClose = parseDuration(w.idleClose, `${path}.idleClose`);
  switch (w.type) {
    case 'tumbling':
      n.size = n.advance = parseDuration(w.size, `${path}.size`);
      break;
    case 'hopping':
      n.size = parseDuration(w.size, `${path}.size`);
      n.advance = parseDuration(w.advance, `${path}.advance`);
      if (n.advance <= 0 || n.advance > n.size) throw new WindowSpecError(`${path}.advance must be > 0 and ≤ size`, `${path}.advance`);
      break;
    case 'session':
      n.gap = parseDuration(w.gap, `${path}.gap`);
      if (n.gap <= 0) throw new WindowSpecError(`${path}.gap must be > 0`, `${path}.gap`);
      break;
    default:
      throw new WindowSpecError(`${path}.type must be none, tumbling, hopping or session`, `${path}.type`);
  }
  if ((n.type === 'tumbling' || n.type === 'hopping') && !(n.size > 0)) throw new WindowSpecError(`${path}.size must be > 0`, `${path}.size`);
  return n;
}

/** Start of the latest window (tumbling/hopping) that contains ts. */
export function latestWindowStart(ts: number, advance: number): number {
  return Math.floor(ts / advance) * advance;
}

/** All window starts containing ts, newest first (tumbling: one; hopping: ceil(size/advance) or fewer). */
export function windowStarts(ts: number, size: number, advance: number): number[] {
  const out: number[] = [];
  for (let s = latestWindowStart(ts, advance); s > ts - size; s -= advance) out.push(s);
  return out;
}

/** A binary min-heap of (time, item) pairs; used to close and evict windows in time order. */
export class TimeHeap<T> {
  private t: number[] = [];
  private v: T[] = [];

  get size(): number {
    return this.t.length;
  }
  peekTime(): number {
    return this.t.length ? this.t[0] : Infinity;
  }
  push(time: number, item: T): void {
    const t = this.t, v = this.v;
    let i = t.length;
    t.push(time);
    v.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p] <= time) break;
      t[i] = t[p];
      v[i] = v[p];
      i = p;
    }
    t[i] = time;
    v[i] = item;
  }
  /** Remove and return the item with the smallest time (undefined when empty). */
  pop(): T | undefined {
    const t = this.t, v = this.v;
    const n = t.length;
    if (n === 0) return undefined;
    const top = v[0];
    const lt = t.pop()!;
    const lv = v.pop()!;
    if (n > 1) {
      let i = 0;
      const m = n - 1;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && t[c + 1] < t[c]) c++;
        if (t[c] >= lt) break;
        t[i] = t[c];
        v[i] = v[c];
        i = c;
      }
      t[i] = lt;
      v[i] = lv;
    }
    return top;
  }
  clear(): void {
    this.t = [];
    this.v = [];
  }
}
