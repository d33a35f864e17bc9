/**
 * The dashboard's one protocol, shared by both ends: the admin API's shapes as DESIGN section 11
 * (and section 8 for the accounts) writes them, and the typed messages the extension and the
 * webview send each other. The wire shapes are the core's own types (core/account.ts,
 * core/usage/). No `vscode` and no DOM: the extension, the page and the tests import it.
 */

import type { AccountSummary } from '../../core/account';
import type { UsageRow } from '../../core/usage/aggregates';
import { OUTCOMES, type RequestOutcome, type RequestRecord } from '../../core/usage/record';

/** DESIGN section 8: `GET /admin/accounts` → `{"accounts": [...]}` of these. Times are unix seconds. */
export type AccountCard = AccountSummary;

/** A time as the admin API writes it (ISO 8601; unix seconds or milliseconds are read too). */
export type WireTime = number | string;

/** One row of `GET /admin/usage` (the keys not named in `by` are left out); hour `2026-12-03T14:00:00Z`, day `2026-12-03`. */
export type { UsageRow };

/** `GET /admin/usage` → this. */
export interface UsageAnswer {
  since: WireTime;
  until: WireTime;
  rows: UsageRow[];
}

/** One entry of `GET /admin/requests` (newest first), and one event of its live follow. */
export type { RequestRecord };
export type Attempt = RequestRecord['attempts'][number];
export { OUTCOMES };
export type Outcome = RequestOutcome;

/** The chart ranges the page offers, with the bucket each is drawn in. */
export const RANGES = { '24h': 'hour', '7d': 'hour', '30d': 'day' } as const;
export type Range = keyof typeof RANGES;
export type Bucket = (typeof RANGES)[Range];
export type StackBy = 'account' | 'model';

/** The table's filters; an empty string is "any". */
export interface RequestFilter {
  account: string;
  model: string;
  outcome: string;
}

export const NO_FILTER: RequestFilter = { account: '', model: '', outcome: '' };

/** Where the data comes from: a tokenpool serving at `baseUrl` (this window, another, or the CLI), or none. */
export type Source =
  | { kind: 'connected'; baseUrl: string; servedHere: boolean }
  | { kind: 'unavailable'; message: string };

/** The account commands a card can run (by the account's id). */
export const CARD_ACTIONS = ['reauthenticate', 'proxyEnable', 'proxyDisable'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

/** The actions a card offers for its state, with their button text (the tree offers the same). */
export function cardActions(state: AccountCard['state']): { action: CardAction; label: string }[] {
  switch (state) {
    case 'disabled':
      return [{ action: 'reauthenticate', label: 'Re-authenticate' }];
    case 'proxy_disabled':
      return [{ action: 'proxyEnable', label: 'Enable' }];
    default:
      return [{ action: 'proxyDisable', label: 'Disable' }];
  }
}

/** Extension → webview. */
export type ToPage =
  | { type: 'source'; source: Source }
  | { type: 'accounts'; accounts: AccountCard[] }
  | { type: 'usage'; range: Range; bucket: Bucket; answer: UsageAnswer }
  | { type: 'requests'; filter: RequestFilter; requests: RequestRecord[] }
  | { type: 'request'; request: RequestRecord }
  /** A part of the data could not be read (`message`), or can be again (`null`). */
  | { type: 'error'; what: DataPart; message: string | null };

export type DataPart = 'accounts' | 'usage' | 'requests' | 'follow';

/** Webview → extension. */
export type ToExtension =
  | { type: 'ready'; range: Range; filter: RequestFilter }
  | { type: 'range'; range: Range }
  | { type: 'filter'; filter: RequestFilter }
  | { type: 'action'; action: CardAction; accountId: string }
  | { type: 'startProxy' };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Checks a message from the page; anything else is dropped by the extension. */
export function parseToExtension(value: unknown): ToExtension | undefined {
  if (!isObject(value)) return undefined;
  const range = (r: unknown): r is Range => typeof r === 'string' && Object.hasOwn(RANGES, r);
  const filter = (f: unknown): f is RequestFilter =>
    isObject(f) && typeof f.account === 'string' && typeof f.model === 'string' && typeof f.outcome === 'string';
  switch (value.type) {
    case 'ready':
      return range(value.range) && filter(value.filter) ? { type: 'ready', range: value.range, filter: value.filter } : undefined;
    case 'range':
      return range(value.range) ? { type: 'range', range: value.range } : undefined;
    case 'filter':
      return filter(value.filter) ? { type: 'filter', filter: value.filter } : undefined;
    case 'action':
      return (CARD_ACTIONS as readonly unknown[]).includes(value.action) && typeof value.accountId === 'string'
        ? { type: 'action', action: value.action as CardAction, accountId: value.accountId }
        : undefined;
    case 'startProxy':
      return { type: 'startProxy' };
    default:
      return undefined;
  }
}
