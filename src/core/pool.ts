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
 *
 * The parts, beside this file: poolState.ts (the accounts, cooldowns, selection and the locked
 * write), refresh.ts (single-flight refresh and its failures), outcomes.ts (failover decisions
 * carried out), lastUsedFlusher.ts, poolLoader.ts (the scan and the watched files). This file is
 * the public face.
 */
import {
  PROXY_DISABLED_MANUAL,
  hasFreshToken,
  newAccount,
  withEnabled,
  withNewerLastUsed,
  withProxyDisabled,
  type Account,
  type AccountSummary,
  type AccountToken,
} from './account';
import type { Config } from './config';
import type { Disposable } from './disposable';
import { AccountNotFoundError, OAuthError } from './errors';
import type { Decision, Outcome } from './failover';
import { LAST_USED_FLUSH_MS } from './lastUsed';
import { LastUsedFlusher } from './lastUsedFlusher';
import type { Logger } from './log';
import type { GoogleOAuth } from './oauth';
import { OutcomeApplier } from './outcomes';
import { PoolLoader } from './poolLoader';
import { PoolState, type Availability, type PoolCounts } from './poolState';
import { TokenRefresher } from './refresh';
import type { AccountStore } from './store';
import type { Limiter } from './usage/headroom';

export type { Availability, PoolCounts } from './poolState';

export interface Lease {
  accountId: string;
  email: string;
  accessToken: string;
  projectId: string | null;
  location: string | null;
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

export class TokenPool implements Disposable {
  private readonly state: PoolState;
  private readonly refresher: TokenRefresher;
  private readonly outcomes: OutcomeApplier;
  private readonly lastUsed: LastUsedFlusher;
  private readonly loader: PoolLoader;

  private readonly store: AccountStore;
  private readonly log: Logger;
  private readonly routing: Config['routing'];

  readonly onDidChange: PoolState['signal']['onDidChange'];

  constructor(options: PoolOptions) {
    this.store = options.store;
    this.log = options.log;
    this.routing = options.routing;
    const state = new PoolState(options.store, options.log, options.now ?? Date.now, options.routing.strategy);
    this.state = state;
    this.onDidChange = state.signal.onDidChange;
    this.lastUsed = new LastUsedFlusher(state, options.lastUsedFlushMs ?? LAST_USED_FLUSH_MS);
    this.refresher = new TokenRefresher(state, options.oauth, (...args) => this.outcomes.apply(...args));
    this.outcomes = new OutcomeApplier(state, this.lastUsed, (...args) => this.refresher.reported(...args));
    this.loader = new PoolLoader(state, options.store, options.log, this.outcomes);
  }

  // ---- loading (poolLoader.ts) --------------------------------------------------------------

  /** Initial load: disabled accounts first (skipped), then quota protection and proxy_disabled. */
  load(): Promise<void> {
    return this.loader.scan('Loaded', 'load');
  }

  /** Full rescan; the new set replaces the old in one step, so a request never sees an empty pool. */
  reload(): Promise<void> {
    return this.loader.scan('Reloaded', 'reload');
  }

  /** Applies changes to account files made by other processes or by hand, one file at a time. */
  startWatching(): Disposable {
    return this.loader.startWatching();
  }

  // ---- choosing and tokens -----------------------------------------------------------------

  /**
   * An eligible account for `model` with a fresh access token, or undefined when none is eligible.
   * A failed refresh applies its failover decision and moves on to the next account.
   */
  async acquire(model: string, opts: { sessionKey?: string; exclude?: ReadonlySet<string> } = {}): Promise<Lease | undefined> {
    let tried: Set<string> | undefined;
    while (!this.state.disposed) {
      const now = this.state.now();
      const id = this.state.selector.pick(model, this.state.blockedFor(model), now, {
        sessionKey: opts.sessionKey,
        exclude: tried ?? opts.exclude,
      });
      if (id === undefined) return undefined;
      const account = this.state.accounts.get(id)!;
      if (hasFreshToken(account, Math.floor(now / 1000), this.routing.refresh_skew_s)) {
        this.state.limiter?.leased(account.email, model, now);
        return leaseOf(account, account.token.access_token);
      }
      try {
        const tokens = await this.refresher.refresh(id, 'acquire');
        const current = this.state.accounts.get(id);
        // Disabled or removed by someone else while the refresh was in flight: not this one.
        if (current && this.state.selector.has(id)) {
          this.state.limiter?.leased(current.email, model, this.state.now());
          return leaseOf(current, tokens.access_token);
        }
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
    return (await this.refresher.refresh(accountId, 'force')).access_token;
  }

  /** Refresh now and say how it went (CLI `accounts check`, "Refresh Token Now"). invalid_grant disables. */
  async check(accountId: string): Promise<{ ok: true; expiry: number } | { ok: false; error: OAuthError }> {
    if (!this.state.accounts.has(accountId)) throw new AccountNotFoundError(accountId);
    try {
      const tokens = await this.refresher.refresh(accountId, 'check');
      return { ok: true, expiry: tokens.expiry_timestamp };
    } catch (err) {
      if (err instanceof OAuthError) return { ok: false, error: err };
      throw err;
    }
  }

  /**
   * `routing.limits` (DESIGN section 11): the limiter is asked while choosing and told of each
   * account handed out. The proxy that serves from this pool sets it.
   */
  useLimiter(limiter: Limiter | undefined): void {
    this.state.limiter = limiter;
    this.state.selector.wake();
  }

  /** Token refreshes per account and result since the pool started (`ok`, `invalid_grant`, `client_mismatch`, `error`). */
  refreshCounts(): { account: string; result: string; count: number }[] {
    return [...this.state.refreshes.values()].map((r) => ({ ...r }));
  }

  // ---- outcomes ------------------------------------------------------------------------------

  /**
   * Applies the failover decision for an upstream outcome to the account (outcomes.ts) and returns
   * it, so the attempt loop knows whether to retry.
   */
  report(accountId: string, model: string, outcome: Outcome, ctx: { already401?: boolean } = {}): Decision {
    return this.outcomes.report(accountId, model, outcome, ctx);
  }

  /**
   * Saves the last_used of at most `limit` accounts whose file is behind memory, the longest
   * unsaved first (the background flusher does this every interval). flush() waits for it too.
   */
  flushLastUsed(limit?: number): Promise<void> {
    return this.lastUsed.flush(limit);
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
          now: this.state.nowSeconds(),
        });
      }
      tokenChanged =
        current.token.refresh_token !== input.token.refresh_token || current.token.access_token !== input.token.access_token;
      // The in-memory last_used rides along, as with every write of the account.
      let next: Account = {
        ...withNewerLastUsed(current, this.state.accounts.get(current.id)),
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
    if (tokenChanged && this.state.cooldowns.forget(account.id)) this.state.selector.wake();
    await this.reload();
    return { account, created, reenabled };
  }

  /**
   * The user's proxy-disable / proxy-enable (reason `manual`). Enabling also ends quota protection
   * and the account's cooldowns: the user asked for it to serve.
   */
  async setProxyDisabled(accountId: string, disabled: boolean): Promise<void> {
    const nowS = this.state.nowSeconds();
    const written = await this.state.writeThrough(
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
    if (!disabled && this.state.cooldowns.forget(accountId)) {
      this.state.selector.wake();
      this.state.signal.changed('cooldown');
    }
  }

  async remove(accountId: string): Promise<void> {
    const removed = await this.store.remove(accountId);
    if (!removed && !this.state.accounts.has(accountId)) throw new AccountNotFoundError(accountId);
    if (this.state.accounts.has(accountId)) this.state.dropAccount(accountId);
  }

  resetCooldowns(): void {
    if (this.state.cooldowns.resetAll()) {
      this.state.selector.wake();
      this.state.signal.scheduleExpiry();
    }
    this.state.signal.changed('reset');
  }

  // ---- reading state -------------------------------------------------------------------------

  counts(): PoolCounts {
    return this.state.counts();
  }

  availability(model?: string): Availability {
    return this.state.availability(model);
  }

  /** Google's 404 message for `model` when every eligible account found it missing in its project (DESIGN section 5). */
  modelMissingEverywhere(model: string): { message: string; email: string; projectId: string | null } | undefined {
    return this.state.modelMissingEverywhere(model);
  }

  /** Section 8 objects for every account (disabled and proxy_disabled included); never a token. */
  summaries(): AccountSummary[] {
    return this.state.summaries();
  }

  /** Resolves true when some account can serve `model`, false after `maxWaitMs` or on abort. */
  waitForEligible(model: string, maxWaitMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.state.waitForEligible(model, maxWaitMs, signal);
  }

  /**
   * Resolves once every write the pool has started (state, a last_used run) and every watch change
   * is done. It starts none: the dirty last_used values wait for the flusher, or dispose.
   */
  async flush(): Promise<void> {
    await this.state.flushWrites();
    await this.loader.settled();
  }

  /** Stops the pool; starts a last save of the longest-unsaved last_used values (bounded), which flush() waits for. */
  dispose(): void {
    if (this.state.disposed) return;
    this.lastUsed.dispose();
    this.state.dispose();
    this.loader.dispose();
  }
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
