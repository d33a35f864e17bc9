/**
 * What a 429 says about an account's quota (DESIGN section 11, headroom): when, Google's
 * `RetryInfo` delay, the `QuotaFailure` quota id and whether that quota is per minute or per day.
 * Pure; the one place the headroom reads a 429 body.
 */
import type { GoogleErrorBody } from '../failover';
import { quotaWindowOf, violatedQuota } from '../quota';

export interface RateLimitNote {
  /** Unix ms. */
  atMs: number;
  retryDelayS: number | null;
  quotaId: string | null;
  window: 'minute' | 'day' | null;
}

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The quota a 429 names: the `QuotaFailure` violation the failover table reads (core/quota.ts, a
 * per-day one first), else `ErrorInfo.metadata.quota_limit`.
 */
export function quotaIdOf(error: GoogleErrorBody | null | undefined): string | null {
  const details = error?.details ?? [];
  const violated = violatedQuota(details);
  if (violated) return violated.quotaId;
  for (const detail of details) {
    if (isRecord(detail) && detail['@type'] === ERROR_INFO && isRecord(detail.metadata) && typeof detail.metadata.quota_limit === 'string') {
      return detail.metadata.quota_limit;
    }
  }
  return null;
}

export function quotaWindow(quotaId: string | null): RateLimitNote['window'] {
  const window = quotaId ? quotaWindowOf(quotaId) : null;
  return window === 'per-day' ? 'day' : window === 'per-minute' ? 'minute' : null;
}

export function rateLimitNote(error: GoogleErrorBody | null | undefined, retryDelayS: number | undefined, atMs: number): RateLimitNote {
  const quotaId = quotaIdOf(error);
  return { atMs, retryDelayS: retryDelayS ?? null, quotaId, window: quotaWindow(quotaId) };
}
