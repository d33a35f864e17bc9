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

/**
 * The midnight that starts `day`, from a guess within an hour of it (a daylight-saving change
 * between the guess and the time it was made from moves the wall clock by that hour).
 */
function midnightOf(day: string, guessMs: number): number {
  const at = pacificParts(guessMs);
  if (at.day === day) return guessMs - at.intoDayMs;
  return guessMs + 86_400_000 - at.intoDayMs; // the guess fell late on the day before
}

/** The quota day `ms` falls in. */
export function quotaDayOf(ms: number): QuotaDay {
  if (cached && ms >= cached.startMs && ms < cached.endMs) return cached;
  const { day, intoDayMs } = pacificParts(ms);
  const startMs = midnightOf(day, ms - intoDayMs);
  const next = pacificParts(startMs + 86_400_000 + 3_600_000).day; // surely inside the next day
  const endMs = midnightOf(next, startMs + 86_400_000);
  cached = { key: day, startMs, endMs };
  return cached;
}
