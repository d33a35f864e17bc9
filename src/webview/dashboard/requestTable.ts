/**
 * The request table's data: which records pass the filters, the live list kept newest first and
 * bounded, and the choices each filter offers. Pure.
 */
import { toMillis } from './format';
import { OUTCOMES, type AccountCard, type RequestFilter, type RequestRecord, type UsageRow } from './protocol';

/** Rows the table keeps; older ones drop off the end. */
export const MAX_ROWS = 200;

/**
 * True when `record` passes every filter that is set: the same test as the server's query (the
 * account's email case-insensitively; the model asked or the model sent upstream).
 */
export function matchesFilter(record: RequestRecord, filter: RequestFilter): boolean {
  if (filter.account && (record.account ?? '').toLowerCase() !== filter.account.toLowerCase()) return false;
  if (filter.model && record.model !== filter.model && record.upstream_model !== filter.model) return false;
  if (filter.outcome && record.outcome !== filter.outcome) return false;
  return true;
}

/** `list` with a new record from the live follow: at its place by time (newest first), once, when it passes the filters. */
export function addLive(list: readonly RequestRecord[], record: RequestRecord, filter: RequestFilter, max = MAX_ROWS): RequestRecord[] {
  if (!matchesFilter(record, filter) || list.some((r) => r.id === record.id)) return list as RequestRecord[];
  const at = toMillis(record.time);
  const index = list.findIndex((r) => toMillis(r.time) <= at);
  const next = index < 0 ? [...list, record] : [...list.slice(0, index), record, ...list.slice(index)];
  return next.slice(0, max);
}

export interface FilterChoices {
  accounts: string[];
  models: string[];
  outcomes: readonly string[];
}

/** What each filter offers: the pool's accounts and every account and model seen in usage or requests, sorted; the chosen values stay offered. */
export function filterChoices(
  accounts: readonly AccountCard[],
  rows: readonly UsageRow[],
  requests: readonly RequestRecord[],
  filter: RequestFilter,
): FilterChoices {
  const accountSet = new Set<string>(accounts.map((a) => a.email));
  const modelSet = new Set<string>();
  for (const row of rows) {
    if (row.account) accountSet.add(row.account);
    if (row.model) modelSet.add(row.model);
  }
  for (const r of requests) {
    if (r.account) accountSet.add(r.account);
    modelSet.add(r.model);
  }
  if (filter.account) accountSet.add(filter.account);
  if (filter.model) modelSet.add(filter.model);
  const sorted = (set: Set<string>) => [...set].filter(Boolean).sort((a, b) => a.localeCompare(b));
  return { accounts: sorted(accountSet), models: sorted(modelSet), outcomes: OUTCOMES };
}

/** The query string of `GET /admin/requests` for a filter (only the filters that are set). */
export function requestsQuery(filter: RequestFilter, limit = MAX_ROWS): string {
  const params = new URLSearchParams({ limit: String(limit) });
  for (const key of ['account', 'model', 'outcome'] as const) if (filter[key]) params.set(key, filter[key]);
  return params.toString();
}
