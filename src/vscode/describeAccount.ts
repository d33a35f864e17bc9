/**
 * How an account reads in the tree: description, icon, tooltip rows, and which accounts just became
 * disabled. Pure (no `vscode` import); times are Unix seconds, clocks in local time.
 */
import type { AccountState, AccountSummary } from '../core/account';
import type { EnrollResult } from '../core/enroll';
import type { PoolCounts } from '../core/pool';
import type { HeadroomView } from '../core/usage/headroom';

/** What the serving window's bookkeeping says about an account (DESIGN section 11). */
export interface AccountUsage {
  /** This quota day (midnight to midnight in Los Angeles), over every model. */
  today: { requests: number; tokens: number };
  headroom: HeadroomView[];
  lastError?: { time: string; model: string; status: number; reason: string };
}

/** `950`, `12.3k`, `4.5M`. */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`;
}

/** `12 req, 34.5k tokens today`, or nothing before the first request. */
export function describeToday(today: AccountUsage['today']): string | undefined {
  if (today.requests === 0) return undefined;
  return `${today.requests} req, ${compactCount(today.tokens)} tokens today`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `14:05` today (within 24 h), else `2025-11-23 14:05`. */
export function clock(unix: number, now: number): string {
  const d = new Date(unix * 1000);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (Math.abs(unix - now) < 86400) return hm;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** `just now`, `2 min ago`, `3 h ago`, `4 d ago`. */
export function ago(unix: number, now: number): string {
  const d = Math.max(0, now - unix);
  if (d < 60) return 'just now';
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

/** The head of a reason for a one-line description: `invalid_grant: Token has…` → `invalid_grant`. */
export function shortReason(reason: string | null | undefined, max = 40): string {
  const head = (reason ?? '').split(/[:\n]/)[0].trim();
  if (!head) return 'unknown';
  const chars = Array.from(head);
  return chars.length <= max ? head : chars.slice(0, max - 1).join('') + '…';
}

const readable = (reason: string): string => reason.replace(/_/g, ' ');

/** The account's project as the user named it; an account without one uses the configured default. */
const projectName = (s: AccountSummary): string => s.project_id ?? '(the default)';

/**
 * The row's description: `healthy · used 2 min ago`, `cooling until 14:05 (429)`,
 * `proxy disabled · manual`, `disabled · invalid_grant · 3 h ago`.
 */
export function describeAccount(s: AccountSummary, now: number, usage?: AccountUsage): string {
  const state = describeState(s, now);
  const today = usage && describeToday(usage.today);
  return today ? `${state} · ${today}` : state;
}

function describeState(s: AccountSummary, now: number): string {
  switch (s.state) {
    case 'healthy': {
      const parts = ['healthy', s.last_used != null ? `used ${ago(s.last_used, now)}` : 'never used'];
      // A 404 means the account's project lacks the model: say so, not "cooling".
      const perModel = s.cooldowns.filter((c) => c.model !== '*' && c.until > now).sort((a, b) => a.until - b.until);
      const missing = perModel.filter((c) => c.model_not_found);
      if (missing.length === 1) parts.push(`${missing[0].model} not in project ${projectName(s)}`);
      else if (missing.length > 1) parts.push(`${missing.length} models not in project ${projectName(s)}`);
      // A 429 cools one model (quotas are per model): say which, until when and why.
      const models = perModel.filter((c) => !c.model_not_found);
      if (models.length === 1) {
        const [c] = models;
        parts.push(`${c.model} cooling until ${clock(c.until, now)} (${shortReason(c.reason)})`);
      } else if (models.length > 1) {
        parts.push(`${models.length} models cooling until ${clock(models[models.length - 1].until, now)}`);
      }
      return parts.join(' · ');
    }
    case 'cooling': {
      const wide = s.cooldowns.filter((c) => c.model === '*').sort((a, b) => b.until - a.until)[0];
      return wide ? `cooling until ${clock(wide.until, now)} (${shortReason(wide.reason)})` : 'cooling';
    }
    case 'proxy_disabled': {
      const reason = readable(s.proxy_disabled_reason ?? 'manual');
      return s.proxy_disabled_until != null
        ? `proxy disabled · ${reason} until ${clock(s.proxy_disabled_until, now)}`
        : `proxy disabled · ${reason}`;
    }
    case 'disabled': {
      const parts = ['disabled', shortReason(s.disabled_reason)];
      if (s.disabled_at != null) parts.push(ago(s.disabled_at, now));
      return parts.join(' · ');
    }
  }
}

/** A codicon and a theme colour id per state. */
export const stateIcons: Record<AccountState, { icon: string; color: string }> = {
  healthy: { icon: 'pass', color: 'charts.green' },
  cooling: { icon: 'watch', color: 'charts.yellow' },
  proxy_disabled: { icon: 'circle-slash', color: 'disabledForeground' },
  disabled: { icon: 'error', color: 'errorForeground' },
};

/** Label/value pairs for the tooltip; `tokenExpiry` comes from the account file when known. */
export function tooltipRows(s: AccountSummary, now: number, counts: PoolCounts, tokenExpiry?: number, usage?: AccountUsage): [string, string][] {
  const rows: [string, string][] = [['State', readable(s.state)]];
  if (s.state === 'disabled') {
    rows.push(['Reason', s.disabled_reason ?? 'unknown']);
    if (s.disabled_at != null) rows.push(['Disabled', `${clock(s.disabled_at, now)} (${ago(s.disabled_at, now)})`]);
  }
  if (s.proxy_disabled_reason != null) {
    const until = s.proxy_disabled_until != null ? ` until ${clock(s.proxy_disabled_until, now)}` : '';
    rows.push(['Proxy disabled', `${readable(s.proxy_disabled_reason)}${until}`]);
  }
  for (const c of s.cooldowns.filter((c) => c.until > now)) {
    if (c.model_not_found) {
      rows.push([`Missing model (${c.model})`, `not found in project ${projectName(s)}; tried again after ${clock(c.until, now)}: ${c.reason}`]);
    } else {
      rows.push([c.model === '*' ? 'Cooling (all models)' : `Cooling (${c.model})`, `until ${clock(c.until, now)}: ${c.reason}`]);
    }
  }
  rows.push(['Project', s.project_id ?? 'default (tokenpool.upstream.projectId)']);
  rows.push(['Location', s.location ?? 'default (tokenpool.upstream.location)']);
  if (tokenExpiry != null) {
    rows.push(['Access token', tokenExpiry > now ? `valid until ${clock(tokenExpiry, now)}` : `expired ${ago(tokenExpiry, now)} (refreshed on next use)`]);
  }
  rows.push(['Last used', s.last_used != null ? ago(s.last_used, now) : 'never']);
  if (usage) rows.push(...usageRows(usage, now));
  rows.push([
    'Pool',
    `${counts.healthy} healthy, ${counts.cooling} cooling, ${counts.proxy_disabled} proxy disabled, ${counts.disabled} disabled (of ${counts.total})`,
  ]);
  return rows;
}

/** `3 req / 1.2k tokens`, with the limits beside what they limit. */
function againstLimits(requests: number, tokens: number, limits: string[]): string {
  return `${requests} req / ${compactCount(tokens)} tokens${limits.length ? ` (limit ${limits.join(', ')})` : ''}`;
}

/** Today's figures, the last error, and per model the headroom: this minute and today against the limits, the last 429. */
export function usageRows(usage: AccountUsage, now: number): [string, string][] {
  const rows: [string, string][] = [['Today', `${usage.today.requests} requests, ${compactCount(usage.today.tokens)} tokens (quota day, Los Angeles)`]];
  if (usage.lastError) {
    const e = usage.lastError;
    rows.push(['Last error', `${clock(Date.parse(e.time) / 1000, now)} ${e.model}: ${e.status ? `${e.status} ` : ''}${e.reason}`]);
  }
  for (const h of usage.headroom) {
    const l = h.limits ?? {};
    const minute = againstLimits(h.minute.requests, h.minute.tokens, [
      ...(l.rpm !== undefined ? [`${l.rpm} rpm`] : []),
      ...(l.tpm !== undefined ? [`${compactCount(l.tpm)} tpm`] : []),
    ]);
    const day = againstLimits(h.today.requests, h.today.tokens, l.rpd !== undefined ? [`${l.rpd} rpd`] : []);
    rows.push([`Headroom (${h.model})`, `this minute ${minute}; today ${day}`]);
    const last = h.last_429;
    if (last) {
      const parts = [`at ${clock(Date.parse(last.time) / 1000, now)}`];
      if (last.retry_delay_s !== null) parts.push(`retry after ${last.retry_delay_s} s`);
      if (last.quota_id) parts.push(`quota ${last.quota_id}${last.window ? ` (per ${last.window})` : ''}`);
      rows.push([`Last 429 (${h.model})`, parts.join(', ')]);
    }
  }
  return rows;
}

/** Accounts whose state went from anything else to `disabled` since `previous` (id → state). */
export function newlyDisabled(previous: ReadonlyMap<string, AccountState>, current: readonly AccountSummary[]): AccountSummary[] {
  return current.filter((s) => {
    const before = previous.get(s.id);
    return s.state === 'disabled' && before !== undefined && before !== 'disabled';
  });
}

/** What the user is told after adding an account (OAuth, refresh token, gcloud import). */
export function describeEnroll(result: Pick<EnrollResult, 'created' | 'reenabled'> & { account: { email: string } }): string {
  const email = result.account.email;
  if (result.created) return `Added ${email} to the pool.`;
  if (result.reenabled) return `Re-enabled ${email} with its new token.`;
  return `Updated the token of ${email}.`;
}
