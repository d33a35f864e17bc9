/**
 * last_used off the request path. A success sets the account's last_used in memory only: every
 * write of an account file is a locked read-modify-write (DESIGN section 3), far too dear per
 * request once a large pool spreads its requests over thousands of files. The pool saves
 * last_used with any write it makes for the account anyway (a token refresh, a disable, quota
 * protection, a proxy toggle), and a background flusher saves the rest a bounded number at a
 * time. This ledger remembers what each account's file holds and picks what to save next.
 */

/** How often the flusher runs; also the least time between two `used` change events. */
export const LAST_USED_FLUSH_MS = 60_000;
/** Accounts one flusher run saves: a small pool stays within a run, a 10,000-account one costs a few writes a minute. */
export const LAST_USED_BATCH = 16;
/** Accounts saved on dispose (best effort, started and not waited for). */
export const LAST_USED_FINAL_BATCH = 64;

export class LastUsedLedger {
  /** Each account's last_used as its file held it when last read or written. */
  private readonly onDisk = new Map<string, number | null>();

  /** The account's file was read or written, and holds this last_used. */
  saved(id: string, lastUsed: number | null): void {
    this.onDisk.set(id, lastUsed);
  }

  forget(id: string): void {
    this.onDisk.delete(id);
  }

  /**
   * At most `limit` of `accounts` whose last_used in memory is later than in their file, the
   * longest unsaved first (an account whose file has none, or that was never read, before all).
   */
  due(accounts: Iterable<{ id: string; last_used: number | null }>, limit: number): string[] {
    const dirty: { id: string; onDisk: number }[] = [];
    for (const { id, last_used } of accounts) {
      if (last_used === null) continue;
      const onDisk = this.onDisk.get(id) ?? null;
      if (onDisk === null || last_used > onDisk) dirty.push({ id, onDisk: onDisk ?? Number.MIN_SAFE_INTEGER });
    }
    return dirty
      .sort((a, b) => a.onDisk - b.onDisk)
      .slice(0, limit)
      .map((d) => d.id);
  }
}
