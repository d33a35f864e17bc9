/**
 * Keeps the pool in step with the account files (DESIGN section 4): the full scan at load and
 * reload (disabled and proxy_disabled accounts skipped, lapsed quota protection cleared), and the
 * changes other processes or a hand edit make to one file, applied one at a time through
 * store.watch. What memory changed while a file was read is newer and kept. TokenPool is its only
 * user.
 */
import { byPoolOrder, PROXY_DISABLED_MANUAL, quotaProtectionLapsed, withNewerLastUsed, withProxyDisabled, type Account } from './account';
import type { Disposable } from './disposable';
import type { Logger } from './log';
import type { OutcomeApplier } from './outcomes';
import { messageOf, type PoolState } from './poolState';
import type { AccountStore, StoreChange } from './store';

export class PoolLoader implements Disposable {
  private watchQueue: Promise<void> = Promise.resolve();
  private readonly watchers = new Set<Disposable>();

  constructor(
    private readonly state: PoolState,
    private readonly store: AccountStore,
    private readonly log: Logger,
    private readonly outcomes: OutcomeApplier,
  ) {}

  /** Reads every account file; the new set replaces the old in one step, so a request never sees an empty pool. */
  async scan(verb: 'Loaded' | 'Reloaded', reason: string): Promise<void> {
    const mark = this.state.sequence.mark();
    const { accounts } = await this.store.loadAll();
    accounts.sort(byPoolOrder);
    const nowS = this.state.nowSeconds();
    const next = new Map<string, Account>();
    const lapsed: string[] = [];
    for (const found of accounts) {
      if (this.state.sequence.changedSince(found.id, mark)) continue; // memory is newer: kept below
      this.state.lastUsedOnDisk.saved(found.id, found.last_used);
      let account = withNewerLastUsed(found, this.state.accounts.get(found.id));
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
    for (const [id, local] of this.state.accounts) if (this.state.sequence.changedSince(id, mark)) next.set(id, local);
    for (const id of this.state.accounts.keys()) if (!next.has(id)) this.state.forgetAccount(id);
    this.state.accounts = next;
    this.state.order = [...next.values()].sort(byPoolOrder).map((a) => a.id);
    this.state.rebuildEligible();

    await Promise.all(lapsed.map((id) => this.outcomes.clearLapsedQuota(id)));
    const c = this.state.counts();
    // "healthy" here is every account the pool can use, cooling ones included (cooldowns are not
    // part of the files a load reads).
    this.log.info(`[pool] ${verb} account pool: ${c.healthy + c.cooling} healthy, ${c.proxy_disabled} proxy_disabled, ${c.disabled} disabled`);
    this.state.signal.scheduleExpiry();
    this.state.signal.changed(reason);
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
    if (this.state.disposed) return;
    const { id } = change;
    const mark = this.state.sequence.mark();
    let record: Account | undefined;
    try {
      record = change.kind === 'removed' ? undefined : await this.store.read(id);
    } catch (err) {
      // A file being edited by hand may not parse for a moment: keep what we had.
      this.log.warn(`[pool] ignoring a change to account ${id}: ${messageOf(err)}`);
      return;
    }
    if (this.state.disposed || this.state.sequence.changedSince(id, mark)) return;
    if (record === undefined) {
      if (this.state.accounts.has(id)) this.state.dropAccount(id);
      return;
    }
    this.state.lastUsedOnDisk.saved(id, record.last_used);
    this.state.setRecord(record, this.state.accounts.has(id) ? 'changed' : 'added');
  }

  /** Resolves once every watched change so far is applied. */
  settled(): Promise<void> {
    return this.watchQueue;
  }

  dispose(): void {
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers.clear();
  }
}
