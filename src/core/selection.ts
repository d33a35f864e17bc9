/**
 * Which account serves the next request (DESIGN section 5): `round-robin` (default), `fill-first`,
 * and session affinity. No I/O and no clock: the caller says which accounts are eligible at all
 * (`setEligible`), and at pick time until when each one is blocked for the model (cooldowns, quota
 * protection), with `now` in the same unit.
 *
 * Choosing is O(1) amortised in the pool size. Each model keeps a rotation of ready ids: a FIFO
 * queue for round-robin (take the head, put it back at the tail), a min-heap by pool order for
 * fill-first (take the first, put it back in place). An id found blocked is parked in a heap keyed
 * by the end of its block and comes back when that time passes, so a cooling account costs one
 * park and one unpark, not a skip on every pick. A change of the eligible set (or cooldowns cleared
 * early) rebuilds the rotations lazily, continuing after the last id each one chose.
 */
import type { RoutingStrategy } from './config';

export interface PickOptions {
  /** A client-given session key: keeps its account while that account stays eligible. */
  sessionKey?: string;
  /** Ids not to choose this time (already tried by this request). */
  exclude?: ReadonlySet<string>;
}

/** Until when `id` cannot serve the model being picked for (same unit as `now`); <= now means free. */
export type BlockedUntil = (id: string) => number;

export interface SelectorLimits {
  /** Models with their own rotation; the least recently used is dropped past this. */
  models: number;
  /** Remembered session keys; the least recently used is dropped past this. */
  sessions: number;
}

const DEFAULT_LIMITS: SelectorLimits = { models: 64, sessions: 10_000 };

export class Selector {
  private order: string[] = [];
  private readonly rank = new Map<string, number>();
  /** Bumped when the eligible set changes or blocks are lifted early: rotations rebuild. */
  private version = 0;
  private readonly rotations = new Map<string, Rotation>();
  private readonly sessions = new Map<string, string>();

  constructor(
    readonly strategy: RoutingStrategy,
    private readonly limits: SelectorLimits = DEFAULT_LIMITS,
  ) {}

  /** The eligible ids, in pool order (fill-first uses the first one that is free). */
  setEligible(ids: readonly string[]): void {
    this.order = [...ids];
    this.rank.clear();
    this.order.forEach((id, i) => this.rank.set(id, i));
    this.version++;
  }

  has(id: string): boolean {
    return this.rank.has(id);
  }

  /** Blocks were lifted before their end (a success, "reset cooldowns"): parked ids are looked at again. */
  wake(): void {
    this.version++;
  }

  /** The id to serve `model` now, or undefined when every eligible id is blocked or excluded. */
  pick(model: string, blockedUntil: BlockedUntil, now: number, opts: PickOptions = {}): string | undefined {
    const { sessionKey, exclude } = opts;
    if (sessionKey !== undefined) {
      const sticky = this.sessions.get(sessionKey);
      if (sticky !== undefined && this.rank.has(sticky) && !exclude?.has(sticky) && blockedUntil(sticky) <= now) {
        this.remember(sessionKey, sticky);
        return sticky;
      }
    }
    const rotation = this.rotation(model);
    rotation.unpark(now);
    const { ready } = rotation;
    let chosen: string | undefined;
    const skipped: string[] = [];
    for (let id = ready.peek(); id !== undefined; id = ready.peek()) {
      const until = blockedUntil(id);
      if (until > now) rotation.park(ready.pop()!, until);
      else if (exclude?.has(id)) skipped.push(ready.pop()!);
      else {
        chosen = id;
        break;
      }
    }
    for (const id of skipped) ready.push(id);
    if (chosen === undefined) return undefined;
    // Round-robin sends the chosen one to the back; fill-first leaves it first.
    if (this.strategy === 'round-robin') ready.push(ready.pop()!);
    rotation.last = chosen;
    if (sessionKey !== undefined) this.remember(sessionKey, chosen);
    return chosen;
  }

  private rotation(model: string): Rotation {
    let rotation = this.rotations.get(model);
    if (rotation) {
      this.rotations.delete(model);
    } else if (this.rotations.size >= this.limits.models) {
      this.rotations.delete(this.rotations.keys().next().value as string);
    }
    if (!rotation || rotation.version !== this.version) rotation = this.build(rotation?.last);
    this.rotations.set(model, rotation);
    return rotation;
  }

  private build(last: string | undefined): Rotation {
    const rotation = new Rotation(this.version);
    if (this.strategy === 'fill-first') {
      rotation.ready = new ByRank(this.order, this.rank);
    } else {
      const start = last === undefined ? 0 : (this.rank.get(last) ?? -1) + 1;
      rotation.ready = new Fifo([...this.order.slice(start), ...this.order.slice(0, start)]);
    }
    rotation.last = last;
    return rotation;
  }

  private remember(sessionKey: string, id: string): void {
    this.sessions.delete(sessionKey);
    if (this.sessions.size >= this.limits.sessions) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(sessionKey, id);
  }
}

interface ReadyList {
  peek(): string | undefined;
  pop(): string | undefined;
  push(id: string): void;
}

/** One model's rotation: ids ready to serve, and ids parked until their block ends. */
class Rotation {
  ready: ReadyList = new Fifo([]);
  last: string | undefined;
  private readonly parked = new MinHeap<{ id: string; until: number }>((a, b) => a.until < b.until);

  constructor(readonly version: number) {}

  park(id: string, until: number): void {
    this.parked.push({ id, until });
  }

  unpark(now: number): void {
    for (let top = this.parked.peek(); top !== undefined && top.until <= now; top = this.parked.peek()) {
      this.parked.pop();
      this.ready.push(top.id);
    }
  }
}

/** A queue with O(1) amortised push and pop (the array is compacted once half of it is consumed). */
class Fifo implements ReadyList {
  private head = 0;
  constructor(private items: string[]) {}

  push(id: string): void {
    this.items.push(id);
  }

  peek(): string | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  pop(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const id = this.items[this.head++];
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return id;
  }
}

/** Ready ids by pool order, first one on top (fill-first). */
class ByRank implements ReadyList {
  private readonly heap: MinHeap<number>;

  constructor(
    private readonly order: readonly string[],
    private readonly rank: ReadonlyMap<string, number>,
  ) {
    this.heap = new MinHeap<number>((a, b) => a < b, order.map((_, i) => i));
  }

  peek(): string | undefined {
    const top = this.heap.peek();
    return top === undefined ? undefined : this.order[top];
  }

  pop(): string | undefined {
    const top = this.heap.pop();
    return top === undefined ? undefined : this.order[top];
  }

  push(id: string): void {
    this.heap.push(this.rank.get(id)!);
  }
}

/** A binary min-heap under `less`. */
class MinHeap<T> {
  private readonly items: T[];

  /** `sorted` (ascending under `less`) is already a valid heap. */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    sorted: readonly T[] = [],
  ) {
    this.items = [...sorted];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left], items[smallest])) smallest = left;
        if (right < items.length && this.less(items[right], items[smallest])) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest], items[i]];
        i = smallest;
      }
    }
    return top;
  }
}
