/**
 * Google's per-day quotas reset at midnight America/Los_Angeles (DESIGN section 5); "today" in the
 * headroom and `rpd` limits is that day. The day's bounds are cached: reading the day of a time
 * inside the cached day costs two comparisons.
 */
const PACIFIC = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

interface Parts {
  day: string;
  /** ms since that day's midnight. */
  intoDayMs: number;
}

function pacificParts(ms: number): Parts {
  const p: Record<string, string> = {};
  for (const part of PACIFIC.formatToParts(new Date(ms))) p[part.type] = part.value;
  return {
    day: `${p.year}-${p.month}-${p.day}`,
    intoDayMs: ((Number(p.hour) * 60 + Number(p.minute)) * 60 + Number(p.second)) * 1000 + (ms % 1000),
  };
}

export interface QuotaDay {
  /** YYYY-MM-DD in Los Angeles. */
  key: string;
  /** Unix ms of its midnight, and of the next one. */
  startMs: number;
  endMs: number;
}

let cached: QuotaDay | undefined;

/** The quota day `ms` falls in. */
export function quotaDayOf(ms: number): QuotaDay {
  if (cached && ms >= cached.startMs && ms < cached.endMs) return cached;
  const { day, intoDayMs } = pacificParts(ms);
  const startMs = ms - intoDayMs;
  // 24 h on, corrected by the hour a daylight-saving change adds or takes away
  let endMs = startMs + 86_400_000;
  const after = pacificParts(endMs);
  if (after.day === day) endMs += 86_400_000 - after.intoDayMs;
  else endMs -= after.intoDayMs;
  cached = { key: day, startMs, endMs };
  return cached;
}
