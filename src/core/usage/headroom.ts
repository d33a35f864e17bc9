/**
 * Headroom per account × model (DESIGN section 11): requests and tokens this minute and this quota
 * day, the last 429 and the `routing.limits` that apply. Requests are counted when the pool hands
 * an account out (each attempt is a request Google counts), tokens when the request ends. The pool
 * asks `blockedUntil` while choosing, so an account at a limit is skipped before Google says 429.
 */
import { limitBlockedUntil, limitsFor, type LimitValues, type Limits } from './limits';
import { quotaDayOf } from './quotaDay';
import type { RateLimitNote } from './rateLimitNote';
import type { RequestRecord } from './record';

export type { RateLimitNote } from './rateLimitNote';

const MINUTE_MS = 60_000;

interface Counter {
  account: string;
  model: string;
  minuteStartMs: number;
  minuteRequests: number;
  minuteTokens: number;
  day: string;
  dayRequests: number;
  dayTokens: number;
  last429: RateLimitNote | null;
}

export interface HeadroomView {
  model: string;
  minute: { requests: number; tokens: number };
  today: { requests: number; tokens: number };
  /** The limits that apply to this account and model, or null. */
  limits: LimitValues | null;
  last_429: { time: string; retry_delay_s: number | null; quota_id: string | null; window: 'minute' | 'day' | null } | null;
}

/** What the pool asks while choosing; TokenPool.useLimiter takes one. */
export interface Limiter {
  /** Whether any limit applies to the model at all (undefined: the pool skips asking per account). */
  appliesTo(model: string): boolean;
  /** Until when (unix ms) the account may not take a request for the model; 0 when it may. */
  blockedUntil(account: string, model: string, nowMs: number): number;
  /** The pool handed the account out for the model: one request counted. */
  leased(account: string, model: string, nowMs: number): void;
}

const tokensOf = (r: RequestRecord): number => r.input_tokens + r.output_tokens + r.thinking_tokens;

export class Headroom implements Limiter {
  private readonly counters = new Map<string, Counter>();

  constructor(private limits: Limits) {}

  setLimits(limits: Limits): void {
    this.limits = limits;
  }

  appliesTo(model: string): boolean {
    return limitsFor(this.limits, model) !== undefined;
  }

  blockedUntil(account: string, model: string, nowMs: number): number {
    const limits = limitsFor(this.limits, model);
    if (!limits) return 0;
    const counter = this.counters.get(`${account}\n${model}`);
    if (!counter) return 0;
    this.roll(counter, nowMs);
    return limitBlockedUntil(
      limits,
      { minuteRequests: counter.minuteRequests, minuteTokens: counter.minuteTokens, dayRequests: counter.dayRequests },
      counter.minuteStartMs + MINUTE_MS,
      quotaDayOf(nowMs).endMs,
    );
  }

  leased(account: string, model: string, nowMs: number): void {
    const counter = this.counter(account, model, nowMs);
    counter.minuteRequests++;
    counter.dayRequests++;
  }

  /** A request ended: its tokens count for the account that answered. */
  add(r: RequestRecord, atMs: number): void {
    if (r.account === null) return;
    const tokens = tokensOf(r);
    if (tokens === 0) return;
    const counter = this.counter(r.account, r.upstream_model, atMs + r.duration_ms);
    counter.minuteTokens += tokens;
    counter.dayTokens += tokens;
  }

  /** A request read back from the history at start: its attempts and tokens, as if it had just been served. */
  replay(r: RequestRecord, atMs: number): void {
    for (const attempt of r.attempts) this.leased(attempt.account, r.upstream_model, atMs);
    const last = r.attempts[r.attempts.length - 1];
    if (r.account !== null && (last === undefined || last.account !== r.account)) this.leased(r.account, r.upstream_model, atMs);
    this.add(r, atMs);
  }

  noteRateLimit(account: string, model: string, note: RateLimitNote): void {
    this.counter(account, model, note.atMs).last429 = note;
  }

  /** Every model the account has figures for, with its limits. */
  view(account: string, nowMs: number): HeadroomView[] {
    const out: HeadroomView[] = [];
    for (const counter of this.counters.values()) {
      if (counter.account !== account) continue;
      this.roll(counter, nowMs);
      const last = counter.last429;
      out.push({
        model: counter.model,
        minute: { requests: counter.minuteRequests, tokens: counter.minuteTokens },
        today: { requests: counter.dayRequests, tokens: counter.dayTokens },
        limits: limitsFor(this.limits, counter.model) ?? null,
        last_429: last
          ? { time: new Date(last.atMs).toISOString(), retry_delay_s: last.retryDelayS, quota_id: last.quotaId, window: last.window }
          : null,
      });
    }
    return out.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  }

  private counter(account: string, model: string, nowMs: number): Counter {
    const key = `${account}\n${model}`;
    let counter = this.counters.get(key);
    if (!counter) {
      const day = quotaDayOf(nowMs).key;
      counter = { account, model, minuteStartMs: nowMs - (nowMs % MINUTE_MS), minuteRequests: 0, minuteTokens: 0, day, dayRequests: 0, dayTokens: 0, last429: null };
      this.counters.set(key, counter);
      return counter;
    }
    this.roll(counter, nowMs);
    return counter;
  }

  /** Starts a new minute or day when `nowMs` is past the counter's (a time before it counts in the current one). */
  private roll(counter: Counter, nowMs: number): void {
    if (nowMs >= counter.minuteStartMs + MINUTE_MS) {
      counter.minuteStartMs = nowMs - (nowMs % MINUTE_MS);
      counter.minuteRequests = 0;
      counter.minuteTokens = 0;
    }
    const day = quotaDayOf(nowMs);
    if (day.key !== counter.day && nowMs >= day.startMs) {
      // only forward: a record replayed from yesterday must not reset today
      if (counter.day < day.key) {
        counter.day = day.key;
        counter.dayRequests = 0;
        counter.dayTokens = 0;
      }
    }
  }
}
