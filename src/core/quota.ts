/**
 * Google's quota windows (DESIGN section 5): which quota a 429 names, and when a per-day quota
 * resets. The Gemini API sends a `google.rpc.QuotaFailure` whose `quotaId` names the window
 * (`GenerateRequestsPerDayPerProjectPerModel-FreeTier`, `…PerMinute…`) beside a RetryInfo that,
 * for a per-day quota, is only a few seconds: the quota id, not the delay, says when to try again.
 * Per-day quotas reset at midnight Pacific time. Pure; `now` in unix milliseconds.
 */

export type QuotaWindow = 'per-minute' | 'per-day';

/** What the last 429 of an account and model said, kept on its cooldown for the views (section 11). */
export interface RateLimitHit {
  /** Unix ms. */
  at: number;
  /** RetryInfo.retryDelay or Retry-After, in seconds (unclamped); null when Google gave neither. */
  retryDelayS: number | null;
  quotaId: string | null;
  quotaMetric: string | null;
  window: QuotaWindow | null;
}

const QUOTA_FAILURE_TYPE = 'type.googleapis.com/google.rpc.QuotaFailure';

/** The window a quota id names: `PerDay` or `PerMinute` in it; null for any other. */
export function quotaWindowOf(quotaId: string): QuotaWindow | null {
  if (/PerDay/i.test(quotaId)) return 'per-day';
  if (/PerMinute/i.test(quotaId)) return 'per-minute';
  return null;
}

/**
 * The quota a 429's details name: the first QuotaFailure violation with a `quotaId`, a per-day one
 * before any other (running out of the day's quota is what decides the wait). undefined without one.
 */
export function violatedQuota(details: readonly unknown[]): { quotaId: string; quotaMetric: string | null; window: QuotaWindow | null } | undefined {
  const found: { quotaId: string; quotaMetric: string | null; window: QuotaWindow | null }[] = [];
  for (const detail of details) {
    if (!isObject(detail) || detail['@type'] !== QUOTA_FAILURE_TYPE || !Array.isArray(detail.violations)) continue;
    for (const violation of detail.violations) {
      if (!isObject(violation) || typeof violation.quotaId !== 'string' || !violation.quotaId) continue;
      const quotaMetric = typeof violation.quotaMetric === 'string' ? violation.quotaMetric : null;
      found.push({ quotaId: violation.quotaId, quotaMetric, window: quotaWindowOf(violation.quotaId) });
    }
  }
  return found.find((q) => q.window === 'per-day') ?? found[0];
}

/** Where Google's per-day quotas reset: midnight in this zone. */
export const QUOTA_DAY_TIME_ZONE = 'America/Los_Angeles';

/** Made on first use, so loading this module never depends on the time zone data. */
let wallClock: Intl.DateTimeFormat | undefined;

/** The Pacific wall clock at `t`, read as if it were UTC (unix ms). */
function wallClockMs(t: number): number {
  wallClock ??= new Intl.DateTimeFormat('en-US', {
    timeZone: QUOTA_DAY_TIME_ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const parts: Record<string, number> = {};
  for (const part of wallClock.formatToParts(t)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) + (t % 1000 + 1000) % 1000;
}

/**
 * The next midnight in America/Los_Angeles strictly after `now` (unix ms), right across daylight
 * saving changes (a day there is 23, 24 or 25 hours long): the zone's offset comes from Intl at
 * that instant, never a fixed -8 h.
 */
export function nextQuotaReset(now: number): number {
  const wall = new Date(wallClockMs(now));
  const midnight = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1);
  // The instant whose wall clock is `midnight`: correct the guess by the offset found there, twice
  // (the offset at the guess can differ from the one at `now` when the clocks change in between).
  let instant = midnight - (wallClockMs(now) - now);
  for (let i = 0; i < 2; i++) instant = midnight - (wallClockMs(instant) - instant);
  return instant;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
