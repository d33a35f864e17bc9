/**
 * What a 429 says about an account's quota (DESIGN section 11, headroom): when, Google's
 * `RetryInfo` delay, the `QuotaFailure` quota id and whether that quota is per minute or per day.
 * Pure; the one place the headroom reads a 429 body.
 */
import type { GoogleErrorBody } from '../failover';

export interface RateLimitNote {
  /** Unix ms. */
  atMs: number;
  retryDelayS: number | null;
  quotaId: string | null;
  window: 'minute' | 'day' | null;
}

const QUOTA_FAILURE = 'type.googleapis.com/google.rpc.QuotaFailure';
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The quota a 429 names: the first `QuotaFailure` violation's `quotaId`, else `ErrorInfo.metadata.quota_limit`. */
export function quotaIdOf(error: GoogleErrorBody | null | undefined): string | null {
  for (const detail of error?.details ?? []) {
    if (!isRecord(detail)) continue;
    if (detail['@type'] === QUOTA_FAILURE && Array.isArray(detail.violations)) {
      for (const v of detail.violations) if (isRecord(v) && typeof v.quotaId === 'string' && v.quotaId) return v.quotaId;
    }
  }
  for (const detail of error?.details ?? []) {
    if (isRecord(detail) && detail['@type'] === ERROR_INFO && isRecord(detail.metadata) && typeof detail.metadata.quota_limit === 'string') {
      return detail.metadata.quota_limit;
    }
  }
  return null;
}

export function quotaWindow(quotaId: string | null): RateLimitNote['window'] {
  if (!quotaId) return null;
  if (/per ?day/i.test(quotaId)) return 'day';
  if (/per ?minute/i.test(quotaId)) return 'minute';
  return null;
}

export function rateLimitNote(error: GoogleErrorBody | null | undefined, retryDelayS: number | undefined, atMs: number): RateLimitNote {
  const quotaId = quotaIdOf(error);
  return { atMs, retryDelayS: retryDelayS ?? null, quotaId, window: quotaWindow(quotaId) };
}
