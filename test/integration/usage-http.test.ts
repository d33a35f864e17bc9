/**
 * Seeing the pool over HTTP (DESIGN section 11) against the fake Google: every front-end (native
 * and translated, streamed and not) is recorded once, with the tokens the upstream reported;
 * `/admin/usage`, `/admin/requests` and `/metrics` agree with each other and with the fake; the
 * outcomes (failover, a cut stream, a refused request, no account) are told apart; bad parameters
 * get a 400 naming them; `/admin/requests` follows live; `/healthz` says 503 when nothing can serve.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { UsageRow } from '../../src/core/usage/aggregates';
import type { RequestRecord } from '../../src/core/usage/record';
import { startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

type RequestRow = RequestRecord;

type Tokens = { input: number; output: number; cached: number; thinking: number };

/** What the fake upstream reported, summed per account email and model, in the views' terms. */
function reportedTotals(h: ProxyHarness): Map<string, Tokens> {
  const totals = new Map<string, Tokens>();
  for (const r of h.upstream.requests) {
    const u = r.reported as Record<string, number> | undefined;
    if (!u || !r.email) continue;
    const key = `${r.email} ${r.model}`;
    const t = totals.get(key) ?? { input: 0, output: 0, cached: 0, thinking: 0 };
    if (r.route === 'vertex-anthropic') {
      t.input += u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
      t.output += u.output_tokens;
      t.cached += u.cache_read_input_tokens ?? 0;
    } else {
      t.input += u.promptTokenCount;
      t.output += u.candidatesTokenCount;
      t.cached += u.cachedContentTokenCount ?? 0;
      t.thinking += u.thoughtsTokenCount ?? 0;
    }
    totals.set(key, t);
  }
  return totals;
}

const rowTotals = (rows: UsageRow[]): Map<string, Tokens> =>
  new Map(
    rows
      .filter((r) => r.input_tokens + r.output_tokens > 0)
      .map((r) => [`${r.account} ${r.model}`, { input: r.input_tokens, output: r.output_tokens, cached: r.cached_tokens, thinking: r.thinking_tokens }]),
  );

/** `name{labels} value` lines of one metric, as label maps with their value. */
function metricLines(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]] = pair[2];
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

async function usageRows(h: ProxyHarness, query = ''): Promise<UsageRow[]> {
  const r = await h.request(`/admin/usage${query}`);
  assert.equal(r.status, 200, r.text);
  return (r.json as { rows: UsageRow[] }).rows;
}

async function requestRows(h: ProxyHarness, query = ''): Promise<RequestRow[]> {
  const r = await h.request(`/admin/requests${query}`);
  assert.equal(r.status, 200, r.text);
  return (r.json as { requests: RequestRow[] }).requests;
}

describe('usage over HTTP: a mixed run of every front-end', () => {
  let h: ProxyHarness;
  const sent: { path: string; body: Record<string, unknown>; protocol: string; stream: boolean; model: string }[] = [];
  before(async () => {
    h = await startProxyHarness({ accounts: 2, pace: { chunks: 4, intervalMs: 0 } });
    const prompt = 'count these few words please';
    const runs: { path: string; body: Record<string, unknown>; protocol: string; stream: boolean; model: string }[] = [
      { protocol: 'gemini', stream: false, model: 'gemini-2.5-flash', path: '/v1beta/models/gemini-2.5-flash:generateContent', body: { contents: [{ role: 'user', parts: [{ text: prompt }] }] } },
      { protocol: 'gemini', stream: true, model: 'gemini-2.5-flash', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body: { contents: [{ role: 'user', parts: [{ text: `${prompt} [[think]]` }] }], generationConfig: { thinkingConfig: { includeThoughts: true } } } },
      { protocol: 'gemini', stream: true, model: 'gemini-2.5-pro', path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent', body: { contents: [{ role: 'user', parts: [{ text: prompt }] }] } },
      { protocol: 'anthropic', stream: false, model: 'claude-sonnet-4', path: '/v1/messages', body: { model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: prompt }] } },
      { protocol: 'anthropic', stream: true, model: 'claude-sonnet-4', path: '/v1/messages', body: { model: 'claude-sonnet-4', max_tokens: 64, stream: true, messages: [{ role: 'user', content: `${prompt} again` }] } },
      { protocol: 'anthropic', stream: true, model: 'gemini-2.5-flash', path: '/v1/messages', body: { model: 'gemini-2.5-flash', max_tokens: 64, stream: true, messages: [{ role: 'user', content: prompt }] } },
      { protocol: 'openai-chat', stream: false, model: 'gemini-2.5-flash', path: '/v1/chat/completions', body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: prompt }] } },
      { protocol: 'openai-chat', stream: true, model: 'gemini-2.5-pro', path: '/v1/chat/completions', body: { model: 'gemini-2.5-pro', stream: true, messages: [{ role: 'user', content: `${prompt} [[think]]` }] } },
      { protocol: 'openai-responses', stream: true, model: 'gemini-2.5-flash', path: '/v1/responses', body: { model: 'gemini-2.5-flash', stream: true, input: prompt } },
      { protocol: 'openai-responses', stream: false, model: 'claude-sonnet-4', path: '/v1/responses', body: { model: 'claude-sonnet-4', input: `${prompt} once more` } },
    ];
    for (const run of runs) {
      const r = await h.request(run.path, { body: run.body });
      assert.equal(r.status, 200, `${run.path}: ${r.text}`);
      sent.push(run);
    }
  });
  after(() => h.close());

  test('/admin/usage: tokens per account × model equal what the fake upstream reported', async () => {
    const rows = await usageRows(h);
    assert.deepEqual(rowTotals(rows), reportedTotals(h));
    const requests = rows.reduce((n, r) => n + r.requests, 0);
    assert.equal(requests, sent.length);
    assert.equal(rows.reduce((n, r) => n + r.ok, 0), sent.length);
    assert.equal(rows.reduce((n, r) => n + r.errors, 0), 0);
    for (const row of rows) {
      assert.ok(row.account && h.accounts.some((a) => a.email === row.account), `rows name the account: ${row.account}`);
      assert.equal(typeof row.p50_ms, 'number');
      assert.ok(row.p95_ms! >= row.p50_ms!);
      assert.deepEqual(Object.keys(row).sort(), ['account', 'cached_tokens', 'errors', 'input_tokens', 'model', 'ok', 'output_tokens', 'p50_ms', 'p95_ms', 'requests', 'thinking_tokens']);
    }
    const thinking = rows.reduce((n, r) => n + r.thinking_tokens, 0);
    assert.ok(thinking > 0, 'the [[think]] runs reported thinking tokens');
  });

  test('/admin/usage: by=model, by=account and by=hour group the same totals', async () => {
    const all = await usageRows(h);
    const sum = (rows: UsageRow[], k: keyof Tokens | 'requests') =>
      rows.reduce((n, r) => n + (k === 'requests' ? r.requests : r[`${k}_tokens` as 'input_tokens']), 0);
    for (const by of ['model', 'account', 'hour', 'day', 'hour,model']) {
      const rows = await usageRows(h, `?by=${by}`);
      for (const k of ['requests', 'input', 'output', 'thinking'] as const) assert.equal(sum(rows, k), sum(all, k), `by=${by}: ${k}`);
      const keys = by.split(',');
      for (const row of rows) {
        for (const key of ['account', 'model', 'hour', 'day']) assert.equal(key in row, keys.includes(key), `by=${by}: ${key} in the rows`);
      }
    }
    const [hour] = await usageRows(h, '?by=hour');
    assert.match(hour.hour!, /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    assert.deepEqual(await usageRows(h, `?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}&until=${encodeURIComponent(new Date(Date.now() + 7_200_000).toISOString())}`), []);
  });

  test('/admin/requests: one record per request, newest first, with protocol, models, stream, tokens and timings', async () => {
    const rows = await requestRows(h);
    assert.equal(rows.length, sent.length);
    const oldestFirst = [...rows].reverse();
    for (const [i, run] of sent.entries()) {
      const r = oldestFirst[i];
      assert.equal(r.protocol, run.protocol, `request ${i}`);
      assert.equal(r.model, run.model);
      assert.equal(r.upstream_model, run.model);
      assert.equal(r.stream, run.stream, `request ${i} (${run.path}) stream`);
      assert.equal(r.outcome, 'ok');
      assert.equal(r.status, 200);
      assert.deepEqual(r.attempts, []);
      assert.ok(h.accounts.some((a) => a.email === r.account));
      assert.ok(r.input_tokens > 0 && r.output_tokens > 0, `request ${i} has tokens`);
      assert.ok(r.ttfb_ms !== null && r.ttfb_ms >= 0 && r.ttfb_ms <= r.duration_ms);
      assert.ok(!Number.isNaN(Date.parse(r.time)));
    }
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'ids are unique');
    assert.equal((await requestRows(h, '?limit=3')).length, 3);
    assert.deepEqual((await requestRows(h, '?model=claude-sonnet-4')).map((r) => r.protocol).sort(), ['anthropic', 'anthropic', 'openai-responses']);
    assert.equal((await requestRows(h, `?account=${h.accounts[0].email.toUpperCase()}`)).length, rows.filter((r) => r.account === h.accounts[0].email).length);
    assert.deepEqual(await requestRows(h, '?outcome=cut'), []);
  });

  test('/metrics: Prometheus text whose counters agree with /admin/usage', async () => {
    const r = await h.request('/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const rows = await usageRows(h);
    const requests = metricLines(r.text, 'tokenpool_requests_total');
    assert.equal(requests.reduce((n, l) => n + l.value, 0), sent.length);
    assert.deepEqual(new Set(requests.map((l) => l.labels.protocol)), new Set(sent.map((s) => s.protocol)));
    const tokens = metricLines(r.text, 'tokenpool_tokens_total');
    for (const row of rows) {
      for (const kind of ['input', 'output', 'cached', 'thinking'] as const) {
        const line = tokens.find((l) => l.labels.account === row.account && l.labels.model === row.model && l.labels.kind === kind);
        assert.equal(line?.value ?? 0, row[`${kind}_tokens`], `${row.account} ${row.model} ${kind}`);
      }
    }
    assert.equal(metricLines(r.text, 'tokenpool_request_duration_seconds_count')[0].value, sent.length);
    assert.equal(metricLines(r.text, 'tokenpool_time_to_first_byte_seconds_count')[0].value, sent.length);
    assert.deepEqual(
      Object.fromEntries(metricLines(r.text, 'tokenpool_accounts').map((l) => [l.labels.state, l.value])),
      { healthy: 2, cooling: 0, proxy_disabled: 0, disabled: 0 },
    );
    assert.ok(!r.text.includes(h.apiKey));
    for (const secret of await h.secrets()) {
      if (!secret.includes('@')) assert.ok(!r.text.includes(secret), 'no token in /metrics');
    }
  });

  test('the views carry no token or API key', async () => {
    const texts = [(await h.request('/admin/usage')).text, (await h.request('/admin/requests')).text];
    for (const text of texts) {
      assert.ok(!text.includes(h.apiKey));
      for (const secret of await h.secrets()) if (!secret.includes('@')) assert.ok(!text.includes(secret));
    }
  });
});

describe('usage over HTTP: outcomes', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ accounts: 3, pace: { chunks: 4, intervalMs: 5 }, configure: (c) => (c.routing.max_attempts = 3) });
  });
  after(() => h.close());

  test('a failover with two failed attempts: one ok record listing both, with their status and reason', async () => {
    h.upstream.fail({ kind: 'status', status: 429, retryDelay: '7s', times: 1 });
    h.upstream.fail({ kind: 'status', status: 503, times: 1 });
    const r = await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] } });
    assert.equal(r.status, 200);
    const [record] = await requestRows(h, '?limit=1');
    assert.equal(record.outcome, 'ok');
    assert.equal(record.attempts.length, 2);
    assert.deepEqual(record.attempts.map((a) => a.status), [429, 503]);
    assert.match(record.attempts[0].reason, /Resource exhausted/);
    const tried = h.upstream.requests.slice(-3).map((u) => u.email);
    assert.deepEqual(record.attempts.map((a) => a.account), tried.slice(0, 2));
    assert.equal(record.account, tried[2]);
    assert.ok(record.input_tokens > 0);
    h.pool.resetCooldowns();
  });

  test('a stream cut after its first byte is recorded as cut', async () => {
    h.upstream.fail({ kind: 'reset-mid-stream', afterChunks: 1 });
    const r = await h.request('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { body: { contents: [{ role: 'user', parts: [{ text: 'a b c d e f g' }] }] } }).catch((err: Error) => err);
    assert.ok(r instanceof Error || r.status === 200, 'the client saw the stream start');
    const [record] = await requestRows(h, '?limit=1');
    assert.equal(record.outcome, 'cut');
    assert.equal(record.status, 200);
    assert.equal(record.stream, true);
    assert.ok(record.ttfb_ms !== null);
    h.pool.resetCooldowns();
  });

  test("the upstream refusing the client's request is client_error, answered once", async () => {
    const r = await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [] } });
    assert.equal(r.status, 400);
    const [record] = await requestRows(h, '?limit=1');
    assert.equal(record.outcome, 'client_error');
    assert.equal(record.status, 400);
    assert.equal(record.attempts.length, 1);
  });

  test('no account to serve: no_account, 503; /healthz says unavailable with 503', async () => {
    for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, true);
    try {
      const r = await h.request('/v1/chat/completions', { body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 503);
      const [record] = await requestRows(h, '?limit=1');
      assert.equal(record.outcome, 'no_account');
      assert.equal(record.account, null);
      assert.equal(record.status, 503);
      const health = await h.request('/healthz');
      assert.equal(health.status, 503);
      assert.equal((health.json as { status: string }).status, 'unavailable');
    } finally {
      for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, false);
    }
    const health = await h.request('/healthz');
    assert.equal(health.status, 200);
    assert.equal((health.json as { status: string }).status, 'ok');
  });

  test('/healthz: degraded while an account is cooling', async () => {
    h.upstream.fail({ kind: 'status', status: 500, times: 1 });
    await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'x' }] }] } });
    const health = await h.request('/healthz');
    assert.equal(health.status, 200);
    assert.equal((health.json as { status: string }).status, 'degraded');
    h.pool.resetCooldowns();
  });

  test('errors and outcomes add up in /admin/usage and /metrics', async () => {
    const rows = await usageRows(h, '?by=model');
    const records = await requestRows(h, '?limit=1000');
    const errors = records.filter((r) => r.outcome !== 'ok' && r.outcome !== 'cancelled').length;
    assert.equal(rows.reduce((n, r) => n + r.errors, 0), errors);
    const metrics = metricLines((await h.request('/metrics')).text, 'tokenpool_requests_total');
    for (const outcome of ['ok', 'cut', 'client_error', 'no_account']) {
      assert.equal(
        metrics.filter((l) => l.labels.outcome === outcome).reduce((n, l) => n + l.value, 0),
        records.filter((r) => r.outcome === outcome).length,
        outcome,
      );
    }
    const cooldowns = metricLines((await h.request('/metrics')).text, 'tokenpool_refresh_total');
    assert.ok(Array.isArray(cooldowns));
  });
});

describe('usage over HTTP: parameters and the live follow', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ accounts: 1 });
  });
  after(() => h.close());

  test('bad parameters get a 400 that names them', async () => {
    const cases: [string, RegExp][] = [
      ['/admin/usage?since=yesterday', /since/],
      ['/admin/usage?until=soon', /until/],
      ['/admin/usage?by=colour', /by/],
      ['/admin/usage?by=hour,day', /by/],
      ['/admin/usage?since=1h&until=2h', /until/],
      ['/admin/usage?sort=asc', /sort/],
      ['/admin/usage?since=60d&by=hour', /since/],
      ['/admin/requests?limit=0', /limit/],
      ['/admin/requests?limit=lots', /limit/],
      ['/admin/requests?outcome=great', /outcome/],
    ];
    for (const [path, names] of cases) {
      const r = await h.request(path);
      assert.equal(r.status, 400, path);
      const message = (r.json as { error: { message: string } }).error.message;
      assert.match(message, names, `${path}: ${message}`);
    }
  });

  test('the views need the key', async () => {
    for (const path of ['/admin/usage', '/admin/requests', '/metrics']) assert.equal((await h.request(path, { key: null })).status, 401, path);
  });

  test('Accept: text/event-stream follows new requests live, filtered', async () => {
    const response = await openStream(h, '/admin/requests?limit=5&model=gemini-2.5-pro');
    const events: RequestRow[] = [];
    let buffered = '';
    const seen = new Promise<void>((resolve) => {
      response.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^event: request\ndata: (.*)$/m.exec(block);
          if (data) events.push(JSON.parse(data[1]) as RequestRow);
          if (events.length === 1) resolve();
        }
      });
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'not this one' }] }] } });
    await h.request('/v1beta/models/gemini-2.5-pro:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'this one' }] }] } });
    await seen;
    assert.equal(events.length, 1);
    assert.equal(events[0].upstream_model, 'gemini-2.5-pro');
    assert.equal(events[0].outcome, 'ok');
    response.destroy();
  });

  test('a follower that never reads is dropped without growing memory', async () => {
    const response = await openStream(h, '/admin/requests');
    response.pause(); // never read again
    const closed = new Promise<void>((resolve) => response.socket.once('close', () => resolve()));
    const template = (await requestRows(h, '?limit=1'))[0];
    assert.ok(template, 'a request was recorded before');
    const padded = { ...template, model: 'x'.repeat(2000) };
    let sent = 0;
    let done = false;
    void closed.then(() => (done = true));
    // recorded in-process: fills the socket's buffers far past the cap, fast
    while (!done && sent < 40_000) {
      for (let i = 0; i < 500; i++) {
        const id = `pad-${sent++}`;
        h.server.usage.ended({ atMs: Date.now(), record: () => ({ ...padded, id }) });
      }
      h.server.usage.settle();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await closed;
    assert.ok(sent < 40_000, `dropped after ${sent} records (~${Math.round((sent * 2.3) / 1024)} MB)`);
    assert.ok(h.log.lines.some((l) => /dropped a follower/.test(l.message)));
  });

  test('closing the server ends a follower instead of waiting for it', async () => {
    const h2 = await startProxyHarness({ accounts: 1, drainTimeoutMs: 10_000 });
    const response = await openStream(h2, '/admin/requests');
    const ended = new Promise<void>((resolve) => response.on('end', () => resolve()).resume());
    const started = Date.now();
    await h2.close();
    await ended;
    assert.ok(Date.now() - started < 5000, 'close did not wait out the drain timeout');
  });
});

function openStream(h: ProxyHarness, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${h.url}${path}`, { headers: { authorization: `Bearer ${h.apiKey}`, accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('usage over HTTP: logging.capture_bodies', () => {
  test('off (the default): no bodies in the records', async () => {
    const h = await startProxyHarness({ accounts: 1 });
    try {
      await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'secret prompt words' }] }] } });
      const r = await h.request('/admin/requests');
      assert.ok(!('bodies' in (r.json as { requests: RequestRow[] }).requests[0]));
      assert.ok(!r.text.includes('secret prompt words'));
    } finally {
      await h.close();
    }
  });

  test('on: request and answer kept with the record, images and signatures elided, each cut at 64 KB', async () => {
    const h = await startProxyHarness({ accounts: 1, configure: (c) => (c.logging.capture_bodies = true) });
    try {
      const image = 'iVBORw0KGgo' + 'A'.repeat(5000);
      const r = await h.request('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {
        body: {
          contents: [{ role: 'user', parts: [{ text: 'describe this picture [[think]]' }, { inlineData: { mimeType: 'image/png', data: image } }] }],
          generationConfig: { thinkingConfig: { includeThoughts: true } },
        },
      });
      assert.equal(r.status, 200);
      const signature = /"thoughtSignature": ?"([^"]+)"/.exec(r.text)?.[1];
      const [record] = ((await h.request('/admin/requests')).json as { requests: RequestRow[] }).requests;
      assert.ok(record.bodies, 'bodies captured');
      assert.match(record.bodies.request, /describe this picture/);
      assert.ok(!record.bodies.request.includes(image), 'the image is elided');
      assert.match(record.bodies.request, /"data":"<5011 chars elided>"/);
      assert.match(record.bodies.response, /usageMetadata/);
      assert.ok(signature, 'the answer carried a thought signature');
      assert.ok(!record.bodies.response.includes(`"${signature}"`), 'the signature is elided');
      assert.match(record.bodies.response, /"thoughtSignature": ?"<\d+ chars elided>"/);
      const big = 'word '.repeat(30_000);
      await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: big }] }] } });
      const [last] = ((await h.request('/admin/requests?limit=1')).json as { requests: RequestRow[] }).requests;
      assert.ok(Buffer.byteLength(last.bodies!.request) <= 64 * 1024 + 40, `cut: ${Buffer.byteLength(last.bodies!.request)}`);
      assert.match(last.bodies!.request, /<cut at 65536 bytes>$/);
      assert.ok(!JSON.stringify(last).includes(h.apiKey));
    } finally {
      await h.close();
    }
  });
});
