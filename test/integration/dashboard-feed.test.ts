/**
 * The dashboard's feed over real HTTP: DashboardFeed and AdminClient against a small admin API on
 * 127.0.0.1 that answers in DESIGN's shapes (section 8's accounts, section 11's usage and requests,
 * and the requests' live follow as text/event-stream), checking what the page is sent and what was
 * asked of the server, including the failures a real server rarely gives on cue; then against the
 * real ProxyServer with the fake Google, so both ends agree on the shapes.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Logger } from '../../src/core/log';
import { DashboardFeed } from '../../src/vscode/dashboard/dashboardFeed';
import { startProxyHarness } from '../helpers/proxy-harness';
import { NO_FILTER, type AccountCard, type RequestRecord, type Source, type ToPage, type UsageRow } from '../../src/webview/dashboard/protocol';

const KEY = 'tp-dashboard-test-key-000000000000';
const NOW = Date.UTC(2026, 11, 3, 14, 25);

const ACCOUNT: AccountCard = {
  id: 'a1', email: 'ada@example.com', state: 'cooling', project_id: 'p', location: 'us-central1', disabled_at: null, disabled_reason: null,
  proxy_disabled_reason: null, proxy_disabled_until: null, cooldowns: [{ model: '*', until: NOW / 1000 + 120, reason: '429 Too Many Requests' }], last_used: null,
};
const ROW: UsageRow = {
  account: 'ada@example.com', model: 'gemini-2.5-flash', hour: '2026-12-03T14:00:00Z', requests: 3, ok: 2, errors: 1,
  input_tokens: 30, output_tokens: 12, cached_tokens: 0, thinking_tokens: 4, p50_ms: 200, p95_ms: 900,
};
const record = (id: string, over: Partial<RequestRecord> = {}): RequestRecord => ({
  id, time: '2026-12-03T14:20:00Z', protocol: 'openai-chat', model: 'gemini-2.5-flash', upstream_model: 'gemini-2.5-flash', account: 'ada@example.com',
  status: 200, outcome: 'ok', stream: true, attempts: [{ account: 'bob@example.com', status: 429, reason: 'RESOURCE_EXHAUSTED' }],
  input_tokens: 10, output_tokens: 4, cached_tokens: 0, thinking_tokens: 0, ttfb_ms: 120, duration_ms: 480, ...over,
});

/** A small admin API in DESIGN's shapes, behind the key, that records what it was asked. */
class AdminApi {
  readonly asked: string[] = [];
  readonly followers = new Set<ServerResponse>();
  followAnswer: 200 | 404 = 200;
  followAttempts = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sends one new request to everyone following, as an SSE event. */
  push(r: RequestRecord): void {
    for (const res of this.followers) res.write(`event: request\ndata: ${JSON.stringify(r)}\n\n`);
  }

  async close(): Promise<void> {
    for (const res of this.followers) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${KEY}`) return json(401, { error: { message: 'missing or wrong API key' } });
    const follow = req.headers.accept === 'text/event-stream';
    this.asked.push(`${follow ? 'FOLLOW ' : ''}${url.pathname}${url.search}`);
    if (url.pathname === '/admin/accounts') return json(200, { accounts: [ACCOUNT] });
    if (url.pathname === '/admin/usage') return json(200, { since: url.searchParams.get('since'), until: new Date(NOW).toISOString(), rows: [ROW] });
    if (url.pathname === '/admin/requests' && follow) {
      this.followAttempts++;
      if (this.followAnswer !== 200) return json(this.followAnswer, { error: { message: 'not found' } });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': following\n\n');
      this.followers.add(res);
      res.on('close', () => this.followers.delete(res));
      return;
    }
    if (url.pathname === '/admin/requests') {
      const outcome = url.searchParams.get('outcome');
      const all = [record('r2', { outcome: 'upstream_error', status: 503 }), record('r1')];
      return json(200, { requests: all.filter((r) => !outcome || r.outcome === outcome) });
    }
    json(404, { error: { message: `no route ${url.pathname}` } });
  }
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {}, trace() {} } as unknown as Logger;

describe('the dashboard feed against an admin API in DESIGN\'s shapes', () => {
  const api = new AdminApi();
  let feed: DashboardFeed | undefined;
  let posted: ToPage[] = [];
  const warnings: string[] = [];

  before(() => api.start());
  after(() => api.close());
  afterEach(() => {
    feed?.dispose();
    feed = undefined;
    posted = [];
    warnings.length = 0;
    api.asked.length = 0;
    api.followAnswer = 200;
    api.followAttempts = 0;
  });

  const startFeed = (source: Source = { kind: 'connected', baseUrl: api.url, servedHere: true }, key = KEY): DashboardFeed => {
    feed = new DashboardFeed({
      post: (m) => posted.push(m),
      source: () => Promise.resolve({ source, apiKey: key }),
      log: { ...silent, warn: (line: string) => warnings.push(line) } as Logger,
      accountsEveryMs: 60_000,
      usageEveryMs: 60_000,
      followRetryMs: 50,
      usageAfterRequestMs: 20,
      now: () => NOW,
    });
    return feed;
  };
  const waitFor = async <T>(find: () => T | undefined, what: string): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}; posted: ${JSON.stringify(posted.map((m) => m.type))}, asked: ${JSON.stringify(api.asked)}`);
  };
  const last = <K extends ToPage['type']>(type: K) => posted.filter((m): m is Extract<ToPage, { type: K }> => m.type === type).at(-1);

  test('ready: the page gets the source, the accounts, the range\'s usage and the requests, then each new request live', async () => {
    await startFeed().start('24h', NO_FILTER);
    assert.deepEqual(last('source')?.source, { kind: 'connected', baseUrl: api.url, servedHere: true });
    assert.deepEqual(last('accounts')?.accounts, [ACCOUNT]);
    const usage = last('usage');
    assert.equal(usage?.range, '24h');
    assert.equal(usage?.bucket, 'hour');
    assert.deepEqual(usage?.answer.rows, [ROW]);
    assert.deepEqual(last('requests')?.requests.map((r) => r.id), ['r2', 'r1']);
    assert.ok(api.asked.includes(`/admin/usage?since=${encodeURIComponent('2026-12-02T15:00:00.000Z')}&by=${encodeURIComponent('account,model,hour')}`), JSON.stringify(api.asked));
    assert.ok(api.asked.includes('/admin/requests?limit=200'), JSON.stringify(api.asked));

    await waitFor(() => (api.followers.size ? true : undefined), 'the follow to connect');
    const usageReads = api.asked.filter((a) => a.startsWith('/admin/usage')).length;
    api.push(record('r3', { outcome: 'cut' }));
    const live = await waitFor(() => last('request'), 'the live request');
    assert.deepEqual(live.request, record('r3', { outcome: 'cut' }));
    await waitFor(() => (api.asked.filter((a) => a.startsWith('/admin/usage')).length > usageReads ? true : undefined), 'usage read again after a new request');
    assert.deepEqual(warnings, []);
  });

  test('a range and a filter are asked of the API; the answer carries the filter it was asked with', async () => {
    const f = startFeed();
    await f.start('24h', NO_FILTER);
    await f.setRange('30d');
    assert.equal(last('usage')?.bucket, 'day');
    assert.ok(api.asked.some((a) => a.startsWith('/admin/usage?since=2026-11-04T00%3A00%3A00.000Z&by=account%2Cmodel%2Cday')), JSON.stringify(api.asked));
    const filter = { account: 'ada@example.com', model: '', outcome: 'upstream_error' };
    await f.setFilter(filter);
    assert.ok(api.asked.includes('/admin/requests?limit=200&account=ada%40example.com&outcome=upstream_error'), JSON.stringify(api.asked));
    const answer = last('requests');
    assert.deepEqual(answer?.filter, filter);
    assert.deepEqual(answer?.requests.map((r) => r.id), ['r2']);
  });

  test('a wrong key: the page is told which read failed and why, once in the log', async () => {
    await startFeed(undefined, 'tp-wrong').start('24h', NO_FILTER);
    await waitFor(() => posted.find((m) => m.type === 'error' && m.what === 'follow'), 'the follow to fail too');
    const errors = posted.filter((m): m is Extract<ToPage, { type: 'error' }> => m.type === 'error');
    assert.deepEqual(errors.map((e) => e.what).sort(), ['accounts', 'follow', 'requests', 'usage']);
    assert.equal(errors.find((e) => e.what === 'accounts')?.message, 'GET /admin/accounts answered 401: missing or wrong API key');
    assert.equal(errors.find((e) => e.what === 'usage')?.message, 'GET /admin/usage answered 401: missing or wrong API key');
    assert.equal(warnings.length, 4);
    assert.ok(!warnings.join('\n').includes('tp-wrong'), 'the key is never logged');
    assert.deepEqual(last('accounts'), undefined, 'no accounts were made up');
    await feed!.refreshAccounts();
    assert.equal(warnings.length, 4, 'the same failure again is not logged again');
  });

  test('a new API key (config.json changed, the proxy restarted on the same port) is used from the next reconnect', async () => {
    let key = 'tp-old-key';
    feed = new DashboardFeed({
      post: (m) => posted.push(m),
      source: () => Promise.resolve({ source: { kind: 'connected', baseUrl: api.url, servedHere: true }, apiKey: key }),
      log: silent,
      accountsEveryMs: 60_000,
      usageEveryMs: 60_000,
      followRetryMs: 60_000,
    });
    await feed.start('24h', NO_FILTER);
    assert.match(posted.find((m) => m.type === 'error' && m.what === 'accounts')?.type ?? '', /error/);
    key = KEY;
    await feed.reconnect();
    assert.deepEqual(last('accounts')?.accounts, [ACCOUNT]);
    assert.deepEqual(posted.filter((m) => m.type === 'error' && m.what === 'accounts').map((m) => (m as { message: string | null }).message),
      ['GET /admin/accounts answered 401: missing or wrong API key', null], 'the error is shown, then cleared');
  });

  test('while the follow is refused, the page is told and the follow is tried again', async () => {
    api.followAnswer = 404;
    await startFeed().start('24h', NO_FILTER);
    const error = await waitFor(() => posted.find((m) => m.type === 'error' && m.what === 'follow'), 'a follow error');
    assert.match((error as { message: string }).message, /live follow of requests stopped: GET \/admin\/requests \(follow\) answered 404: not found/);
    await waitFor(() => (api.followAttempts >= 3 ? true : undefined), 'the follow tried again');
    api.followAnswer = 200;
    await waitFor(() => posted.find((m) => m.type === 'error' && m.what === 'follow' && m.message === null), 'the follow error cleared once it works');
    await waitFor(() => (api.followers.size ? true : undefined), 'the follow to connect');
  });

  test('no proxy: the page is told why and nothing is asked; stop() ends the follow', async () => {
    await startFeed({ kind: 'unavailable', message: 'The proxy is stopped.' }).start('24h', NO_FILTER);
    assert.deepEqual(posted, [{ type: 'source', source: { kind: 'unavailable', message: 'The proxy is stopped.' } }]);
    assert.deepEqual(api.asked, []);
    feed!.dispose();

    const f = startFeed();
    await f.start('7d', NO_FILTER);
    await waitFor(() => (api.followers.size ? true : undefined), 'the follow to connect');
    f.stop();
    await waitFor(() => (api.followers.size === 0 ? true : undefined), 'the follow connection to close');
  });
});

describe('the dashboard feed against the real proxy and the fake Google', () => {
  test('a request through the proxy reaches the page live, in the table\'s shape, and in the usage it reads again', async () => {
    const h = await startProxyHarness({ accounts: 2 });
    const posted: ToPage[] = [];
    const feed = new DashboardFeed({
      post: (m) => posted.push(m),
      source: () => Promise.resolve({ source: { kind: 'connected', baseUrl: h.url, servedHere: true }, apiKey: h.apiKey }),
      log: silent,
      accountsEveryMs: 60_000,
      usageEveryMs: 60_000,
      usageAfterRequestMs: 20,
    });
    const last = <K extends ToPage['type']>(type: K) => posted.filter((m): m is Extract<ToPage, { type: K }> => m.type === type).at(-1);
    const waitFor = async <T>(find: () => T | undefined, what: string): Promise<T> => {
      for (let i = 0; i < 300; i++) {
        const found = find();
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`timed out waiting for ${what}; posted: ${JSON.stringify(posted)}`);
    };
    try {
      await feed.start('24h', NO_FILTER);
      assert.deepEqual(posted.filter((m) => m.type === 'error'), [], 'every read works');
      assert.deepEqual(last('accounts')?.accounts.map((a) => a.email).sort(), h.accounts.map((a) => a.email).sort());
      assert.deepEqual(last('requests')?.requests, []);
      const usageBefore = posted.filter((m) => m.type === 'usage').length;

      const answer = await h.request('/v1/chat/completions', { body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(answer.status, 200, answer.text);
      const live = (await waitFor(() => last('request'), 'the request to come in live')).request;
      assert.equal(live.outcome, 'ok');
      assert.equal(live.model, 'gemini-2.5-flash');
      assert.equal(live.protocol, 'openai-chat');
      assert.ok(h.accounts.some((a) => a.email === live.account), `served by a pool account: ${live.account}`);
      assert.ok(!Number.isNaN(Date.parse(live.time)));
      const usage = await waitFor(() => (posted.filter((m) => m.type === 'usage').length > usageBefore ? last('usage') : undefined), 'usage read again');
      const rows = usage!.answer.rows;
      assert.deepEqual(rows.map((r) => [r.account, r.model, r.requests, r.ok]), [[live.account, 'gemini-2.5-flash', 1, 1]]);
      assert.equal(rows[0].input_tokens, live.input_tokens);
      assert.ok(typeof rows[0].hour === 'string' && Date.parse(rows[0].hour) <= Date.parse(live.time), `the row's hour: ${rows[0].hour}`);

      await feed.setFilter({ account: '', model: '', outcome: 'upstream_error' });
      assert.deepEqual(last('requests')?.requests, [], 'the server filters by outcome');
      await feed.setFilter({ account: live.account!.toUpperCase(), model: '', outcome: '' });
      assert.deepEqual(last('requests')?.requests.map((r) => r.id), [live.id], 'and by account');
    } finally {
      feed.dispose();
      await h.close();
    }
  });
});
