/**
 * Quota windows over real HTTP against the fake Gemini API (DESIGN section 5): a 429 whose
 * QuotaFailure names a per-day quota cools that account and model until midnight Pacific, whatever
 * short retryDelay comes with it, and leaves its other models serving; a per-minute one follows
 * RetryInfo. The admin API's cooldown carries what the 429 said (time, delay, quota id, window).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccountSummary, CooldownView } from '../../src/core/account';
import { nextQuotaReset } from '../../src/core/quota';
import { sampleRequest, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

async function withHarness(body: (h: ProxyHarness) => Promise<void>): Promise<void> {
  const h = await startProxyHarness({ accounts: 2, configure: (c) => (c.upstream.kind = 'gemini') });
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

const ask = (h: ProxyHarness, model = 'gemini-2.5-flash', shape: 'google' | 'openai' = 'google') => {
  const { path, body } = sampleRequest(shape, { model });
  return h.request(path, { body });
};

async function cooldownOf(h: ProxyHarness, email: string, model: string): Promise<CooldownView | undefined> {
  const { accounts } = (await h.request('/admin/accounts')).json as { accounts: AccountSummary[] };
  return accounts.find((a) => a.email === email)?.cooldowns.find((c) => c.model === model);
}

describe('quota windows', () => {
  test('per-day: the account+model cools until midnight Pacific despite a 12 s retryDelay; its other models and the other account serve', () =>
    withHarness(async (h) => {
      const [first, second] = h.accounts;
      h.upstream.fail({ email: first.email, kind: 'status', status: 429, quota: 'requests-per-day', retryDelay: '12s', path: 'gemini-2.5-flash' });
      const before = Date.now();
      for (let i = 0; i < 3; i++) assert.equal((await ask(h)).status, 200);
      assert.equal(h.upstream.requestsFor(first.email).length, 1, 'the exhausted account is not asked again today');
      assert.equal(h.upstream.requestsFor(second.email).length, 3);

      const cooldown = (await cooldownOf(h, first.email, 'gemini-2.5-flash'))!;
      const reset = Math.ceil(nextQuotaReset(before) / 1000);
      assert.ok(Math.abs(cooldown.until - reset) <= 2, `until ${new Date(cooldown.until * 1000).toISOString()} ~ ${new Date(reset * 1000).toISOString()}`);
      assert.deepEqual({ ...cooldown.last_429, at: undefined }, {
        at: undefined,
        retry_delay_s: 12,
        quota_id: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
        quota_metric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        window: 'per-day',
      });
      assert.ok(Math.abs(cooldown.last_429!.at - before / 1000) <= 2);
      assert.equal((await h.store.read(first.id))?.proxy_disabled, false, 'a per-day quota of one model does not stop the account');

      // Another model on the same account still serves.
      const servedBefore = h.upstream.requestsFor(first.email).length;
      for (let i = 0; i < 2; i++) assert.equal((await ask(h, 'gemini-2.5-pro')).status, 200);
      assert.equal(h.upstream.requestsFor(first.email).length, servedBefore + 1);
    }));

  test('per-day on every account: a translated client gets 429 with retry-after until the reset', () =>
    withHarness(async (h) => {
      h.upstream.fail({ kind: 'status', status: 429, quota: 'requests-per-day', retryDelay: '12s', times: 2 });
      const before = Date.now();
      const r = await ask(h, 'gemini-2.5-flash', 'openai');
      assert.equal(r.status, 429);
      const wait = Number(r.headers['retry-after']);
      const untilReset = (nextQuotaReset(before) - before) / 1000;
      assert.ok(Math.abs(wait - untilReset) <= 3, `retry-after ${wait} ~ ${untilReset}`);
      assert.ok(wait > 12);
    }));

  test('per-minute: follows RetryInfo (41 s) and says so', () =>
    withHarness(async (h) => {
      const [first] = h.accounts;
      h.upstream.fail({ email: first.email, kind: 'status', status: 429, quota: 'requests-per-minute', retryDelay: '41s' });
      const before = Date.now();
      for (let i = 0; i < 2; i++) assert.equal((await ask(h)).status, 200);
      const cooldown = (await cooldownOf(h, first.email, 'gemini-2.5-flash'))!;
      assert.ok(Math.abs(cooldown.until - (before / 1000 + 41)) <= 2, `until ${cooldown.until}`);
      assert.equal(cooldown.last_429?.window, 'per-minute');
      assert.equal(cooldown.last_429?.quota_id, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
      assert.equal(cooldown.last_429?.retry_delay_s, 41);
    }));
});
