/**
 * UsageLedger: the one owner of what the pool served (DESIGN section 11). The proxy records each
 * request once, when it ends; every view (the admin API, /metrics, the CLI, the tree, the
 * dashboard) reads from here. It holds the hourly and daily aggregates, the last 1,000 requests,
 * the totals since the process started (for Prometheus counters) and the headroom per account ×
 * model. Persistence is separate (usageFiles.ts): only the serving process writes.
 *
 * The request path only hands an ended request in (`ended`: one push). Its record is built and
 * counted when the ledger settles: at once when anything reads, else within SETTLE_AFTER_MS, in one
 * pass over every request that ended meanwhile. Counted one by one between requests, that code ran
 * cold every time; in a batch it stays warm (BENCHMARKS.md, "Accounting off the request path").
 */
import { BucketTable, DAY_S, HOUR_S, HOURLY_RETENTION_S, DAILY_RETENTION_S, groupRows, type BucketRow, type UsageRow } from './aggregates';
import { Headroom, type HeadroomView, type Limiter, type RateLimitNote } from './headroom';
import { RequestHistory } from './history';
import type { Logger } from '../log';
import type { Limits } from './limits';
import { UsageQueryError, type RequestFilter, type UsageQuery } from './query';
import type { ClientProtocol, RequestOutcome, RequestRecord, Tokens } from './record';

export interface UsageReport {
  since: string;
  until: string;
  rows: UsageRow[];
}

/** Requests since the process started, per account × model × protocol × outcome. */
export interface RequestTotal {
  account: string | null;
  model: string;
  protocol: ClientProtocol;
  outcome: RequestOutcome;
  requests: number;
}

/** Tokens since the process started, per account × model. */
export interface TokenTotal {
  account: string | null;
  model: string;
  tokens: Tokens;
}

/** How long an ended request waits to be counted when nothing reads first, and how many may wait. */
export const SETTLE_AFTER_MS = 100;
const MAX_WAITING = 512;

/** A request that ended, whose record is built when the ledger settles. */
export interface EndedRequest {
  /** Unix ms when it arrived: the hour it is counted in. */
  readonly atMs: number;
  record(): RequestRecord;
}

export interface LedgerOptions {
  /** Unix ms, like Date.now. */
  now?: () => number;
  historySize?: number;
  limits?: Limits;
  /** Where a request that could not be counted is told (counting goes on with the others). */
  log?: Logger;
}

export class UsageLedger implements Limiter {
  readonly hourly = new BucketTable(HOUR_S);
  readonly daily = new BucketTable(DAY_S);
  readonly history: RequestHistory;
  readonly headroom: Headroom;
  private readonly requestCounts = new Map<string, RequestTotal>();
  private readonly tokenCounts = new Map<string, TokenTotal>();
  private readonly recordListeners = new Set<(r: RequestRecord, atMs: number) => void>();
  /** Ended requests not counted yet, and the timer that settles them. */
  private inbox: EndedRequest[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  readonly now: () => number;
  private readonly log: Logger | undefined;

  constructor(options: LedgerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.history = new RequestHistory(options.historySize);
    this.headroom = new Headroom(options.limits ?? {});
  }

  /** A request that ended: counted when the ledger settles (the next read, or within SETTLE_AFTER_MS). */
  ended(request: EndedRequest): void {
    this.inbox.push(request);
    if (this.inbox.length >= MAX_WAITING) this.settle();
    else if (!this.settleTimer) {
      this.settleTimer = setTimeout(this.settleSoon, SETTLE_AFTER_MS);
      this.settleTimer.unref();
    }
  }

  private readonly settleSoon = (): void => {
    this.settleTimer = undefined;
    this.settle();
  };

  /** Counts every ended request not counted yet, in the order they ended. Every read settles first. */
  settle(): void {
    if (this.inbox.length === 0) return;
    const inbox = this.inbox;
    this.inbox = [];
    for (const request of inbox) {
      try {
        this.count(request.record(), request.atMs);
      } catch (err) {
        // a bug in one record must not lose the others, nor (from the timer) end the process
        this.log?.error(`[usage] a request could not be counted: ${(err as Error).message}`);
      }
    }
  }

  /** One request's record into every figure; `atMs` is when it arrived (its hour). */
  private count(r: RequestRecord, atMs: number): void {
    const atS = Math.floor(atMs / 1000);
    this.hourly.add(atS, r);
    this.daily.add(atS, r);
    this.history.add(r);
    this.headroom.add(r, atMs);
    this.countTotals(r);
    for (const listener of this.recordListeners) listener(r, atMs);
  }

  /** Calls `listener` after each request is recorded (the files, /metrics histograms). */
  onRecord(listener: (r: RequestRecord, atMs: number) => void): { dispose(): void } {
    this.recordListeners.add(listener);
    return { dispose: () => this.recordListeners.delete(listener) };
  }

  /** A 429 an account got for a model: the headroom's last rate limit. */
  noteRateLimit(account: string, model: string, note: RateLimitNote): void {
    this.headroom.noteRateLimit(account, model, note);
  }

  setLimits(limits: Limits): void {
    this.headroom.setLimits(limits);
  }

  /** The pool's limiter: the headroom, with the tokens of every request that ended counted first. */
  appliesTo(model: string): boolean {
    return this.headroom.appliesTo(model);
  }

  blockedUntil(account: string, model: string, nowMs: number): number {
    this.settle();
    return this.headroom.blockedUntil(account, model, nowMs);
  }

  leased(account: string, model: string, nowMs: number): void {
    this.headroom.leased(account, model, nowMs);
  }

  /**
   * The rows of `GET /admin/usage`: hourly figures for a period that starts within the last 14
   * days, daily ones before that (`by=hour` cannot reach further back).
   */
  usage(query: UsageQuery): UsageReport {
    this.settle();
    const nowS = Math.floor(this.now() / 1000);
    const sinceS = Math.floor(query.sinceMs / 1000);
    const untilS = Math.ceil(query.untilMs / 1000);
    const hourly = sinceS >= this.hourly.slotOf(nowS - HOURLY_RETENTION_S);
    if (!hourly && query.by.includes('hour')) {
      throw new UsageQueryError('since', 'hourly figures are kept 14 days: use by=day for a longer period');
    }
    const table = hourly ? this.hourly : this.daily;
    return {
      since: new Date(query.sinceMs).toISOString(),
      until: new Date(query.untilMs).toISOString(),
      rows: groupRows(table.rows(sinceS, untilS), query.by),
    };
  }

  /** The last requests, newest first. */
  requests(filter: RequestFilter): RequestRecord[] {
    this.settle();
    return this.history.list(filter);
  }

  requestTotals(): Iterable<RequestTotal> {
    this.settle();
    return this.requestCounts.values();
  }

  tokenTotals(): Iterable<TokenTotal> {
    this.settle();
    return this.tokenCounts.values();
  }

  /** Requests and tokens per account × model this minute and today, the last 429, the limits. */
  headroomOf(account: string): HeadroomView[] {
    this.settle();
    return this.headroom.view(account, this.now());
  }

  /** Requests and tokens of the account this quota day, over every model. */
  todayOf(account: string): { requests: number; tokens: number } {
    let requests = 0;
    let tokens = 0;
    for (const view of this.headroomOf(account)) {
      requests += view.today.requests;
      tokens += view.today.tokens;
    }
    return { requests, tokens };
  }

  /** The account's newest failure in the history: a failed attempt, or an answer of its that broke. */
  lastErrorOf(account: string): { time: string; model: string; status: number; reason: string } | undefined {
    this.settle();
    for (const r of this.history.list({ limit: this.history.capacity })) {
      for (let i = r.attempts.length - 1; i >= 0; i--) {
        const a = r.attempts[i];
        if (a.account === account) return { time: r.time, model: r.upstream_model, status: a.status, reason: a.reason };
      }
      if (r.account === account && (r.outcome === 'cut' || r.outcome === 'upstream_error')) {
        return { time: r.time, model: r.upstream_model, status: r.status, reason: r.outcome === 'cut' ? 'the answer was cut after it started' : 'the answer broke before it started' };
      }
    }
    return undefined;
  }

  /** Drops hourly buckets older than 14 days and daily ones older than 400; true when any went. */
  prune(): boolean {
    this.settle();
    const nowS = Math.floor(this.now() / 1000);
    const hourly = this.hourly.prune(this.hourly.slotOf(nowS - HOURLY_RETENTION_S));
    const daily = this.daily.prune(this.daily.slotOf(nowS - DAILY_RETENTION_S));
    return hourly || daily;
  }

  /** Adds stored buckets (a file loaded at start) to what is counted. */
  load(hourly: Iterable<BucketRow>, daily: Iterable<BucketRow>, requests: Iterable<{ record: RequestRecord; atMs: number }>): void {
    for (const row of hourly) this.hourly.merge(row);
    for (const row of daily) this.daily.merge(row);
    for (const { record, atMs } of requests) {
      this.history.add(record);
      this.headroom.replay(record, atMs);
    }
  }

  private countTotals(r: RequestRecord): void {
    const account = r.account ?? '';
    const key = `${account}\n${r.upstream_model}\n${r.protocol}\n${r.outcome}`;
    let total = this.requestCounts.get(key);
    if (!total) this.requestCounts.set(key, (total = { account: r.account, model: r.upstream_model, protocol: r.protocol, outcome: r.outcome, requests: 0 }));
    total.requests++;
    if (r.input_tokens + r.output_tokens + r.thinking_tokens === 0) return;
    const tokenKey = `${account}\n${r.upstream_model}`;
    let tokens = this.tokenCounts.get(tokenKey);
    if (!tokens) this.tokenCounts.set(tokenKey, (tokens = { account: r.account, model: r.upstream_model, tokens: { input: 0, output: 0, cached: 0, thinking: 0 } }));
    tokens.tokens.input += r.input_tokens;
    tokens.tokens.output += r.output_tokens;
    tokens.tokens.cached += r.cached_tokens;
    tokens.tokens.thinking += r.thinking_tokens;
  }
}
