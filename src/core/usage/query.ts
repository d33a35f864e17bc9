/**
 * The parameters of the usage views (DESIGN section 11), shared by `GET /admin/usage`,
 * `GET /admin/requests` and the CLI: a bad value is a UsageQueryError naming the parameter and
 * what it accepts. Pure.
 */
import { TokenpoolError } from '../errors';
import type { UsageKey } from './aggregates';
import { OUTCOMES, type RequestOutcome } from './record';

export class UsageQueryError extends TokenpoolError {
  override readonly code = 'USAGE_QUERY_INVALID';
  constructor(readonly param: string, message: string) {
    super(`${param}: ${message}`);
  }
}

export interface UsageQuery {
  /** Unix ms. */
  sinceMs: number;
  untilMs: number;
  by: UsageKey[];
}

export interface RequestFilter {
  limit: number;
  account?: string;
  model?: string;
  outcome?: RequestOutcome;
}

export const DEFAULT_SINCE = '24h';
export const DEFAULT_BY: readonly UsageKey[] = ['account', 'model'];
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `7d`, `30m`, `90s` back from now, or an ISO 8601 time. */
export function parseTime(param: string, text: string, nowMs: number): number {
  const relative = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (relative) return nowMs - Number(relative[1]) * UNITS_MS[relative[2]];
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw new UsageQueryError(param, `expected a duration back from now (24h, 7d, 30m) or an ISO 8601 time, got ${JSON.stringify(text)}`);
}

const KEYS: readonly UsageKey[] = ['account', 'model', 'hour', 'day'];

/** A comma-separated list of account, model, hour, day (not both hour and day). */
export function parseBy(text: string): UsageKey[] {
  const keys = text.split(',').map((k) => k.trim());
  for (const key of keys) {
    if (!KEYS.includes(key as UsageKey)) {
      throw new UsageQueryError('by', `expected a comma-separated list of ${KEYS.join(', ')}, got ${JSON.stringify(text)}`);
    }
  }
  if (new Set(keys).size !== keys.length) throw new UsageQueryError('by', `names a key twice: ${JSON.stringify(text)}`);
  if (keys.includes('hour') && keys.includes('day')) throw new UsageQueryError('by', 'takes hour or day, not both');
  return keys as UsageKey[];
}

/** since / until / by from query parameters (absent: the last 24 h, now, account and model). */
export function parseUsageQuery(params: URLSearchParams, nowMs: number): UsageQuery {
  rejectUnknown(params, ['since', 'until', 'by']);
  const sinceMs = parseTime('since', params.get('since') ?? DEFAULT_SINCE, nowMs);
  const untilText = params.get('until');
  const untilMs = untilText === null ? nowMs : parseTime('until', untilText, nowMs);
  if (untilMs <= sinceMs) throw new UsageQueryError('until', 'must be later than since');
  const byText = params.get('by');
  return { sinceMs, untilMs, by: byText === null ? [...DEFAULT_BY] : parseBy(byText) };
}

export function parseLimit(text: string | null, fallback = DEFAULT_LIMIT): number {
  if (text === null) return fallback;
  if (!/^\d{1,7}$/.test(text.trim()) || Number(text) < 1 || Number(text) > MAX_LIMIT) {
    throw new UsageQueryError('limit', `expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

export function parseOutcome(text: string): RequestOutcome {
  if (!OUTCOMES.includes(text as RequestOutcome)) {
    throw new UsageQueryError('outcome', `expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return text as RequestOutcome;
}

/** limit / account / model / outcome from query parameters. */
export function parseRequestFilter(params: URLSearchParams): RequestFilter {
  rejectUnknown(params, ['limit', 'account', 'model', 'outcome']);
  const filter: RequestFilter = { limit: parseLimit(params.get('limit')) };
  const account = params.get('account');
  const model = params.get('model');
  const outcome = params.get('outcome');
  if (account) filter.account = account;
  if (model) filter.model = model;
  if (outcome !== null) filter.outcome = parseOutcome(outcome);
  return filter;
}

/** True when a record passes the filter's account / model / outcome (the account's email case-insensitively; the model asked or sent). */
export function matchesFilter(r: { account: string | null; model: string; upstream_model: string; outcome: RequestOutcome }, f: Omit<RequestFilter, 'limit'>): boolean {
  if (f.account !== undefined && (r.account ?? '').toLowerCase() !== f.account.toLowerCase()) return false;
  if (f.model !== undefined && r.model !== f.model && r.upstream_model !== f.model) return false;
  return f.outcome === undefined || r.outcome === f.outcome;
}

/** `key` is the API key's query form (`?key=`), taken by the guard: never an unknown parameter here. */
function rejectUnknown(params: URLSearchParams, known: readonly string[]): void {
  for (const name of params.keys()) {
    if (name !== 'key' && !known.includes(name)) throw new UsageQueryError(name, `unknown parameter (expected ${known.join(', ')})`);
  }
}
