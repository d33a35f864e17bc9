/**
 * The account file (DESIGN section 3), the state rule (section 4) and the other rules the pool
 * applies to one account: in the selection or not, token fresh or not, which record is newer.
 * Pure: no I/O here. Field names are snake_case as on disk; unknown fields are kept so a rewrite
 * never drops them.
 */
import { AccountFileError, describeJsonError } from './errors';
import type { OAuthClientCreds, TokenSet } from './oauth';

export interface AccountToken {
  access_token: string;
  refresh_token: string;
  expires_in?: number;
  /** Unix seconds when `access_token` stops working. */
  expiry_timestamp: number;
  token_type?: string;
  /** The OAuth client this refresh token belongs to (e.g. gcloud's, for imported ADC). */
  client_id?: string;
  client_secret?: string;
  [extra: string]: unknown;
}

export interface Account {
  id: string;
  email: string;
  name?: string | null;
  token: AccountToken;
  project_id?: string | null;
  location?: string | null;
  disabled: boolean;
  disabled_at: number | null;
  disabled_reason: string | null;
  proxy_disabled: boolean;
  proxy_disabled_reason: string | null;
  proxy_disabled_at: number | null;
  proxy_disabled_until: number | null;
  created_at: number;
  last_used: number | null;
  [extra: string]: unknown;
}

/** What the pool, the tree and the admin API call an account's state. */
export type AccountState = 'healthy' | 'cooling' | 'proxy_disabled' | 'disabled';

export const PROXY_DISABLED_MANUAL = 'manual';
export const PROXY_DISABLED_QUOTA = 'quota_protection';
export const MAX_REASON_CHARS = 800;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Cuts a reason to at most 800 characters at a character (code point) boundary, ending in `...`.
 */
export function truncateReason(reason: string, max = MAX_REASON_CHARS): string {
  const chars = Array.from(reason);
  if (chars.length <= max) return reason;
  return chars.slice(0, max - 3).join('') + '...';
}

/** `proxy_disabled` that still applies at `now`: quota protection lapses when `_until` passes. */
export function isProxyDisabled(account: Account, now: number): boolean {
  if (!account.proxy_disabled) return false;
  if (account.proxy_disabled_reason === PROXY_DISABLED_QUOTA && account.proxy_disabled_until != null) {
    return account.proxy_disabled_until > now;
  }
  return true;
}

/**
 * The state rule, in the order section 4 gives: disabled first, then quota protection and
 * proxy_disabled, then an account-wide cooldown.
 */
export function accountState(account: Account, now: number, coolingUntil?: number | null): AccountState {
  if (account.disabled) return 'disabled';
  if (isProxyDisabled(account, now)) return 'proxy_disabled';
  if (coolingUntil != null && coolingUntil > now) return 'cooling';
  return 'healthy';
}

/**
 * In the selection at all: not disabled and not proxy_disabled by hand. Quota protection with an
 * end stays in, blocked until `_until`, so it comes back on its own.
 */
export function isSelectable(account: Account): boolean {
  if (account.disabled) return false;
  if (!account.proxy_disabled) return true;
  return account.proxy_disabled_reason === PROXY_DISABLED_QUOTA && account.proxy_disabled_until !== null;
}

/** Quota protection still on file although its `_until` has passed: due to be cleared. */
export function quotaProtectionLapsed(account: Account, now: number): boolean {
  return account.proxy_disabled && !isProxyDisabled(account, now);
}

/** Whether the change from `a` to `b` moves when the account is blocked (proxy_disabled or its end). */
export function blockingChanged(a: Account, b: Account): boolean {
  return a.proxy_disabled !== b.proxy_disabled || a.proxy_disabled_until !== b.proxy_disabled_until;
}

/** Oldest first, then by id: a stable order for fill-first and for lists. */
export function byPoolOrder(a: Account, b: Account): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The access token can be used as it is: set, and at least `skew` seconds left at `now`. */
export function hasFreshToken(account: Account, now: number, skew: number): boolean {
  return account.token.access_token !== '' && account.token.expiry_timestamp - now >= skew;
}

/** An account with its own OAuth client (gcloud ADC) refreshes with that client. */
export function clientOf(account: Account): OAuthClientCreds | undefined {
  const { client_id, client_secret } = account.token;
  if (!client_id) return undefined;
  return { client_id, ...(client_secret ? { client_secret } : {}) };
}

/** A fresh account record with every field at its default. */
export function newAccount(fields: {
  id: string;
  email: string;
  token: AccountToken;
  name?: string | null;
  project_id?: string | null;
  location?: string | null;
  now?: number;
}): Account {
  const now = fields.now ?? nowSeconds();
  return {
    id: fields.id,
    email: fields.email,
    name: fields.name ?? null,
    token: fields.token,
    project_id: fields.project_id ?? null,
    location: fields.location ?? null,
    disabled: false,
    disabled_at: null,
    disabled_reason: null,
    proxy_disabled: false,
    proxy_disabled_reason: null,
    proxy_disabled_at: null,
    proxy_disabled_until: null,
    created_at: now,
    last_used: null,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and validates one account file's text. Throws AccountFileError naming the file and the
 * first thing wrong. Missing optional state fields get their defaults; unknown fields are kept.
 */
export function parseAccount(text: string, file: string): Account {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AccountFileError(file, `not valid JSON (${describeJsonError(err)})`);
  }
  if (!isObject(raw)) throw new AccountFileError(file, 'expected a JSON object');
  const fail = (key: string, expected: string): never => {
    throw new AccountFileError(file, `"${key}" must be ${expected}`);
  };
  const str = (obj: Record<string, unknown>, key: string, prefix = '') => {
    if (typeof obj[key] !== 'string' || obj[key] === '') fail(prefix + key, 'a non-empty string');
  };
  const optional = (obj: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean', prefix = '') => {
    const v = obj[key];
    if (v !== undefined && v !== null && typeof v !== type) fail(prefix + key, `a ${type} or null`);
  };

  str(raw, 'id');
  str(raw, 'email');
  if (!isObject(raw.token)) fail('token', 'an object');
  const token = raw.token as Record<string, unknown>;
  str(token, 'refresh_token', 'token.');
  if (typeof token.access_token !== 'string') fail('token.access_token', 'a string');
  if (typeof token.expiry_timestamp !== 'number' || !Number.isFinite(token.expiry_timestamp)) {
    fail('token.expiry_timestamp', 'a number (Unix seconds)');
  }
  for (const key of ['token_type', 'client_id', 'client_secret']) optional(token, key, 'string', 'token.');
  optional(token, 'expires_in', 'number', 'token.');

  for (const key of ['name', 'project_id', 'location', 'disabled_reason', 'proxy_disabled_reason']) {
    optional(raw, key, 'string');
  }
  for (const key of ['disabled', 'proxy_disabled']) optional(raw, key, 'boolean');
  for (const key of ['disabled_at', 'proxy_disabled_at', 'proxy_disabled_until', 'created_at', 'last_used']) {
    optional(raw, key, 'number');
  }

  return {
    ...raw,
    id: raw.id as string,
    email: raw.email as string,
    token: token as AccountToken,
    disabled: (raw.disabled as boolean | undefined) ?? false,
    disabled_at: (raw.disabled_at as number | undefined) ?? null,
    disabled_reason: (raw.disabled_reason as string | undefined) ?? null,
    proxy_disabled: (raw.proxy_disabled as boolean | undefined) ?? false,
    proxy_disabled_reason: (raw.proxy_disabled_reason as string | undefined) ?? null,
    proxy_disabled_at: (raw.proxy_disabled_at as number | undefined) ?? null,
    proxy_disabled_until: (raw.proxy_disabled_until as number | undefined) ?? null,
    created_at: (raw.created_at as number | undefined) ?? 0,
    last_used: (raw.last_used as number | undefined) ?? null,
  };
}

/** The file's text: stable, two-space indented, trailing newline. */
export function serializeAccount(account: Account): string {
  return JSON.stringify(account, null, 2) + '\n';
}

/** Marks an account dead after `invalid_grant` (section 4). */
export function withDisabled(account: Account, reason: string, now: number): Account {
  return { ...account, disabled: true, disabled_at: now, disabled_reason: truncateReason(reason) };
}

/** Clears the three `disabled*` fields. */
export function withEnabled(account: Account): Account {
  return { ...account, disabled: false, disabled_at: null, disabled_reason: null };
}

/** Sets or clears `proxy_disabled` (manual, or quota protection with `until`). */
export function withProxyDisabled(
  account: Account,
  value: { reason: string; now: number; until?: number | null } | null,
): Account {
  if (value === null) {
    return { ...account, proxy_disabled: false, proxy_disabled_reason: null, proxy_disabled_at: null, proxy_disabled_until: null };
  }
  return {
    ...account,
    proxy_disabled: true,
    proxy_disabled_reason: value.reason,
    proxy_disabled_at: value.now,
    proxy_disabled_until: value.until ?? null,
  };
}

/** Takes a refresh's tokens; the refresh token only if Google sent a new one. */
export function withTokens(account: Account, tokens: TokenSet): Account {
  return {
    ...account,
    token: {
      ...account.token,
      access_token: tokens.access_token,
      expires_in: tokens.expires_in,
      expiry_timestamp: tokens.expiry_timestamp,
      token_type: tokens.token_type,
      ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
    },
  };
}

/** `record` (read from disk), keeping `local`'s last_used when it is later: memory saves it only once a minute. */
export function withNewerLastUsed(record: Account, local: Account | undefined): Account {
  return local?.last_used != null && local.last_used > (record.last_used ?? 0) ? { ...record, last_used: local.last_used } : record;
}

/** One cooldown as the admin API and `accounts list --json` show it; `model` is `*` account-wide. */
export interface CooldownView {
  model: string;
  /** Unix seconds. */
  until: number;
  reason: string;
  /** A rate limit's cooldown: what Google's 429 said (DESIGN section 11's headroom reads it). */
  last_429?: RateLimitView;
  /** Google answered 404: the model is missing in this account's project (tried again at `until`). */
  model_not_found?: true;
}

/** The last 429 of an account and model: when, the delay Google asked for, the quota it named and its window. */
export interface RateLimitView {
  /** Unix seconds. */
  at: number;
  /** RetryInfo / Retry-After in seconds, as Google gave it (null: none). */
  retry_delay_s: number | null;
  /** QuotaFailure's `quotaId`, e.g. `GenerateRequestsPerDayPerProjectPerModel-FreeTier`. */
  quota_id: string | null;
  quota_metric: string | null;
  /** `per-day` (cools until midnight Pacific), `per-minute` (follows RetryInfo), or null when unnamed. */
  window: 'per-minute' | 'per-day' | null;
}

/** The stable JSON object of `accounts list --json` and `GET /admin/accounts` (section 8). No token. */
export interface AccountSummary {
  id: string;
  email: string;
  state: AccountState;
  project_id: string | null;
  location: string | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  proxy_disabled_reason: string | null;
  proxy_disabled_until: number | null;
  cooldowns: CooldownView[];
  last_used: number | null;
}

export function summarizeAccount(account: Account, now: number, cooldowns: CooldownView[] = []): AccountSummary {
  const live = cooldowns.filter((c) => c.until > now);
  const accountWide = live.find((c) => c.model === '*');
  const proxyDisabled = isProxyDisabled(account, now);
  return {
    id: account.id,
    email: account.email,
    state: accountState(account, now, accountWide?.until),
    project_id: account.project_id ?? null,
    location: account.location ?? null,
    disabled_at: account.disabled_at,
    disabled_reason: account.disabled_reason,
    proxy_disabled_reason: proxyDisabled ? account.proxy_disabled_reason : null,
    proxy_disabled_until: proxyDisabled ? account.proxy_disabled_until : null,
    cooldowns: live,
    last_used: account.last_used,
  };
}
