/**
 * `routing.limits` (DESIGN section 11): requests per minute, tokens per minute and requests per
 * day that one account may send for a model, set for every model (`"*"`) or per model name or
 * glob; the most specific key wins, as with model aliases. An account that has reached a limit is
 * skipped until the minute (or the quota day) is over, before Google answers 429. Pure.
 */
import { matchAlias } from '../models';

export interface LimitValues {
  rpm?: number;
  tpm?: number;
  rpd?: number;
}

/** Model name or glob (`*`: every model) -> the limits of one account for that model. */
export type Limits = Record<string, LimitValues>;

export const LIMIT_KEYS = ['rpm', 'tpm', 'rpd'] as const;

/** The limits that apply to `model`, or undefined when none do. */
export function limitsFor(limits: Limits, model: string): LimitValues | undefined {
  const key = matchAlias(model, limits);
  return key === undefined ? undefined : limits[key];
}

/** Problems with a `routing.limits` value, each naming its key; empty when it is fine. */
export function checkLimits(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['must be an object of model name or glob -> {rpm, tpm, rpd}'];
  const problems: string[] = [];
  for (const [model, entry] of Object.entries(value as Record<string, unknown>)) {
    if (!model) problems.push('a model key is empty');
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`"${model}" must be an object with rpm, tpm and/or rpd`);
      continue;
    }
    for (const [key, v] of Object.entries(entry as Record<string, unknown>)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(key)) problems.push(`"${model}.${key}" is not a limit (expected rpm, tpm, rpd)`);
      else if (!Number.isInteger(v) || (v as number) < 1) problems.push(`"${model}.${key}" must be an integer ≥ 1, got ${JSON.stringify(v)}`);
    }
  }
  return problems;
}

export interface Usage {
  minuteRequests: number;
  minuteTokens: number;
  dayRequests: number;
}

/**
 * Until when (unix ms) an account with this usage may not take another request for the model:
 * the end of the minute when `rpm` or `tpm` is reached, the end of the quota day for `rpd`; 0 when
 * it is free.
 */
export function limitBlockedUntil(limits: LimitValues, usage: Usage, minuteEndMs: number, dayEndMs: number): number {
  let until = 0;
  if (limits.rpm !== undefined && usage.minuteRequests >= limits.rpm) until = minuteEndMs;
  if (limits.tpm !== undefined && usage.minuteTokens >= limits.tpm) until = minuteEndMs;
  if (limits.rpd !== undefined && usage.dayRequests >= limits.rpd) until = dayEndMs;
  return until;
}
