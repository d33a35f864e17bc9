/**
 * How the pool tells others that its state changed (STYLE 4: one owner of state, views that
 * subscribe). In-process waiters hear of every change at once (`onChangeNow`, for
 * waitForEligible); views get one event per burst (`onDidChange`: the tree, the status bar, the
 * admin API). A timer at the earliest cooldown or quota-protection end reports `cooldown_ended`,
 * so views and waiters see a block lapse although nothing else happens.
 */
import { Emitter, type Disposable } from './disposable';

export interface PoolChangeEvent {
  /** What changed, comma-separated when a burst was coalesced: `load`, `disabled`, `cooldown`, … */
  reason: string;
}

export interface ChangeSignalOptions {
  /** Unix milliseconds, like Date.now. */
  now: () => number;
  /** The earliest end (unix ms) after `now` of anything that blocks an account, or null. */
  nextBlockEnd: (now: number) => number | null;
}

/** Change events within this window are delivered as one. */
const COALESCE_MS = 25;
/** setTimeout's largest delay; a later end is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ChangeSignal implements Disposable {
  private readonly coalesced = new Emitter<PoolChangeEvent>();
  private readonly immediate = new Emitter<void>();
  private readonly pendingReasons = new Set<string>();
  private coalesceTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt: number | undefined;
  private disposed = false;

  /** One event per burst of changes. */
  readonly onDidChange = this.coalesced.event;
  /** Fired synchronously on every change. */
  readonly onChangeNow = this.immediate.event;

  constructor(private readonly options: ChangeSignalOptions) {}

  /** One change event per burst; in-process waiters hear about it at once. */
  changed(reason: string): void {
    if (this.disposed) return;
    this.immediate.fire();
    this.pendingReasons.add(reason);
    this.coalesceTimer ??= setTimeout(() => {
      this.coalesceTimer = undefined;
      const reasons = [...this.pendingReasons].join(',');
      this.pendingReasons.clear();
      this.coalesced.fire({ reason: reasons });
    }, COALESCE_MS);
  }

  /** (Re)sets the timer at the earliest block end; call after anything that may move it. */
  scheduleExpiry(): void {
    if (this.disposed) return;
    const now = this.options.now();
    const next = this.options.nextBlockEnd(now);
    if (next === this.expiryAt && this.expiryTimer) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = next ?? undefined;
    if (next === null) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryAt = undefined;
      if (this.options.now() >= next) this.changed('cooldown_ended');
      this.scheduleExpiry();
    }, Math.min(Math.max(1, next - now), MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.coalesceTimer);
    clearTimeout(this.expiryTimer);
    this.coalesced.dispose();
    this.immediate.dispose();
  }
}
