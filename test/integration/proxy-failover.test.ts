/**
 * The attempt loop against FakeGoogle + FakeUpstream: spreading, cooldowns shown in the admin API,
 * the one refresh after a 401, invalid_grant in the middle of a request, 503 with the reason,
 * upstream failures passed on with their status, timeouts, and the gemini upstream kind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccountSummary } from '../../src/core/account';
import { assertErrorShape, sampleRequest, startProxyHarness, type ErrorShape, type ProxyHarness } from '../helpers/proxy-harness';

const SHAPES: ErrorShape[] = ['openai', 'anthropic', 'google'];

async function withHarness(options: Parameters<typeof startProxyHarness>[0], body: (h: ProxyHarness) => Promise<void>): Promise<void> {
  const h = await startProxyHarness(options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

const ask = (h: ProxyHarness, shape: ErrorShape = 'openai', prompt = 'hello') => {
  const { path, body } = sampleRequest(shape, { prompt });
  return h.request(path, { body });
};

const summaries = async (h: ProxyHarness): Promise<AccountSummary[]> =>
  ((await h.request('/admin/accounts')).json as { accounts: AccountSummary[] }).accounts;

const nowS = () => Math.floor(Date.now() / 1000);

describe('proxy failover', () => {
  test('round-robin spreads requests over the accounts', () =>
    withHarness({ accounts: 3 }, async (h) => {
      for (let i = 0; i < 6; i++) assert.equal((await ask(h, 'openai', `q${i}`)).status, 200);
      const perAccount = h.accounts.map((a) => h.upstream.requestsFor(a.email).length);
      assert.deepEqual(perAccount, [2, 2, 2]);
    }));

  test('the answer echoes the prompt through every protocol, and the upstream saw a pool token, never the client key', () =>
    withHarness({ accounts: 2 }, async (h) => {
      const expected: Record<ErrorShape, (json: unknown) => string> = {
        openai: (j) => (j as { choices: { message: { content: string } }[] }).choices[0].message.content,
        anthropic: (j) => (j as { content: { text: string }[] }).content[0].text,
        google: (j) => (j as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0].content.parts[0].text,
      };
      const keyHeaders: Record<ErrorShape, Record<string, string>> = {
        openai: { authorization: `Bearer ${h.apiKey}` },
        anthropic: { 'x-api-key': h.apiKey },
        google: { 'x-goog-api-key': h.apiKey },
      };
      for (const shape of SHAPES) {
        const { path, body } = sampleRequest(shape, { prompt: `ping ${shape}` });
        const r = await h.request(path, { body, key: null, headers: { ...keyHeaders[shape], cookie: `k=${h.apiKey}` } });
        assert.equal(r.status, 200, r.text);
        assert.equal(expected[shape](r.json), `echo: ping ${shape}`);
      }
      for (const seen of h.upstream.requests) {
        assert.ok(h.accounts.some((a) => a.email === seen.email), 'authorised by a pool account');
        assert.ok(!JSON.stringify(seen.headers).includes(h.apiKey), 'the client key never reaches Google');
        assert.equal(seen.headers['x-api-key'], undefined);
        assert.equal(seen.headers['x-goog-api-key'], undefined);
      }
    }));

  test('a 429 on one account is served by another; the first shows the cooldown Google asked for', () =>
    withHarness({ accounts: 2 }, async (h) => {
      const [first] = h.accounts;
      h.upstream.fail({ email: first.email, kind: 'status', status: 429, retryDelay: '30s', times: Infinity });
      for (let i = 0; i < 4; i++) assert.equal((await ask(h)).status, 200);
      const limited = h.upstream.requestsFor(first.email);
      assert.equal(limited.length, 1, 'the cooling account is not tried again');
      assert.equal(limited[0].status, 429);

      const summary = (await summaries(h)).find((s) => s.email === first.email)!;
      assert.equal(summary.state, 'healthy', 'a 429 cools the model, not the whole account');
      assert.equal(summary.cooldowns.length, 1);
      assert.equal(summary.cooldowns[0].model, 'gemini-2.5-flash');
      assert.ok(Math.abs(summary.cooldowns[0].until - (nowS() + 30)) <= 2, `until ${summary.cooldowns[0].until} ~ now + 30 s`);
      assert.match(summary.cooldowns[0].reason, /^429/);
    }));

  test('a 401 costs exactly one refresh, then the same account answers', () =>
    withHarness({ accounts: 1 }, async (h) => {
      const [only] = h.accounts;
      assert.equal((await ask(h)).status, 200);
      const before = h.google.tokenCalls(only.email);
      h.google.expireAccessTokens(only.email);
      const r = await ask(h);
      assert.equal(r.status, 200, r.text);
      assert.equal(h.google.tokenCalls(only.email) - before, 1);
      assert.deepEqual(h.upstream.requests.map((x) => x.status), [200, 401, 200]);
      assert.equal((await ask(h)).status, 200);
      assert.equal(h.google.tokenCalls(only.email) - before, 1, 'the new token is kept');
    }));

  test('invalid_grant in the middle of a request disables the account on disk, and the request still succeeds', () =>
    withHarness({ accounts: 2 }, async (h) => {
      const [doomed, other] = h.accounts;
      h.google.revokeRefreshToken(doomed.refreshToken);
      h.google.expireAccessTokens(doomed.email);
      for (let i = 0; i < 3; i++) {
        const r = await ask(h, 'anthropic');
        assert.equal(r.status, 200, r.text);
      }
      const onDisk = await h.store.read(doomed.id);
      assert.equal(onDisk?.disabled, true);
      assert.match(onDisk?.disabled_reason ?? '', /^invalid_grant: Token has been expired or revoked\./);
      assert.equal((await h.store.read(other.id))?.disabled, false);
      assert.equal(h.upstream.requestsFor(doomed.email).length, 0, 'its expired token is refused by the fake');
      assert.ok(
        h.log.lines.some((l) => l.level === 'error' && l.message.includes(`Disabling account due to invalid_grant (${doomed.email})`)),
      );
      const states = Object.fromEntries((await summaries(h)).map((s) => [s.email, s.state]));
      assert.deepEqual(states, { [doomed.email]: 'disabled', [other.email]: 'healthy' });
    }));

  test('all accounts disabled: 503 with Retry-After and the reason, in each protocol', () =>
    withHarness({ accounts: 2 }, async (h) => {
      for (const a of h.accounts) {
        h.google.revokeRefreshToken(a.refreshToken);
        h.google.expireAccessTokens(a.email);
      }
      const discovering = await ask(h, 'openai');
      assert.equal(discovering.status, 503, 'the request that finds both dead says why, not 401');
      assert.match(assertErrorShape('openai', 503, discovering.json), /2 disabled, 0 proxy_disabled, 0 cooling \(of 2 accounts\)/);
      for (const shape of SHAPES) {
        const r = await ask(h, shape);
        assert.equal(r.status, 503);
        assert.equal(r.headers['retry-after'], '60');
        assert.match(assertErrorShape(shape, 503, r.json), /No account can serve .*: 2 disabled/);
        const availability = (r.json as { error: { availability: Record<string, unknown> } }).error.availability;
        assert.deepEqual(availability, { total: 2, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 2, cooling_until: null });
      }
    }));

  test('503 while cooling names when the first account comes back (ISO time) and Retry-After counts down to it', () =>
    withHarness({ accounts: 1 }, async (h) => {
      h.upstream.fail({ kind: 'status', status: 429, retryDelay: '120s' });
      assert.equal((await ask(h)).status, 429);
      const r = await ask(h, 'google');
      assert.equal(r.status, 503);
      const message = assertErrorShape('google', 503, r.json);
      const iso = /cooling until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/.exec(message)?.[1];
      assert.ok(iso, message);
      assert.ok(Math.abs(Date.parse(iso) / 1000 - (nowS() + 120)) <= 2);
      const retryAfter = Number(r.headers['retry-after']);
      assert.ok(retryAfter >= 118 && retryAfter <= 121, `Retry-After ${retryAfter}`);
    }));

  test('no eligible account: waits up to max_wait_s for a cooldown to end, then serves', () =>
    withHarness({ accounts: 1, configure: (c) => (c.routing.max_wait_s = 5) }, async (h) => {
      h.upstream.fail({ kind: 'status', status: 429, retryDelay: '1s' });
      assert.equal((await ask(h)).status, 429);
      const started = Date.now();
      const r = await ask(h);
      assert.equal(r.status, 200);
      const waited = Date.now() - started;
      assert.ok(waited >= 500 && waited < 4000, `waited ${waited} ms`);
    }));

  for (const shape of SHAPES) {
    test(`${shape}: the upstream's failure status and message are kept after the retries`, () =>
      withHarness({ accounts: 2 }, async (h) => {
        h.upstream.fail({ kind: 'status', status: 500, times: Infinity });
        const r = await ask(h, shape);
        assert.equal(r.status, 500);
        assert.equal(assertErrorShape(shape, 500, r.json), 'Internal error encountered.');
        assert.equal(h.upstream.requests.length, 2, 'each account tried once');

        h.upstream.clearFailures();
        await h.request('/admin/cooldowns/reset', { method: 'POST' });
        h.upstream.fail({ kind: 'status', status: 429, retryDelay: '42s', times: Infinity });
        const limited = await ask(h, shape);
        assert.equal(limited.status, 429);
        assert.equal(limited.headers['retry-after'], '42');
        assert.match(assertErrorShape(shape, 429, limited.json), /^Resource exhausted/);
      }));
  }

  test('a 400 from upstream (the client\'s mistake) goes back at once, no retry, no cooldown', () =>
    withHarness({ accounts: 3 }, async (h) => {
      h.upstream.fail({ kind: 'status', status: 400, message: 'Unable to submit request because it has an empty text parameter.' });
      const r = await ask(h, 'google');
      assert.equal(r.status, 400);
      assert.equal(assertErrorShape('google', 400, r.json), 'Unable to submit request because it has an empty text parameter.');
      assert.equal(h.upstream.requests.length, 1);
      assert.ok((await summaries(h)).every((s) => s.cooldowns.length === 0));
    }));

  test('403 and 404 (model missing in the project) rotate and cool that account for that model only', () =>
    withHarness({ accounts: 3 }, async (h) => {
      const [a, b] = h.accounts;
      h.upstream.fail({ email: a.email, kind: 'status', status: 403, times: Infinity });
      h.upstream.fail({ email: b.email, kind: 'status', status: 404, times: Infinity });
      for (let i = 0; i < 3; i++) assert.equal((await ask(h)).status, 200);
      const byEmail = Object.fromEntries((await summaries(h)).map((s) => [s.email, s]));
      const forbidden = byEmail[a.email].cooldowns[0];
      assert.equal(forbidden.model, 'gemini-2.5-flash');
      assert.ok(Math.abs(forbidden.until - (nowS() + 30 * 60)) <= 2);
      assert.match(forbidden.reason, /^403 Forbidden: Permission 'aiplatform\.endpoints\.predict' denied/);
      const missing = byEmail[b.email].cooldowns[0];
      assert.ok(Math.abs(missing.until - (nowS() + 3600)) <= 2);
      assert.equal(byEmail[a.email].state, 'healthy');
      // another model is still served by the cooled accounts
      h.upstream.clearFailures();
      const pro = await h.request(sampleRequest('openai', { model: 'gemini-2.5-pro' }).path, { body: sampleRequest('openai', { model: 'gemini-2.5-pro' }).body });
      assert.equal(pro.status, 200);
    }));

  test('a connection reset before the headers rotates and cools the account for 10 s', () =>
    withHarness({ accounts: 2 }, async (h) => {
      const [flaky] = h.accounts;
      h.upstream.fail({ email: flaky.email, kind: 'reset' });
      for (let i = 0; i < 2; i++) assert.equal((await ask(h)).status, 200);
      const summary = (await summaries(h)).find((s) => s.email === flaky.email)!;
      assert.equal(summary.state, 'cooling');
      assert.equal(summary.cooldowns[0].model, '*');
      assert.ok(Math.abs(summary.cooldowns[0].until - (nowS() + 10)) <= 2);
    }));

  test('an upstream that hangs is given up on after request_timeout_s, and another account answers', () =>
    withHarness({ accounts: 2, configure: (c) => (c.proxy.request_timeout_s = 1) }, async (h) => {
      const [stuck] = h.accounts;
      h.upstream.fail({ email: stuck.email, kind: 'hang', times: Infinity });
      const started = Date.now();
      const results = [await ask(h), await ask(h)];
      assert.deepEqual(results.map((r) => r.status), [200, 200]);
      assert.ok(Date.now() - started < 5000);
      const hung = h.upstream.requestsFor(stuck.email);
      assert.equal(hung.length, 1);
      assert.equal(await hung[0].settled, 'aborted', 'the proxy hung up on it');
    }));

  test('max_attempts bounds the tries; 0 tries every eligible account', async () => {
    for (const [maxAttempts, expected] of [[2, 2], [0, 4]] as const) {
      await withHarness({ accounts: 4, configure: (c) => (c.routing.max_attempts = maxAttempts) }, async (h) => {
        h.upstream.fail({ kind: 'status', status: 503, times: Infinity });
        const r = await ask(h);
        assert.equal(r.status, 503);
        assert.equal(assertErrorShape('openai', 503, r.json), 'The service is currently unavailable.');
        assert.equal(h.upstream.requests.length, expected, `max_attempts ${maxAttempts}`);
      });
    }
  });

  test('session affinity: the same x-tokenpool-session keeps its account', () =>
    withHarness({ accounts: 3 }, async (h) => {
      const { path, body } = sampleRequest('openai');
      for (let i = 0; i < 4; i++) {
        assert.equal((await h.request(path, { body, headers: { 'x-tokenpool-session': 'conversation-1' } })).status, 200);
      }
      const used = new Set(h.upstream.requests.map((r) => r.email));
      assert.equal(used.size, 1);
      assert.equal(h.upstream.requests[0].headers['x-tokenpool-session'], undefined, 'not forwarded');
    }));

  test('each account\'s own project and location are used', () =>
    withHarness({ accounts: [{ projectId: 'proj-a', location: 'europe-west4' }, { projectId: null }] }, async (h) => {
      await ask(h);
      await ask(h);
      const paths = Object.fromEntries(h.upstream.requests.map((r) => [r.email, `${r.project}/${r.location}`]));
      assert.deepEqual(paths, { [h.accounts[0].email]: 'proj-a/europe-west4', [h.accounts[1].email]: 'harness-project/us-central1' });
    }));
});

describe('proxy on the gemini upstream kind', () => {
  test('Gemini passes through, OpenAI on a Gemini model is translated to generateContent, both with x-goog-user-project', () =>
    withHarness({ accounts: 1, configure: (c) => (c.upstream.kind = 'gemini') }, async (h) => {
      const gemini = await ask(h, 'google', 'to gemini');
      assert.equal(gemini.status, 200, gemini.text);
      const openai = await ask(h, 'openai', 'to openai');
      assert.equal(openai.status, 200, openai.text);
      assert.deepEqual(h.upstream.requests.map((r) => [r.route, r.headers['x-goog-user-project']]), [
        ['gemini-api', 'harness-project'],
        ['gemini-api', 'harness-project'],
      ]);
      assert.ok(h.upstream.requests[1].path.endsWith(':generateContent'));
    }));

  test('Anthropic is a 404 in Anthropic\'s shape, and no account is used', () =>
    withHarness({ accounts: 1, configure: (c) => (c.upstream.kind = 'gemini') }, async (h) => {
      for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
        const r = await h.request(path, { body: sampleRequest('anthropic').body });
        assert.equal(r.status, 404);
        assert.match(assertErrorShape('anthropic', 404, r.json), /not served by the Gemini API/);
        assert.equal((r.json as { error: { type: string } }).error.type, 'not_found_error');
      }
      assert.equal(h.upstream.requests.length, 0);
    }));
});
