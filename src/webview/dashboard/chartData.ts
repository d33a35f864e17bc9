/**
 * Usage rows of `GET /admin/usage` → what the three charts draw: one bucket per hour or day over
 * the range, one stacked series per account (or model), for requests, tokens and errors. Pure.
 */
import { bucketLabel, toMillis } from './format';
import { RANGES, type Bucket, type Range, type StackBy, type UsageRow } from './protocol';

export const METRICS = ['requests', 'tokens', 'errors'] as const;
export type Metric = (typeof METRICS)[number];

export interface Series {
  /** The account's email or the model's name; OTHER for the rest. */
  key: string;
  /** Index into the palette, the same for a key in every chart. */
  colour: number;
  values: number[];
}

export interface ChartData {
  bucket: Bucket;
  /** Start of each bucket, ms since the epoch. */
  starts: number[];
  labels: string[];
  /** Per metric, the series with something in them (a key with nothing in a chart is left out of it). */
  series: Record<Metric, Series[]>;
  totals: Record<Metric, number>;
}

/** Series beyond this many are summed into one. */
export const MAX_SERIES = 8;
export const OTHER = 'other';

const SIZE: Record<Bucket, number> = { hour: 3_600_000, day: 86_400_000 };
const COUNT: Record<Range, number> = { '24h': 24, '7d': 7 * 24, '30d': 30 };

/** The value a row adds to a metric: tokens are input + output + thinking (cached input is part of input). */
export function metricValue(row: UsageRow, metric: Metric): number {
  switch (metric) {
    case 'requests':
      return row.requests;
    case 'errors':
      return row.errors;
    case 'tokens':
      return (row.input_tokens || 0) + (row.output_tokens || 0) + (row.thinking_tokens || 0);
  }
}

/** The buckets of a range ending with the one `nowMs` is in (hours and days in UTC, as the server keeps them). */
export function bucketStarts(range: Range, nowMs: number): number[] {
  const size = SIZE[RANGES[range]];
  const last = Math.floor(nowMs / size) * size;
  const count = COUNT[range];
  return Array.from({ length: count }, (_, i) => last - (count - 1 - i) * size);
}

export function chartData(rows: readonly UsageRow[], range: Range, stackBy: StackBy, nowMs: number): ChartData {
  const bucket = RANGES[range];
  const size = SIZE[bucket];
  const starts = bucketStarts(range, nowMs);
  const first = starts[0];

  // Keys ordered by requests over the range (then by name), so colours stay put as numbers move.
  const byKey = new Map<string, { requests: number; values: Record<Metric, number[]> }>();
  for (const row of rows) {
    const at = toMillis(row[bucket]);
    const index = Math.floor((at - first) / size);
    if (!(index >= 0 && index < starts.length)) continue;
    const key = row[stackBy] ?? '?';
    let entry = byKey.get(key);
    if (!entry) {
      entry = { requests: 0, values: { requests: zeros(starts.length), tokens: zeros(starts.length), errors: zeros(starts.length) } };
      byKey.set(key, entry);
    }
    entry.requests += row.requests;
    for (const metric of METRICS) entry.values[metric][index] += metricValue(row, metric);
  }
  const ordered = [...byKey.entries()].sort(([a, x], [b, y]) => y.requests - x.requests || a.localeCompare(b));
  const kept = ordered.length > MAX_SERIES ? ordered.slice(0, MAX_SERIES - 1) : ordered;
  const rest = ordered.slice(kept.length);

  const series = {} as Record<Metric, Series[]>;
  const totals = {} as Record<Metric, number>;
  for (const metric of METRICS) {
    const list: Series[] = kept.map(([key, entry], colour) => ({ key, colour, values: entry.values[metric] }));
    if (rest.length) list.push({ key: OTHER, colour: kept.length, values: sumValues(rest.map(([, e]) => e.values[metric]), starts.length) });
    series[metric] = list.filter((s) => s.values.some((v) => v > 0));
    totals[metric] = series[metric].reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
  }
  const labels = starts.map((start) => bucketLabel(start, bucket, range === '7d'));
  return { bucket, starts, labels, series, totals };
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function sumValues(lists: number[][], n: number): number[] {
  const sum = zeros(n);
  for (const list of lists) list.forEach((v, i) => (sum[i] += v));
  return sum;
}

/**
 * The query of `GET /admin/usage` for a range: from the start of its first bucket (ISO, so a 30 d
 * range needs no unit the API does not name), every key the page may stack by, and the bucket.
 */
export const usageQuery = (range: Range, nowMs: number): { since: string; by: string } => ({
  since: new Date(bucketStarts(range, nowMs)[0]).toISOString(),
  by: `account,model,${RANGES[range]}`,
});
