/**
 * What the dashboard page is sent, and when: the accounts (every few seconds and when the pool
 * changes), the usage of the chosen range (every few seconds and shortly after new requests), the
 * requests passing the chosen filters, then each new one live from the follow of
 * `/admin/requests` (polled instead while the follow is down). Everything comes from the admin API
 * of whichever tokenpool serves. No `vscode` import: the panel hands it `post` and the source.
 */
import type { Logger } from '../../core/log';
import { usageQuery } from '../../webview/dashboard/chartData';
import {
  NO_FILTER,
  RANGES,
  type DataPart,
  type Range,
  type RequestFilter,
  type Source,
  type ToPage,
} from '../../webview/dashboard/protocol';
import { requestsQuery } from '../../webview/dashboard/requestTable';
import { debounce, DisposableBase, toDisposable } from '../lifecycle';
import { AdminClient, type Follow } from './adminClient';

export interface FeedOptions {
  post: (message: ToPage) => void;
  /** Where to read from now, and the API key. */
  source: () => Promise<{ source: Source; apiKey: string }>;
  log: Logger;
  /** Accounts are read this often; default 5 s. */
  accountsEveryMs?: number;
  /** Usage is read this often (and requests, while the follow is down); default 15 s. */
  usageEveryMs?: number;
  /** Wait before following again after the follow ended; default 5 s. */
  followRetryMs?: number;
  /** Usage is read again this long after a new request; default 1.5 s. */
  usageAfterRequestMs?: number;
  now?: () => number;
}

export class DashboardFeed extends DisposableBase {
  private range: Range = '24h';
  private filter: RequestFilter = NO_FILTER;
  private client: AdminClient | undefined;
  private follow: Follow | undefined;
  private following = false;
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private followRetry: NodeJS.Timeout | undefined;
  private readonly errors = new Map<DataPart, string>();
  private readonly usageSoon: (() => void) & { dispose(): void };

  constructor(private readonly options: FeedOptions) {
    super();
    this.usageSoon = this._register(debounce(() => void this.refreshUsage(), options.usageAfterRequestMs ?? 1500));
    this._register(toDisposable(() => this.stop()));
  }

  /** The page is (again) ready: send it everything for its range and filters, and keep it current. */
  async start(range: Range, filter: RequestFilter): Promise<void> {
    this.range = range;
    this.filter = filter;
    this.stop();
    this.running = true;
    const accountsEvery = this.options.accountsEveryMs ?? 5000;
    const usageEvery = this.options.usageEveryMs ?? 15_000;
    this.timers.push(
      setInterval(() => void this.refreshAccounts(), accountsEvery),
      setInterval(() => {
        void this.refreshUsage();
        if (!this.following) void this.refreshRequests();
      }, usageEvery),
    );
    for (const timer of this.timers) timer.unref();
    await this.connect();
  }

  /** Stops reading (the panel is hidden); `start` begins again. */
  stop(): void {
    this.running = false;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    if (this.followRetry) clearTimeout(this.followRetry);
    this.followRetry = undefined;
    this.follow?.close();
    this.follow = undefined;
    this.following = false;
    this.client?.dispose();
    this.client = undefined;
  }

  async setRange(range: Range): Promise<void> {
    this.range = range;
    await this.refreshUsage();
  }

  async setFilter(filter: RequestFilter): Promise<void> {
    this.filter = filter;
    await this.refreshRequests();
  }

  /** The proxy moved (started, stopped, another port, another window took over): read from where it is now. */
  async reconnect(): Promise<void> {
    if (!this.running) return;
    await this.connect();
  }

  async refreshAccounts(): Promise<void> {
    await this.read('accounts', async (client) => this.options.post({ type: 'accounts', accounts: await client.accounts() }));
  }

  async refreshUsage(): Promise<void> {
    const range = this.range;
    await this.read('usage', async (client) => {
      const answer = await client.usage(usageQuery(range, this.now()));
      if (range === this.range) this.options.post({ type: 'usage', range, bucket: RANGES[range], answer });
    });
  }

  async refreshRequests(): Promise<void> {
    const filter = this.filter;
    await this.read('requests', async (client) => {
      const requests = await client.requests(requestsQuery(filter));
      if (filter === this.filter) this.options.post({ type: 'requests', filter, requests });
    });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async connect(): Promise<void> {
    const { source, apiKey } = await this.options.source();
    if (!this.running) return;
    this.options.post({ type: 'source', source });
    if (source.kind !== 'connected') {
      this.dropClient();
      return;
    }
    if (!this.client?.reads(source.baseUrl, apiKey)) {
      this.dropClient();
      this.client = new AdminClient(source.baseUrl, apiKey);
      this.startFollow();
    }
    await Promise.all([this.refreshAccounts(), this.refreshUsage(), this.refreshRequests()]);
  }

  private dropClient(): void {
    this.follow?.close();
    this.follow = undefined;
    this.following = false;
    this.client?.dispose();
    this.client = undefined;
  }

  private startFollow(): void {
    const client = this.client;
    if (!client || !this.running) return;
    const follow = client.follow(
      (request) => {
        this.options.post({ type: 'request', request });
        this.usageSoon();
      },
      () => this.report('follow', undefined),
    );
    this.follow = follow;
    this.following = true;
    const ended = (err?: unknown) => {
      if (this.follow !== follow) return;
      this.following = false;
      this.follow = undefined;
      if (err) this.report('follow', `the live follow of requests stopped: ${(err as Error).message}`);
      this.followRetry = setTimeout(() => {
        this.followRetry = undefined;
        if (this.client !== client || !this.running) return;
        this.startFollow();
        void this.refreshRequests(); // what came in while the follow was down
      }, this.options.followRetryMs ?? 5000);
      this.followRetry.unref();
    };
    follow.done.then(() => ended(), ended);
  }

  /** Runs one read against the current client, and tells the page (and the log, once) when it fails or works again. */
  private async read(part: DataPart, fn: (client: AdminClient) => Promise<void>): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await fn(client);
      this.report(part, undefined);
    } catch (err) {
      if (this.client !== client) return; // a read of a proxy we have left
      this.report(part, (err as Error).message);
    }
  }

  private report(part: DataPart, message: string | undefined): void {
    const before = this.errors.get(part);
    if (before === message) return;
    if (message === undefined) {
      this.errors.delete(part);
      this.options.post({ type: 'error', what: part, message: null });
      return;
    }
    this.errors.set(part, message);
    this.options.log.warn(`[dashboard] ${message}`);
    this.options.post({ type: 'error', what: part, message });
  }
}
