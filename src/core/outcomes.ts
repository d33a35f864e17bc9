/**
 * The failover decisions carried out (DESIGN section 5): what an upstream answer or a failed
 * refresh does to the account. failover.ts decides; this applies it: cooldowns (memory), quota
 * protection and the disable (persisted through the pool's locked writes), last_used on success.
 */
import {
  PROXY_DISABLED_QUOTA,
  quotaProtectionLapsed,
  truncateReason,
  withDisabled,
  withProxyDisabled,
  type Account,
} from './account';
import { ACCOUNT_WIDE } from './cooldowns';
import type { OAuthError } from './errors';
import { decide, type Decision, type Outcome } from './failover';
import type { LastUsedFlusher } from './lastUsedFlusher';
import { messageOf, type PoolState } from './poolState';

/** A failed refresh reported through report(): the refresher applies it, once per error. */
export type RefreshFailureReported = (id: string, error: OAuthError, refreshToken: string) => void;

export class OutcomeApplier {
  constructor(
    private readonly state: PoolState,
    private readonly lastUsed: LastUsedFlusher,
    private readonly refreshFailureReported: RefreshFailureReported,
  ) {}

  /**
   * Applies the failover decision for an upstream outcome to the account: cooldowns, quota
   * protection (persisted), last_used on success, and for a refresh failure the disable. Returns
   * the decision so the attempt loop knows whether to retry.
   */
  report(accountId: string, model: string, outcome: Outcome, ctx: { already401?: boolean } = {}): Decision {
    const { state } = this;
    const now = state.now();
    const decision = decide(outcome, {
      consecutiveFailures: state.cooldowns.failures(accountId, ACCOUNT_WIDE),
      modelFailures: state.cooldowns.failures(accountId, model),
      already401: ctx.already401 ?? false,
      now,
    });
    const account = state.accounts.get(accountId);
    if (!account || state.disposed) return decision;
    if (outcome.kind === 'refresh') {
      this.refreshFailureReported(accountId, outcome.error, account.token.refresh_token);
      return decision;
    }
    const applying = this.apply(accountId, model, decision, now);
    if (applying) state.track(applying, `the state of ${account.email}`);
    return decision;
  }

  /** Carries out a decision. Returns the write it started, if any. */
  apply(id: string, model: string, decision: Decision, now: number, refreshToken?: string): Promise<void> | undefined {
    const { state } = this;
    const account = state.accounts.get(id);
    if (!account) return undefined;
    const writes: Promise<unknown>[] = [];
    if (decision.clearFailures) {
      if (state.cooldowns.clearOnSuccess(id, model, now)) {
        state.selector.wake();
        state.signal.changed('cooldown');
      }
      this.lastUsed.used(account, now);
      // A quota protection that has lapsed is cleared on disk at the first success, once.
      if (quotaProtectionLapsed(account, Math.floor(now / 1000))) writes.push(this.clearLapsedQuota(id));
    }
    if (decision.cooldown) {
      const { scope, seconds, reason, rateLimit, modelNotFound } = decision.cooldown;
      state.cooldowns.add(id, scope === 'account' ? ACCOUNT_WIDE : model, seconds, truncateReason(reason), now, {
        rateLimit,
        modelNotFound: modelNotFound?.message,
      });
      state.signal.scheduleExpiry();
      state.signal.changed('cooldown');
    }
    if (decision.quotaProtectUntilSeconds !== undefined) {
      writes.push(this.protectQuota(account, decision.quotaProtectUntilSeconds, now));
    }
    if (decision.disable) writes.push(this.disable(account, decision.disable.reason, refreshToken ?? account.token.refresh_token));
    return writes.length > 0 ? Promise.all(writes).then(() => undefined) : undefined;
  }

  /** Quota protection whose `_until` has passed is cleared on disk (if it still is the same one). */
  async clearLapsedQuota(id: string): Promise<void> {
    const { state } = this;
    const nowS = state.nowSeconds();
    try {
      const written = await state.writeThrough(id, 'quota_protection', (current) =>
        quotaProtectionLapsed(current, nowS) ? withProxyDisabled(current, null) : undefined,
      );
      if (written) state.log.info(`[pool] quota protection of ${written.email} has ended; it serves again`);
    } catch (err) {
      state.log.warn(`[pool] could not clear the lapsed quota protection of ${state.emailOf(id)}: ${messageOf(err)}`);
    }
  }

  private async disable(account: Account, reason: string, failedRefreshToken: string): Promise<void> {
    const { state } = this;
    state.log.error(
      `[refresh] Disabling account due to invalid_grant (${account.email}): refresh_token likely revoked/expired (or the account is suspended)`,
    );
    const nowS = state.nowSeconds();
    try {
      // Only the token that failed: a token re-added meanwhile stays enabled.
      await state.writeThrough(account.id, 'disabled', (current) =>
        current.disabled || current.token.refresh_token !== failedRefreshToken ? undefined : withDisabled(current, reason, nowS),
      );
    } catch (err) {
      state.log.warn(`[pool] could not save that ${account.email} is disabled: ${messageOf(err)}`);
    }
  }

  private async protectQuota(account: Account, seconds: number, now: number): Promise<void> {
    const { state } = this;
    const nowS = Math.floor(now / 1000);
    const until = nowS + Math.ceil(seconds);
    state.log.warn(
      `[pool] Quota protection (${account.email}): Google asks to wait ${Math.round(seconds / 60)} min; ` +
        `proxy_disabled until ${new Date(until * 1000).toISOString()}`,
    );
    await state.writeThrough(account.id, 'quota_protection', (current) => {
      if (current.disabled) return undefined;
      if (current.proxy_disabled && (current.proxy_disabled_reason !== PROXY_DISABLED_QUOTA || (current.proxy_disabled_until ?? Infinity) >= until)) {
        return undefined; // a manual disable, or a longer quota protection, stays as it is
      }
      return withProxyDisabled(current, { reason: PROXY_DISABLED_QUOTA, now: nowS, until });
    });
    state.signal.scheduleExpiry();
  }
}
