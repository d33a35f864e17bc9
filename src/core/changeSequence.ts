/**
 * Which is newer: the pool's memory, or a record just read from disk? The pool changes an account
 * in memory first and on disk after, and account files also change under it (other processes,
 * hand edits). A reader notes `mark()` before it reads; if `changedSince(id, mark)`
 * afterwards, the account changed in memory meanwhile or a write of it is still in flight, so
 * what was read is older than memory and is not applied.
 */
export class ChangeSequence {
  private seq = 0;
  /** The sequence number of each account's last change in memory. */
  private readonly lastChange = new Map<string, number>();
  /** Writes in flight per account. */
  private readonly writing = new Map<string, number>();

  /** Note this before reading from disk. */
  mark(): number {
    return this.seq;
  }

  /** The account changed in memory (put in place or dropped). */
  touch(id: string): void {
    this.lastChange.set(id, ++this.seq);
  }

  /** Memory is newer than what was read after `mark`. */
  changedSince(id: string, mark: number): boolean {
    return (this.writing.get(id) ?? 0) > 0 || (this.lastChange.get(id) ?? 0) > mark;
  }

  writeStarted(id: string): void {
    this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
    this.touch(id);
  }

  /** This is the account's only write in flight: its result is the newest there is. */
  isOnlyWrite(id: string): boolean {
    return this.writing.get(id) === 1;
  }

  writeEnded(id: string): void {
    const left = (this.writing.get(id) ?? 1) - 1;
    if (left > 0) this.writing.set(id, left);
    else this.writing.delete(id);
    this.touch(id);
  }
}
