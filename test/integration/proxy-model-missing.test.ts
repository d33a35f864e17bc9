/**
 * A model the projects lack (DESIGN section 5): once every eligible account has answered 404 for
 * it, the next requests get Google's own 404 message at once in the client's shape, not a 503 that
 * blames cooling accounts for an hour; the cooldown stays per account and model, and the admin API
 * says the model is missing in that account's project. Real HTTP against the fake Google.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccountSummary } from '../../src/core/account';
import { assertErrorShape, sampleRequest, startProxyHarness, type ErrorShape, type ProxyHarness } from '../helpers/proxy-harness';

const MISSING = 'gemini-9-pro';

async function withHarness(accounts: number, body: (h: ProxyHarness) => Promise<void>): Promise<void> {
  const h = await startProxyHarness({ accounts, configure: (c) => (c.routing.max_wait_s = 5) });
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

const ask = (h: ProxyHarness, shape: ErrorShape, model = MISSING) => {
  const { path, body } = sampleRequest(shape, { model });
  return h.request(path, { body });
};

describe('a model missing in every project', () => {
  test('after the first 404s, every protocol gets Google\'s 404 message at once, and no account is asked again', () =>
    withHarness(2, async (h) => {
      h.upstream.fail({ kind: 'status', status: 404, path: MISSING, times: Infinity });
      const first = await ask(h, 'google');
      assert.equal(first.status, 404);
      assert.equal(h.upstream.requests.length, 2, 'both accounts tried once');
      const googleMessage = (first.json as { error: { message: string } }).error.message;
      assert.match(googleMessage, /^Publisher Model `projects\/<project>\/locations\/us-central1\/publishers\/google\/models\/gemini-9-pro` was not found/);

      for (const shape of ['openai', 'anthropic', 'google'] as const) {
        const started = Date.now();
        const r = await ask(h, shape);
        assert.equal(r.status, 404, `${shape}: ${r.text}`);
        assert.equal(assertErrorShape(shape, 404, r.json), googleMessage, shape);
        assert.ok(Date.now() - started < 1000, `${shape} answered at once, not after max_wait_s`);
        assert.equal(r.headers['retry-after'], undefined);
      }
      assert.equal(h.upstream.requests.length, 2, 'the cooldown per account and model holds');

      const { accounts } = (await h.request('/admin/accounts')).json as { accounts: AccountSummary[] };
      for (const a of accounts) {
        assert.equal(a.state, 'healthy');
        const [cooldown] = a.cooldowns;
        assert.equal(cooldown.model, MISSING);
        assert.equal(cooldown.model_not_found, true);
        assert.match(cooldown.reason, /^404 Not Found: Publisher Model/);
      }
      // Another model is served as ever.
      assert.equal((await ask(h, 'openai', 'gemini-2.5-flash')).status, 200);
    }));

  test('while one account\'s project has the model, it serves it', () =>
    withHarness(3, async (h) => {
      const [a, b, c] = h.accounts;
      for (const { email } of [a, b]) h.upstream.fail({ email, kind: 'status', status: 404, path: MISSING, times: Infinity });
      for (let i = 0; i < 4; i++) assert.equal((await ask(h, 'openai')).status, 200);
      assert.equal(h.upstream.requestsFor(c.email).filter((r) => r.status === 200).length, 4);
    }));

  test('an account cooling for another reason keeps the 503 that says why', () =>
    withHarness(2, async (h) => {
      const [a, b] = h.accounts;
      h.upstream.fail({ email: a.email, kind: 'status', status: 404, path: MISSING, times: Infinity });
      h.upstream.fail({ email: b.email, kind: 'status', status: 429, retryDelay: '600s', path: MISSING });
      assert.ok([404, 429].includes((await ask(h, 'openai')).status));
      const r = await ask(h, 'openai');
      assert.equal(r.status, 503, r.text);
      assert.match(assertErrorShape('openai', 503, r.json), /No account can serve gemini-9-pro/);
    }));
});
