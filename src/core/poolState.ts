/**
 * PoolState: what the pool knows about its accounts, and the one way it changes them. It holds
 * every account from the store by id and in pool order, the cooldowns (memory only), the selector
 * over the eligible ones and the change signal. Persisted state is written through writeThrough,
 * the store's locked read-modify-write, so nothing the pool writes undoes another process's change.
 * The pool's parts (refresh.ts, outcomes.ts, lastUsedFlusher.ts) share one PoolState.
 */
import {
  accountState,
  blockingChanged,
  isSelectable,
  summarizeAccount,
  withNewerLastUsed,
  type Account,
  type AccountSummary,
} from './account';
import { ChangeSequence } from './changeSequence';
import { ChangeSignal } from './changeSignal';
import type { Config } from './config';
import { ACCOUNT_WIDE, Cooldowns } from './cooldowns';
import { LastUsedLedger } from './lastUsed';
import type { Logger } from './log';
import { Selector, type BlockedUntil } from './selection';
import type { AccountStore } from './store';
import type { Limiter } from './usage/headroom';

export interface Availability {
  total: number;
  healthy: number;
  cooling: number;
  proxy_disabled: number;
  disabled: number;
  /** Accounts that could serve the model right now. */
  eligibleForModel: number;
  /** Accounts free of cooldowns but at one of `routing.limits` for the model. */
  limited: number;
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

export class PoolState {
  /** Every account, disabled and proxy_disabled included, by id. */
  accounts = new Map<string, Account>();
  /** Ids in pool order: oldest first (fill-first uses the first that is free). */
  order: string[] = [];
  readonly selector: Selector;
  readonly cooldowns = new Cooldowns();
  /** What each file's last_used is, so the flusher saves only the accounts memory is ahead on. */
  readonly lastUsedOnDisk = new LastUsedLedger();
  /** A record read from disk before (or during) a change is older than memory, not applied. */
  readonly sequence = new ChangeSequence();
  /** The change event (at once for waitForEligible, coalesced for views) and the expiry timer. */
  readonly signal = new ChangeSignal({ now: () => this.now(), nextBlockEnd: (now) => this.nextBlockEnd(now) });
  /** `routing.limits`: an account at a limit is blocked for the model until the minute or day is over. */
  limiter: Limiter | undefined;
  /** Refresh results per account email and result, since the pool started (for /metrics). */
  readonly refreshes = new Map<string, { account: string; result: string; count: number }>();
  private readonly writes = new Set<Promise<void>>();
  private readonly waiters = new Set<(eligible: boolean) => void>();
  disposed = false;

  constructor(
    readonly store: AccountStore,
    readonly log: Logger,
    /** Unix milliseconds, like Date.now. */
    readonly now: () => number,
    strategy: Config['routing']['strategy'],
  ) {
    this.selector = new Selector(strategy);
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  emailOf(id: string): string {
    return this.accounts.get(id)?.email ?? id;
  }

  /** Until when each account cannot serve `model` (unix ms): cooldowns and quota protection. */
  blockedFor(model: string): BlockedUntil {
    const cooling = this.coolingFor(model);
    const limiter = this.limiter;
    if (!limiter?.appliesTo(model)) return cooling;
    const now = this.now();
    return (id) => Math.max(cooling(id), limiter.blockedUntil(this.emailOf(id), model, now));
  }

  /** Until when each account cannot serve `model` for cooldowns and quota protection alone (unix ms). */
  private coolingFor(model: string): BlockedUntil {
    return (id) => {
      const until = this.cooldowns.blockedUntil(id, model);
      const quotaUntil = proxyDisabledUntilMs(this.accounts.get(id));
      return quotaUntil > until ? quotaUntil : until;
    };
  }

  countRefresh(id: string, result: string): void {
    const account = this.emailOf(id);
    const key = `${account}\n${result}`;
    const entry = this.refreshes.get(key);
    if (entry) entry.count++;
    else this.refreshes.set(key, { account, result, count: 1 });
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

  rebuildEligible(): void {
    this.selector.setEligible(this.order.filter((id) => isSelectable(this.accounts.get(id)!)));
  }

  /** Puts a record from disk (or a write's result) in place; keeps the newer in-memory last_used. */
  setRecord(record: Account, reason: string): void {
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

  dropAccount(id: string): void {
    this.accounts.delete(id);
    this.sequence.touch(id);
    this.order = this.order.filter((other) => other !== id);
    this.forgetAccount(id);
    this.rebuildEligible();
    this.signal.changed('removed');
  }

  forgetAccount(id: string): void {
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
  async writeThrough(
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

  /** A background write: logged if it fails, awaited by flushWrites(). */
  track(work: Promise<unknown>, what: string): void {
    const done: Promise<void> = work
      .then(
        () => undefined,
        (err: unknown) => this.log.warn(`[pool] could not save ${what}: ${messageOf(err)}`),
      )
      .finally(() => this.writes.delete(done));
    this.writes.add(done);
  }

  /** Resolves once every tracked write, including those started meanwhile, is done. */
  async flushWrites(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

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
    const cooling = this.coolingFor(model ?? ACCOUNT_WIDE);
    let eligibleForModel = 0;
    let limited = 0;
    let earliest: number | null = null;
    for (const id of this.order) {
      if (!this.selector.has(id)) continue;
      const until = blocked(id);
      if (until <= now) eligibleForModel++;
      else {
        if (earliest === null || until < earliest) earliest = until;
        if (cooling(id) <= now) limited++;
      }
    }
    return { ...this.counts(), eligibleForModel, limited, earliestCooldownEnd: earliest === null ? null : Math.ceil(earliest / 1000) };
  }

  /**
   * Google's 404 for `model` when every account that could otherwise serve it (not disabled, not
   * proxy_disabled) found the model missing in its project; undefined while any account may still
   * have it. Names the account whose message it is, so its names can be kept from the client.
   */
  modelMissingEverywhere(model: string): { message: string; email: string; projectId: string | null } | undefined {
    const now = this.now();
    let found: { message: string; email: string; projectId: string | null } | undefined;
    for (const id of this.order) {
      if (!this.selector.has(id)) continue;
      const message = this.cooldowns.modelNotFound(id, model, now);
      if (message === undefined) return undefined;
      const account = this.accounts.get(id)!;
      found ??= { message, email: account.email, projectId: account.project_id ?? null };
    }
    return found;
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

  /** The pool stopped: no more change events, every waitForEligible resolves false. */
  dispose(): void {
    this.disposed = true;
    this.signal.dispose();
    for (const finish of [...this.waiters]) finish(false);
  }
}

/** Until when proxy_disabled blocks the account by its `_until` (unix ms); 0 without one. */
function proxyDisabledUntilMs(account: Account | undefined): number {
  return account?.proxy_disabled && account.proxy_disabled_until !== null ? account.proxy_disabled_until * 1000 : 0;
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

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
