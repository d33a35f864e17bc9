/**
 * TokenPool: the one owner of account state (DESIGN sections 4 and 5). It holds every account from
 * the store (for summaries), chooses among the eligible ones, keeps their access tokens fresh with
 * one refresh per account in flight, applies the failover table to what upstream answers, and
 * fires one change event that the tree, the status bar and the admin API listen to.
 *
 * Persisted state (disabled, proxy_disabled, tokens, last_used) is changed through the store's
 * locked read-modify-write, so nothing the pool writes undoes another process's change. Cooldowns
 * live in memory only. last_used is never written on the request path (see lastUsed.ts): it rides
 * along with the pool's other writes of the account, and a background flusher saves the rest.
 */
import {
  PROXY_DISABLED_MANUAL,
  PROXY_DISABLED_QUOTA,
  accountState,
  blockingChanged,
  byPoolOrder,
  clientOf,
  hasFreshToken,
  isSelectable,
  newAccount,
  quotaProtectionLapsed,
  summarizeAccount,
  truncateReason,
  withDisabled,
  withEnabled,
  withNewerLastUsed,
  withProxyDisabled,
  withTokens,
  type Account,
  type AccountSummary,
  type AccountToken,
} from './account';
import { ChangeSequence } from './changeSequence';
import { ChangeSignal } from './changeSignal';
import type { Config } from './config';
import { ACCOUNT_WIDE, Cooldowns } from './cooldowns';
import type { Disposable } from './disposable';
import { AccountNotFoundError, OAuthClientMismatchError, OAuthError } from './errors';
import { decide, type Decision, type Outcome } from './failover';
import { LAST_USED_BATCH, LAST_USED_FINAL_BATCH, LAST_USED_FLUSH_MS, LastUsedLedger } from './lastUsed';
import type { Logger } from './log';
import type { GoogleOAuth, TokenSet } from './oauth';
import { Selector, type BlockedUntil } from './selection';
import type { AccountStore, StoreChange } from './store';

export interface Lease {
  accountId: string;
  email: string;
  accessToken: string;
  projectId: string | null;
  location: string | null;
}

export interface Availability {
  total: number;
  healthy: number;
  cooling: number;
  proxy_disabled: number;
  disabled: number;
  /** Accounts that could serve the model right now. */
  eligibleForModel: number;
  /** Unix seconds when the first blocked account frees up for the model, or null. */
  earliestCooldownEnd: number | null;
}

export interface PoolCounts {
  total: number;
  healthy: number;
  cooling: number;
  proxy_disabled: number;
  disabled: number;
}

export interface PoolOptions {
  store: AccountStore;
  oauth: GoogleOAuth;
  log: Logger;
  routing: Config['routing'];
  /** Unix milliseconds, like Date.now. */
  now?: () => number;
  /** How often the background flusher saves last_used (ms); default LAST_USED_FLUSH_MS. */
  lastUsedFlushMs?: number;
}

export type { PoolChangeEvent } from './changeSignal';

export interface UpsertInput {
  email: string;
  name?: string | null;
  token: AccountToken;
  project_id?: string | null;
  location?: string | null;
}

/** Where a refresh was started: the wording of the failure line depends on it. */
type RefreshContext = 'acquire' | 'force' | 'check';

export class TokenPool implements Disposable {
  /** Every account, disabled and proxy_disabled included, by id. */
  private accounts = new Map<string, Account>();
  /** Ids in pool order: oldest first (fill-first uses the first that is free). */
  private order: string[] = [];
  private readonly selector: Selector;
  private readonly cooldowns = new Cooldowns();
  private readonly refreshing = new Map<string, Promise<TokenSet>>();
  /** Refresh failures whose decision has been applied already (waiters share one error). */
  private readonly applied = new WeakSet<OAuthError>();
  private readonly warnedClients = new Set<string>();
  /** What each file's last_used is, so the flusher saves only the accounts memory is ahead on. */
  private readonly lastUsedOnDisk = new LastUsedLedger();
  private readonly lastUsedTimer: NodeJS.Timeout;
  private readonly lastUsedFlushMs: number;
  /** The flusher's run in flight: runs follow each other, never overlap. */
  private lastUsedSaving: Promise<void> | undefined;
  /** When the last `used` change event fired (unix ms), and whether a use since then is unreported. */
  private usedEventAt = Number.NEGATIVE_INFINITY;
  private usedUnreported = false;
  /** A record read from disk before (or during) a change is older than memory, not applied. */
  private readonly sequence = new ChangeSequence();
  private readonly writes = new Set<Promise<void>>();
  private watchQueue: Promise<void> = Promise.resolve();
  private readonly watchers = new Set<Disposable>();

  /** The change event (at once for waitForEligible, coalesced for views) and the expiry timer. */
  private readonly signal = new ChangeSignal({ now: () => this.now(), nextBlockEnd: (now) => this.nextBlockEnd(now) });
  private readonly waiters = new Set<(eligible: boolean) => void>();
  private disposed = false;

  private readonly store: AccountStore;
  private readonly oauth: GoogleOAuth;
  private readonly log: Logger;
  private readonly routing: Config['routing'];
  private readonly now: () => number;

  readonly onDidChange = this.signal.onDidChange;

  constructor(options: PoolOptions) {
    this.store = options.store;
    this.oauth = options.oauth;
    this.log = options.log;
    this.routing = options.routing;
    this.now = options.now ?? Date.now;
    this.selector = new Selector(options.routing.strategy);
    this.lastUsedFlushMs = options.lastUsedFlushMs ?? LAST_USED_FLUSH_MS;
    this.lastUsedTimer = setInterval(() => this.lastUsedTick(), this.lastUsedFlushMs);
    this.lastUsedTimer.unref();
  }

  // ---- loading -------------------------------------------------------------------------------

  /** Initial load: disabled accounts first (skipped), then quota protection and proxy_disabled. */
  load(): Promise<void> {
    return this.scan('Loaded', 'load');
  }

  /** Full rescan; the new set replaces the old in one step, so a request never sees an empty pool. */
  reload(): Promise<void> {
    return this.scan('Reloaded', 'reload');
  }

  private async scan(verb: 'Loaded' | 'Reloaded', reason: string): Promise<void> {
    const mark = this.sequence.mark();
    const { accounts } = await this.store.loadAll();
    accounts.sort(byPoolOrder);
    const nowS = this.nowSeconds();
    const next = new Map<string, Account>();
    const lapsed: string[] = [];
    for (const found of accounts) {
      if (this.sequence.changedSince(found.id, mark)) continue; // memory is newer: kept below
      this.lastUsedOnDisk.saved(found.id, found.last_used);
      let account = withNewerLastUsed(found, this.accounts.get(found.id));
      if (account.disabled) {
        this.log.info(`[pool] skip disabled account (${account.email})`);
      } else if (quotaProtectionLapsed(account, nowS)) {
        account = withProxyDisabled(account, null);
        lapsed.push(account.id);
      } else if (account.proxy_disabled) {
        this.log.info(`[pool] skip proxy_disabled account (${account.email}): ${account.proxy_disabled_reason ?? PROXY_DISABLED_MANUAL}`);
      }
      next.set(account.id, account);
    }
    // What changed in memory while the directory was read (a write, a watched file) is newer.
    for (const [id, local] of this.accounts) if (this.sequence.changedSince(id, mark)) next.set(id, local);
    for (const id of this.accounts.keys()) if (!next.has(id)) this.forgetAccount(id);
    this.accounts = next;
    this.order = [...next.values()].sort(byPoolOrder).map((a) => a.id);
    this.rebuildEligible();

    await Promise.all(lapsed.map((id) => this.clearLapsedQuota(id)));
    const c = this.counts();
    // "healthy" here is every account the pool can use, cooling ones included (cooldowns are not
    // part of the files a load reads).
    this.log.info(`[pool] ${verb} account pool: ${c.healthy + c.cooling} healthy, ${c.proxy_disabled} proxy_disabled, ${c.disabled} disabled`);
    this.signal.scheduleExpiry();
    this.signal.changed(reason);
  }

  /** Quota protection whose `_until` has passed is cleared on disk (if it still is the same one). */
  private async clearLapsedQuota(id: string): Promise<void> {
    const nowS = this.nowSeconds();
    try {
      const written = await this.writeThrough(id, 'quota_protection', (current) =>
        quotaProtectionLapsed(current, nowS) ? withProxyDisabled(current, null) : undefined,
      );
      if (written) this.log.info(`[pool] quota protection of ${written.email} has ended; it serves again`);
    } catch (err) {
      this.log.warn(`[pool] could not clear the lapsed quota protection of ${this.emailOf(id)}: ${messageOf(err)}`);
    }
  }

  /**
   * Applies changes to account files made by other processes or by hand (through store.watch),
   * one file at a time: re-read it, or drop the account when the file is gone.
   */
  startWatching(): Disposable {
    const watcher = this.store.watch((change) => {
      this.watchQueue = this.watchQueue.then(() => this.applyFileChange(change));
    });
    this.watchers.add(watcher);
    return {
      dispose: () => {
        watcher.dispose();
        this.watchers.delete(watcher);
      },
    };
  }

  private async applyFileChange(change: StoreChange): Promise<void> {
    if (this.disposed) return;
    const { id } = change;
    const mark = this.sequence.mark();
    let record: Account | undefined;
    try {
      record = change.kind === 'removed' ? undefined : await this.store.read(id);
    } catch (err) {
      // A file being edited by hand may not parse for a moment: keep what we had.
      this.log.warn(`[pool] ignoring a change to account ${id}: ${messageOf(err)}`);
      return;
    }
    if (this.disposed || this.sequence.changedSince(id, mark)) return;
    if (record === undefined) {
      if (this.accounts.has(id)) this.dropAccount(id);
      return;
    }
    this.lastUsedOnDisk.saved(id, record.last_used);
    this.setRecord(record, this.accounts.has(id) ? 'changed' : 'added');
  }

  // ---- choosing and tokens -----------------------------------------------------------------

  /**
   * An eligible account for `model` with a fresh access token, or undefined when none is eligible.
   * A failed refresh applies its failover decision and moves on to the next account.
   */
  async acquire(model: string, opts: { sessionKey?: string; exclude?: ReadonlySet<string> } = {}): Promise<Lease | undefined> {
    let tried: Set<string> | undefined;
    while (!this.disposed) {
      const now = this.now();
      const id = this.selector.pick(model, this.blockedFor(model), now, {
        sessionKey: opts.sessionKey,
        exclude: tried ?? opts.exclude,
      });
      if (id === undefined) return undefined;
      const account = this.accounts.get(id)!;
      if (hasFreshToken(account, Math.floor(now / 1000), this.routing.refresh_skew_s)) {
        return leaseOf(account, account.token.access_token);
      }
      try {
        const tokens = await this.refreshShared(id, 'acquire');
        const current = this.accounts.get(id);
        // Disabled or removed by someone else while the refresh was in flight: not this one.
        if (current && this.selector.has(id)) return leaseOf(current, tokens.access_token);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
      }
      tried ??= new Set(opts.exclude);
      tried.add(id);
    }
    return undefined;
  }

  /**
   * After an upstream 401: a new access token for the account (joining a refresh already in
   * flight). A failed refresh has its decision applied here (invalid_grant disables) and is
   * thrown; reporting it again through report() changes nothing.
   */
  async forceRefresh(accountId: string): Promise<string> {
    return (await this.refreshShared(accountId, 'force')).access_token;
  }

  /** Refresh now and say how it went (CLI `accounts check`, "Refresh Token Now"). invalid_grant disables. */
  async check(accountId: string): Promise<{ ok: true; expiry: number } | { ok: false; error: OAuthError }> {
    if (!this.accounts.has(accountId)) throw new AccountNotFoundError(accountId);
    try {
      const tokens = await this.refreshShared(accountId, 'check');
      return { ok: true, expiry: tokens.expiry_timestamp };
    } catch (err) {
      if (err instanceof OAuthError) return { ok: false, error: err };
      throw err;
    }
  }

  /** One refresh per account in flight; everyone who asks meanwhile gets the same result. */
  private refreshShared(id: string, context: RefreshContext): Promise<TokenSet> {
    let flight = this.refreshing.get(id);
    if (!flight) {
      flight = this.refreshNow(id, context).finally(() => this.refreshing.delete(id));
      this.refreshing.set(id, flight);
    }
    return flight;
  }

  private async refreshNow(id: string, context: RefreshContext): Promise<TokenSet> {
    const account = this.accounts.get(id);
    if (!account) throw new AccountNotFoundError(id);
    const refreshToken = account.token.refresh_token;
    let tokens: TokenSet;
    try {
      tokens = await this.oauth.refresh(refreshToken, clientOf(account));
    } catch (err) {
      if (err instanceof OAuthError) await this.refreshFailed(id, err, context, refreshToken);
      throw err;
    }
    this.log.debug(`[refresh] refreshed ${account.email}, valid until ${new Date(tokens.expiry_timestamp * 1000).toISOString()}`);
    try {
      // Never onto a record that was disabled meanwhile, nor over a token re-added meanwhile.
      await this.writeThrough(id, 'refresh', (current) =>
        current.disabled || current.token.refresh_token !== refreshToken ? undefined : withTokens(current, tokens),
      );
    } catch (err) {
      this.log.warn(`[pool] could not save the refreshed token of ${account.email}: ${messageOf(err)}`);
    }
    return tokens;
  }

  private async refreshFailed(id: string, error: OAuthError, context: RefreshContext, refreshToken: string): Promise<void> {
    this.applied.add(error);
    const account = this.accounts.get(id);
    if (!account) return;
    const next = context === 'check' ? '' : ', trying next account';
    this.log.warn(`[refresh] Token refresh failed (${account.email}): ${error.message}${next}`);
    if (error instanceof OAuthClientMismatchError) this.warnClientMismatch(account, error);
    const decision = decide({ kind: 'refresh', error }, { consecutiveFailures: this.cooldowns.failures(id, ACCOUNT_WIDE), already401: false });
    await this.apply(id, ACCOUNT_WIDE, decision, this.now(), refreshToken);
  }

  private warnClientMismatch(account: Account, error: OAuthClientMismatchError): void {
    const client = account.token.client_id ?? 'the configured oauth.client_id';
    if (this.warnedClients.has(client)) return;
    this.warnedClients.add(client);
    this.log.warn(
      `[refresh] The OAuth client (${client}) does not match the one ${account.email}'s refresh token was issued to ` +
        `(${error.error}); accounts cool for 1 h instead of being disabled. Configure the client that issued ` +
        'the tokens, or re-add the accounts with this client.',
    );
  }

  // ---- outcomes ------------------------------------------------------------------------------

  /**
   * Applies the failover decision for an upstream outcome to the account: cooldowns, quota
   * protection (persisted), last_used on success, and for a refresh failure the disable. Returns
   * the decision so the attempt loop knows whether to retry.
   */
  report(accountId: string, model: string, outcome: Outcome, ctx: { already401?: boolean } = {}): Decision {
    const now = this.now();
    const decision = decide(outcome, {
      consecutiveFailures: this.cooldowns.failures(accountId, ACCOUNT_WIDE),
      modelFailures: this.cooldowns.failures(accountId, model),
      already401: ctx.already401 ?? false,
      now,
    });
    const account = this.accounts.get(accountId);
    if (!account || this.disposed) return decision;
    if (outcome.kind === 'refresh') {
      if (!this.applied.has(outcome.error)) {
        this.track(this.refreshFailed(accountId, outcome.error, 'acquire', account.token.refresh_token), `the state of ${account.email}`);
      }
      return decision;
    }
    const applying = this.apply(accountId, model, decision, now);
    if (applying) this.track(applying, `the state of ${account.email}`);
    return decision;
  }

  /** Carries out a decision. Returns the write it started, if any. */
  private apply(id: string, model: string, decision: Decision, now: number, refreshToken?: string): Promise<void> | undefined {
    const account = this.accounts.get(id);
    if (!account) return undefined;
    const writes: Promise<unknown>[] = [];
    if (decision.clearFailures) {
      if (this.cooldowns.clearOnSuccess(id, model, now)) {
        this.selector.wake();
        this.signal.changed('cooldown');
      }
      const used = this.markUsed(account, now);
      if (used) writes.push(used);
    }
    if (decision.cooldown) {
      const { scope, seconds, reason } = decision.cooldown;
      this.cooldowns.add(id, scope === 'account' ? ACCOUNT_WIDE : model, seconds, truncateReason(reason), now);
      this.signal.scheduleExpiry();
      this.signal.changed('cooldown');
    }
    if (decision.quotaProtectUntilSeconds !== undefined) {
      writes.push(this.protectQuota(account, decision.quotaProtectUntilSeconds, now));
    }
    if (decision.disable) writes.push(this.disable(account, decision.disable.reason, refreshToken ?? account.token.refresh_token));
    return writes.length > 0 ? Promise.all(writes).then(() => undefined) : undefined;
  }

  private async disable(account: Account, reason: string, failedRefreshToken: string): Promise<void> {
    this.log.error(
      `[refresh] Disabling account due to invalid_grant (${account.email}): refresh_token likely revoked/expired (or the account is suspended)`,
    );
    const nowS = this.nowSeconds();
    try {
      // Only the token that failed: a token re-added meanwhile stays enabled.
      await this.writeThrough(account.id, 'disabled', (current) =>
        current.disabled || current.token.refresh_token !== failedRefreshToken ? undefined : withDisabled(current, reason, nowS),
      );
    } catch (err) {
      this.log.warn(`[pool] could not save that ${account.email} is disabled: ${messageOf(err)}`);
    }
  }

  private async protectQuota(account: Account, seconds: number, now: number): Promise<void> {
    const nowS = Math.floor(now / 1000);
    const until = nowS + Math.ceil(seconds);
    this.log.warn(
      `[pool] Quota protection (${account.email}): Google asks to wait ${Math.round(seconds / 60)} min; ` +
        `proxy_disabled until ${new Date(until * 1000).toISOString()}`,
    );
    await this.writeThrough(account.id, 'quota_protection', (current) => {
      if (current.disabled) return undefined;
      if (current.proxy_disabled && (current.proxy_disabled_reason !== PROXY_DISABLED_QUOTA || (current.proxy_disabled_until ?? Infinity) >= until)) {
        return undefined; // a manual disable, or a longer quota protection, stays as it is
      }
      return withProxyDisabled(current, { reason: PROXY_DISABLED_QUOTA, now: nowS, until });
    });
    this.signal.scheduleExpiry();
  }

  /**
   * last_used in memory only: the flusher (or the account's next write) saves it. A quota
   * protection that has lapsed is cleared on disk at the first success, once.
   */
  private markUsed(account: Account, now: number): Promise<void> | undefined {
    const nowS = Math.floor(now / 1000);
    if ((account.last_used ?? 0) < nowS) {
      this.accounts.set(account.id, { ...account, last_used: nowS });
      this.usedChanged(now);
    }
    return quotaProtectionLapsed(account, nowS) ? this.clearLapsedQuota(account.id) : undefined;
  }

  /** A `used` change event at most once per flusher interval: at once after a quiet spell, else at the next run. */
  private usedChanged(now: number): void {
    if (now - this.usedEventAt < this.lastUsedFlushMs) this.usedUnreported = true;
    else this.reportUsed(now);
  }

  private reportUsed(now: number): void {
    this.usedEventAt = now;
    this.usedUnreported = false;
    this.signal.changed('used');
  }

  /**
   * Saves the last_used of at most `limit` accounts whose file is behind memory, the longest
   * unsaved first; the background flusher calls it every interval (and dispose once). Runs follow
   * each other; flush() waits for them too.
   */
  flushLastUsed(limit = LAST_USED_BATCH): Promise<void> {
    const previous = this.lastUsedSaving ?? Promise.resolve();
    const saving: Promise<void> = previous
      .then(() => this.saveLastUsed(limit))
      .finally(() => {
        if (this.lastUsedSaving === saving) this.lastUsedSaving = undefined;
      });
    this.lastUsedSaving = saving;
    this.track(saving, 'last_used');
    return saving;
  }

  private async saveLastUsed(limit: number): Promise<void> {
    const due = this.lastUsedOnDisk.due(this.accounts.values(), limit);
    await Promise.all(
      due.map(async (id) => {
        try {
          await this.writeThrough(
            id,
            'used',
            (current) => {
              const next = withNewerLastUsed(current, this.accounts.get(id));
              return next === current ? undefined : next;
            },
            { local: false },
          );
        } catch (err) {
          this.log.warn(`[pool] could not save last_used of ${this.emailOf(id)}: ${messageOf(err)}`);
        }
      }),
    );
  }

  /** The background flusher: report uses not yet reported, save a batch unless the last run still writes. */
  private lastUsedTick(): void {
    if (this.usedUnreported) this.reportUsed(this.now());
    if (this.lastUsedSaving === undefined) void this.flushLastUsed();
  }

  // ---- user actions ------------------------------------------------------------------------

  /**
   * Upsert keyed by email (section 4): replaces both tokens, clears `disabled*` when a token
   * changed, keeps `proxy_disabled`, then reloads the pool.
   */
  async upsert(input: UpsertInput): Promise<{ account: Account; created: boolean; reenabled: boolean }> {
    let reenabled = false;
    let tokenChanged = false;
    const { account, created } = await this.store.upsertByEmail(input.email, (current) => {
      reenabled = false;
      tokenChanged = false;
      if (!current) {
        return newAccount({
          id: '',
          email: input.email,
          name: input.name ?? null,
          token: { ...input.token },
          project_id: input.project_id ?? null,
          location: input.location ?? null,
          now: this.nowSeconds(),
        });
      }
      tokenChanged =
        current.token.refresh_token !== input.token.refresh_token || current.token.access_token !== input.token.access_token;
      // The in-memory last_used rides along, as with every write of the account.
      let next: Account = {
        ...withNewerLastUsed(current, this.accounts.get(current.id)),
        token: { ...input.token },
        name: input.name !== undefined ? input.name : (current.name ?? null),
        project_id: input.project_id !== undefined ? input.project_id : (current.project_id ?? null),
        location: input.location !== undefined ? input.location : (current.location ?? null),
      };
      if (tokenChanged && current.disabled) {
        next = withEnabled(next);
        reenabled = true;
      }
      return next;
    });
    if (reenabled) this.log.info(`[pool] Re-enabled account (${account.email}): token changed on re-add`);
    if (tokenChanged && this.cooldowns.forget(account.id)) this.selector.wake();
    await this.reload();
    return { account, created, reenabled };
  }

  /**
   * The user's proxy-disable / proxy-enable (reason `manual`). Enabling also ends quota protection
   * and the account's cooldowns: the user asked for it to serve.
   */
  async setProxyDisabled(accountId: string, disabled: boolean): Promise<void> {
    const nowS = this.nowSeconds();
    const written = await this.writeThrough(
      accountId,
      'proxy_disabled',
      (current) => {
        if (disabled) {
          const manual = current.proxy_disabled && current.proxy_disabled_reason === PROXY_DISABLED_MANUAL;
          return manual ? undefined : withProxyDisabled(current, { reason: PROXY_DISABLED_MANUAL, now: nowS });
        }
        return current.proxy_disabled ? withProxyDisabled(current, null) : undefined;
      },
      { local: false },
    );
    if (!written) throw new AccountNotFoundError(accountId);
    if (!disabled && this.cooldowns.forget(accountId)) {
      this.selector.wake();
      this.signal.changed('cooldown');
    }
  }

  async remove(accountId: string): Promise<void> {
    const removed = await this.store.remove(accountId);
    if (!removed && !this.accounts.has(accountId)) throw new AccountNotFoundError(accountId);
    if (this.accounts.has(accountId)) this.dropAccount(accountId);
  }

  resetCooldowns(): void {
    if (this.cooldowns.resetAll()) {
      this.selector.wake();
      this.signal.scheduleExpiry();
    }
    this.signal.changed('reset');
  }

  // ---- reading state -------------------------------------------------------------------------

  counts(): PoolCounts {
    const now = this.now();
    const nowS = Math.floor(now / 1000);
    const counts: PoolCounts = { total: 0, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 0 };
    for (const account of this.accounts.values()) {
      const until = this.cooldowns.accountUntil(account.id, now);
      counts.total++;
      counts[accountState(account, nowS, until === null ? null : until / 1000)]++;
    }
    return counts;
  }

  availability(model?: string): Availability {
    const now = this.now();
    const blocked = this.blockedFor(model ?? ACCOUNT_WIDE);
    let eligibleForModel = 0;
    let earliest: number | null = null;
    for (const id of this.order) {
      if (!this.selector.has(id)) continue;
      const until = blocked(id);
      if (until <= now) eligibleForModel++;
      else if (earliest === null || until < earliest) earliest = until;
    }
    return { ...this.counts(), eligibleForModel, earliestCooldownEnd: earliest === null ? null : Math.ceil(earliest / 1000) };
  }

  /** Section 8 objects for every account (disabled and proxy_disabled included); never a token. */
  summaries(): AccountSummary[] {
    const now = this.now();
    const nowS = Math.floor(now / 1000);
    return this.order.map((id) => summarizeAccount(this.accounts.get(id)!, nowS, this.cooldowns.list(id, now)));
  }

  /** Resolves true when some account can serve `model`, false after `maxWaitMs` or on abort. */
  waitForEligible(model: string, maxWaitMs: number, signal?: AbortSignal): Promise<boolean> {
    const eligible = () => !this.disposed && this.availability(model).eligibleForModel > 0;
    if (eligible()) return Promise.resolve(true);
    if (maxWaitMs <= 0 || signal?.aborted || this.disposed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        subscription.dispose();
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(finish);
        resolve(result);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(eligible()), maxWaitMs);
      // Cooldown ends arrive here too: the expiry timer fires a change at the earliest end.
      const subscription = this.signal.onChangeNow(() => {
        if (eligible()) finish(true);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(finish);
    });
  }

  /**
   * Resolves once every write the pool has started (state, a last_used run) and every watch change
   * is done. It starts none: the dirty last_used values wait for the flusher, or dispose.
   */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    await this.watchQueue;
  }

  /** Stops the pool; starts a last save of the longest-unsaved last_used values (bounded), which flush() waits for. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.lastUsedTimer);
    void this.flushLastUsed(LAST_USED_FINAL_BATCH);
    this.signal.dispose();
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers.clear();
    for (const finish of [...this.waiters]) finish(false);
  }

  // ---- internals -----------------------------------------------------------------------------

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private emailOf(id: string): string {
    return this.accounts.get(id)?.email ?? id;
  }

  /** Until when each account cannot serve `model` (unix ms): cooldowns and quota protection. */
  private blockedFor(model: string): BlockedUntil {
    return (id) => {
      const until = this.cooldowns.blockedUntil(id, model);
      const quotaUntil = proxyDisabledUntilMs(this.accounts.get(id));
      return quotaUntil > until ? quotaUntil : until;
    };
  }

  /** The earliest cooldown or quota-protection end after `now` (unix ms), for the expiry timer. */
  private nextBlockEnd(now: number): number | null {
    let next = this.cooldowns.nextEnd(now);
    for (const account of this.accounts.values()) {
      const until = proxyDisabledUntilMs(account);
      if (until > now && (next === null || until < next)) next = until;
    }
    return next;
  }

  private rebuildEligible(): void {
    this.selector.setEligible(this.order.filter((id) => isSelectable(this.accounts.get(id)!)));
  }

  /** Puts a record from disk (or a write's result) in place; keeps the newer in-memory last_used. */
  private setRecord(record: Account, reason: string): void {
    const previous = this.accounts.get(record.id);
    const next = withNewerLastUsed(record, previous);
    if (previous && sameJson(previous, next)) return;
    this.accounts.set(next.id, next);
    this.sequence.touch(next.id);
    if (!previous) this.order.push(next.id);
    if (!previous || isSelectable(previous) !== isSelectable(next)) this.rebuildEligible();
    if (previous && blockingChanged(previous, next)) this.selector.wake();
    if (previous && previous.token.refresh_token !== next.token.refresh_token && this.cooldowns.forget(next.id)) this.selector.wake();
    this.signal.scheduleExpiry();
    this.signal.changed(reason);
  }

  private dropAccount(id: string): void {
    this.accounts.delete(id);
    this.sequence.touch(id);
    this.order = this.order.filter((other) => other !== id);
    this.forgetAccount(id);
    this.rebuildEligible();
    this.signal.changed('removed');
  }

  private forgetAccount(id: string): void {
    this.cooldowns.forget(id);
    this.lastUsedOnDisk.forget(id);
  }

  /**
   * A locked read-modify-write of one account. With `local` (the default) the change is applied
   * in memory at once, so the selection reacts before the disk does. The record as written (or as
   * found, when `mutate` changed nothing) then replaces memory, unless a later local write is still
   * in flight (its result will). Undefined, and the account dropped, when the file is gone. Every
   * change written carries the in-memory last_used when that is later than the file's.
   */
  private async writeThrough(
    id: string,
    reason: string,
    mutate: (current: Account) => Account | undefined,
    opts: { local: boolean } = { local: true },
  ): Promise<Account | undefined> {
    const carrying = (current: Account): Account | undefined => {
      const next = mutate(current);
      return next && withNewerLastUsed(next, this.accounts.get(id));
    };
    this.sequence.writeStarted(id);
    try {
      const local = this.accounts.get(id);
      const updated = opts.local && local ? carrying(local) : undefined;
      if (updated) this.setRecord(updated, reason);
      const written = await this.store.update(id, carrying);
      if (this.sequence.isOnlyWrite(id)) {
        if (written === undefined) {
          if (this.accounts.has(id)) this.dropAccount(id);
        } else {
          this.lastUsedOnDisk.saved(id, written.last_used);
          this.setRecord(written, reason);
        }
      }
      return written;
    } finally {
      this.sequence.writeEnded(id);
    }
  }

  /** A background write: logged if it fails, awaited by flush(). */
  private track(work: Promise<unknown>, what: string): void {
    const done: Promise<void> = work
      .then(
        () => undefined,
        (err: unknown) => this.log.warn(`[pool] could not save ${what}: ${messageOf(err)}`),
      )
      .finally(() => this.writes.delete(done));
    this.writes.add(done);
  }
}

/** Until when proxy_disabled blocks the account by its `_until` (unix ms); 0 without one. */
function proxyDisabledUntilMs(account: Account | undefined): number {
  return account?.proxy_disabled && account.proxy_disabled_until !== null ? account.proxy_disabled_until * 1000 : 0;
}

function leaseOf(account: Account, accessToken: string): Lease {
  return {
    accountId: account.id,
    email: account.email,
    accessToken,
    projectId: account.project_id ?? null,
    location: account.location ?? null,
  };
}

/** Structural equality of two JSON values, key order ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
