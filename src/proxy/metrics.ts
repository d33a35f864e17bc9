/**
 * `GET /metrics` (DESIGN section 11): Prometheus text exposition from prom-client, named by its
 * conventions. The counters and gauges are read from the bookkeeping when scraped (the ledger's
 * totals since start, the pool's state): nothing is counted twice. The two histograms are observed
 * as each request is recorded. A registry of its own, never prom-client's global one.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ACCOUNT_WIDE } from '../core/cooldowns';
import type { TokenPool } from '../core/pool';
import type { UsageLedger } from '../core/usage/ledger';

/** Seconds; from a quick token count to a long agent turn. */
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
const TTFB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly subscription: { dispose(): void };

  constructor(private readonly usage: UsageLedger, pool: TokenPool) {
    const registers = [this.registry];
    const label = (account: string | null): string => account ?? '';
    new Counter({
      name: 'tokenpool_requests_total',
      help: 'Requests that reached the pool, by account, upstream model, client protocol and outcome.',
      labelNames: ['account', 'model', 'protocol', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const t of usage.requestTotals()) this.inc({ account: label(t.account), model: t.model, protocol: t.protocol, outcome: t.outcome }, t.requests);
      },
    });
    new Counter({
      name: 'tokenpool_tokens_total',
      help: 'Tokens the upstream reported, by account, upstream model and kind (input, output, cached, thinking).',
      labelNames: ['account', 'model', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const t of usage.tokenTotals()) {
          for (const kind of ['input', 'output', 'cached', 'thinking'] as const) {
            this.inc({ account: label(t.account), model: t.model, kind }, t.tokens[kind]);
          }
        }
      },
    });
    const duration = new Histogram({
      name: 'tokenpool_request_duration_seconds',
      help: 'From a request arriving to its answer ending.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    const ttfb = new Histogram({
      name: 'tokenpool_time_to_first_byte_seconds',
      help: 'From a request arriving to the first byte of the upstream answer.',
      buckets: TTFB_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'tokenpool_accounts',
      help: 'Accounts in the pool by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = pool.counts();
        for (const state of ['healthy', 'cooling', 'proxy_disabled', 'disabled'] as const) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'tokenpool_cooldown_seconds',
      help: 'Seconds left of each running cooldown, by account and model ("*": the whole account).',
      labelNames: ['account', 'model'],
      registers,
      collect() {
        this.reset();
        const nowS = Date.now() / 1000;
        for (const summary of pool.summaries()) {
          for (const c of summary.cooldowns) {
            if (c.until > nowS) this.set({ account: summary.email, model: c.model === ACCOUNT_WIDE ? '*' : c.model }, Math.ceil(c.until - nowS));
          }
        }
      },
    });
    new Counter({
      name: 'tokenpool_refresh_total',
      help: 'Access-token refreshes by account and result (ok, invalid_grant, client_mismatch, error).',
      labelNames: ['account', 'result'],
      registers,
      collect() {
        this.reset();
        for (const r of pool.refreshCounts()) this.inc({ account: r.account, result: r.result }, r.count);
      },
    });
    this.subscription = usage.onRecord((r) => {
      duration.observe(r.duration_ms / 1000);
      if (r.ttfb_ms !== null) ttfb.observe(r.ttfb_ms / 1000);
    });
  }

  text(): Promise<string> {
    this.usage.settle(); // the histograms count what has ended, like the totals
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
