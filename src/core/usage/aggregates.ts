/**
 * Usage summed per account × model × hour (and × day), DESIGN section 11: requests, outcomes,
 * tokens by kind and a latency histogram, kept hourly for 14 days and daily for 400. Adding a
 * request is a map lookup and a few additions. A query groups the buckets of a period by the keys
 * asked for and reads p50 / p95 off the merged histograms. No I/O and no clock.
 */
import { OUTCOMES, isErrorOutcome, type RequestOutcome, type RequestRecord } from './record';

export const HOUR_S = 3600;
export const DAY_S = 86_400;
export const HOURLY_RETENTION_S = 14 * DAY_S;
export const DAILY_RETENTION_S = 400 * DAY_S;

/** Upper bounds of the latency histogram, in ms; one more bucket holds everything longer. */
export const LATENCY_BOUNDS_MS = [100, 250, 500, 1000, 2500, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000] as const;

export interface Bucket {
  requests: number;
  outcomes: Record<RequestOutcome, number>;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  thinking_tokens: number;
  /** Counts per LATENCY_BOUNDS_MS bucket, then the overflow. */
  latency: number[];
}

/** A bucket as it is written to a file. */
export interface BucketRow extends Bucket {
  /** Start of the hour or day, unix seconds. */
  t: number;
  account: string | null;
  model: string;
}

export type UsageKey = 'account' | 'model' | 'hour' | 'day';

export interface UsageRow {
  account?: string | null;
  model?: string;
  hour?: string;
  day?: string;
  requests: number;
  ok: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  thinking_tokens: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

export function emptyBucket(): Bucket {
  return {
    requests: 0,
    outcomes: { ok: 0, client_error: 0, upstream_error: 0, no_account: 0, cancelled: 0, cut: 0 },
    input_tokens: 0,
    output_tokens: 0,
    cached_tokens: 0,
    thinking_tokens: 0,
    latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
  };
}

export function latencyIndex(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
  return i;
}

export function addRecord(bucket: Bucket, r: RequestRecord): void {
  bucket.requests++;
  bucket.outcomes[r.outcome]++;
  bucket.input_tokens += r.input_tokens;
  bucket.output_tokens += r.output_tokens;
  bucket.cached_tokens += r.cached_tokens;
  bucket.thinking_tokens += r.thinking_tokens;
  bucket.latency[latencyIndex(r.duration_ms)]++;
}

export function mergeInto(into: Bucket, from: Bucket): void {
  into.requests += from.requests;
  for (const o of OUTCOMES) into.outcomes[o] += from.outcomes[o] ?? 0;
  into.input_tokens += from.input_tokens;
  into.output_tokens += from.output_tokens;
  into.cached_tokens += from.cached_tokens;
  into.thinking_tokens += from.thinking_tokens;
  for (let i = 0; i < into.latency.length; i++) into.latency[i] += from.latency[i] ?? 0;
}

/**
 * The q-quantile (0..1) of a latency histogram in ms, interpolated within its bucket (the overflow
 * bucket reads as up to twice the last bound); null for an empty histogram.
 */
export function quantileMs(latency: readonly number[], q: number): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    const n = latency[i];
    if (n === 0 || seen + n < target) {
      seen += n;
      continue;
    }
    const low = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
    const high = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] * 2;
    return Math.round(low + ((high - low) * (target - seen)) / n);
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] * 2;
}

const keyOf = (account: string | null, model: string): string => `${account ?? ''}\n${model}`;

/** One resolution (hours or days): time slot -> account×model -> bucket. */
export class BucketTable {
  readonly slots = new Map<number, Map<string, BucketRow>>();

  constructor(readonly slotS: number) {}

  slotOf(unixS: number): number {
    return unixS - (unixS % this.slotS);
  }

  add(unixS: number, r: RequestRecord): void {
    addRecord(this.bucket(this.slotOf(unixS), r.account, r.upstream_model), r);
  }

  /** Adds a stored row (a loaded file) to what is counted. */
  merge(row: BucketRow): void {
    mergeInto(this.bucket(this.slotOf(row.t), row.account, row.model), row);
  }

  private bucket(t: number, account: string | null, model: string): BucketRow {
    let slot = this.slots.get(t);
    if (!slot) this.slots.set(t, (slot = new Map()));
    const key = keyOf(account, model);
    let bucket = slot.get(key);
    if (!bucket) slot.set(key, (bucket = { t, account, model, ...emptyBucket() }));
    return bucket;
  }

  /** Drops the slots that start before `beforeS`; true when any went. */
  prune(beforeS: number): boolean {
    let dropped = false;
    for (const t of this.slots.keys()) {
      if (t < beforeS) {
        this.slots.delete(t);
        dropped = true;
      }
    }
    return dropped;
  }

  /** The rows of the slots overlapping [sinceS, untilS). */
  *rows(sinceS: number, untilS: number): Iterable<BucketRow> {
    for (const [t, slot] of this.slots) {
      if (t + this.slotS <= sinceS || t >= untilS) continue;
      yield* slot.values();
    }
  }
}

const hourLabel = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
const dayLabel = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);

/** Groups rows by the keys in `by` (hour and day from each row's slot start) into the rows of `GET /admin/usage`. */
export function groupRows(rows: Iterable<BucketRow>, by: readonly UsageKey[]): UsageRow[] {
  const groups = new Map<string, { head: Partial<UsageRow>; sort: (string | number)[]; bucket: Bucket }>();
  for (const row of rows) {
    const head: Partial<UsageRow> = {};
    const sort: (string | number)[] = [];
    for (const key of by) {
      switch (key) {
        case 'hour':
          head.hour = hourLabel(row.t - (row.t % HOUR_S));
          sort.push(row.t - (row.t % HOUR_S));
          break;
        case 'day':
          head.day = dayLabel(row.t - (row.t % DAY_S));
          sort.push(row.t - (row.t % DAY_S));
          break;
        case 'account':
          head.account = row.account;
          sort.push(row.account ?? '');
          break;
        case 'model':
          head.model = row.model;
          sort.push(row.model);
          break;
      }
    }
    const id = JSON.stringify(sort);
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { head, sort, bucket: emptyBucket() }));
    mergeInto(group.bucket, row);
  }
  return [...groups.values()]
    .sort((a, b) => compareKeys(a.sort, b.sort))
    .map(({ head, bucket }) => ({ ...head, ...summary(bucket) }));
}

function compareKeys(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

export function summary(bucket: Bucket): Omit<UsageRow, UsageKey> {
  let errors = 0;
  for (const o of OUTCOMES) if (isErrorOutcome(o)) errors += bucket.outcomes[o];
  return {
    requests: bucket.requests,
    ok: bucket.outcomes.ok,
    errors,
    input_tokens: bucket.input_tokens,
    output_tokens: bucket.output_tokens,
    cached_tokens: bucket.cached_tokens,
    thinking_tokens: bucket.thinking_tokens,
    p50_ms: quantileMs(bucket.latency, 0.5),
    p95_ms: quantileMs(bucket.latency, 0.95),
  };
}
