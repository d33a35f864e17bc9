/**
 * The last_used flusher (see lastUsed.ts for why last_used stays off the request path). A success
 * sets the account's last_used in memory only; every interval the flusher saves a bounded batch of
 * the accounts memory is ahead on, and reports uses in at most one `used` change event per interval.
 */
import { withNewerLastUsed, type Account } from './account';
import type { Disposable } from './disposable';
import { LAST_USED_BATCH, LAST_USED_FINAL_BATCH } from './lastUsed';
import { messageOf, type PoolState } from './poolState';

export class LastUsedFlusher implements Disposable {
  private readonly timer: NodeJS.Timeout;
  /** The run in flight: runs follow each other, never overlap. */
  private saving: Promise<void> | undefined;
  /** When the last `used` change event fired (unix ms), and whether a use since then is unreported. */
  private usedEventAt = Number.NEGATIVE_INFINITY;
  private usedUnreported = false;

  constructor(
    private readonly state: PoolState,
    private readonly intervalMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The account served at `now`: its last_used in memory, for the flusher (or its next write) to save. */
  used(account: Account, now: number): void {
    const nowS = Math.floor(now / 1000);
    if ((account.last_used ?? 0) >= nowS) return;
    this.state.accounts.set(account.id, { ...account, last_used: nowS });
    this.usedChanged(now);
  }

  /**
   * Saves the last_used of at most `limit` accounts whose file is behind memory, the longest
   * unsaved first; the background timer calls it every interval (and dispose once). Runs follow
   * each other; the pool's flush() waits for them too.
   */
  flush(limit = LAST_USED_BATCH): Promise<void> {
    const previous = this.saving ?? Promise.resolve();
    const saving: Promise<void> = previous
      .then(() => this.save(limit))
      .finally(() => {
        if (this.saving === saving) this.saving = undefined;
      });
    this.saving = saving;
    this.state.track(saving, 'last_used');
    return saving;
  }

  /** Stops the timer; starts a last save of the longest-unsaved values (bounded), not waited for. */
  dispose(): void {
    clearInterval(this.timer);
    void this.flush(LAST_USED_FINAL_BATCH);
  }

  /** A `used` change event at most once per interval: at once after a quiet spell, else at the next run. */
  private usedChanged(now: number): void {
    if (now - this.usedEventAt < this.intervalMs) this.usedUnreported = true;
    else this.reportUsed(now);
  }

  private reportUsed(now: number): void {
    this.usedEventAt = now;
    this.usedUnreported = false;
    this.state.signal.changed('used');
  }

  private async save(limit: number): Promise<void> {
    const { state } = this;
    const due = state.lastUsedOnDisk.due(state.accounts.values(), limit);
    await Promise.all(
      due.map(async (id) => {
        try {
          await state.writeThrough(
            id,
            'used',
            (current) => {
              const next = withNewerLastUsed(current, state.accounts.get(id));
              return next === current ? undefined : next;
            },
            { local: false },
          );
        } catch (err) {
          state.log.warn(`[pool] could not save last_used of ${state.emailOf(id)}: ${messageOf(err)}`);
        }
      }),
    );
  }

  /** Each interval: report uses not yet reported, save a batch unless the last run still writes. */
  private tick(): void {
    if (this.usedUnreported) this.reportUsed(this.state.now());
    if (this.saving === undefined) void this.flush();
  }
}
