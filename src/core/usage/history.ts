/**
 * The last requests in memory (DESIGN section 11: 1,000), newest first when listed, and the
 * listeners that follow new ones live. A fixed ring: adding never allocates past the first lap.
 */
import type { Disposable } from '../disposable';
import { matchesFilter, type RequestFilter } from './query';
import type { RequestRecord } from './record';

export const HISTORY_SIZE = 1000;

export class RequestHistory {
  private readonly ring: (RequestRecord | undefined)[];
  private next = 0;
  private size = 0;
  private readonly listeners = new Set<(r: RequestRecord) => void>();

  constructor(readonly capacity = HISTORY_SIZE) {
    this.ring = new Array<RequestRecord | undefined>(capacity);
  }

  add(r: RequestRecord): void {
    this.ring[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    for (const listener of this.listeners) listener(r);
  }

  /** Newest first, at most `filter.limit`, passing the filter. */
  list(filter: RequestFilter): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = 1; i <= this.size && out.length < filter.limit; i++) {
      const r = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      if (matchesFilter(r, filter)) out.push(r);
    }
    return out;
  }

  /** Calls `listener` with each request added from now on. */
  follow(listener: (r: RequestRecord) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}
