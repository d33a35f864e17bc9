/**
 * Headroom and `routing.limits` (DESIGN section 11) against the fake Google: an account at its
 * rpm / tpm / rpd for a model is skipped before Google is asked (the upstream never sees the
 * request), the 503 says so, other models are unaffected, and `/admin/headroom` shows usage
 * against the limits and the last 429 with its RetryInfo delay and QuotaFailure quota.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HeadroomView } from '../../src/core/usage/headroom';
import { startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const gemini = (h: ProxyHarness, model: string, text = 'a few words here') =>
  h.request(`/v1beta/models/${model}:generateContent`, { body: { contents: [{ role: 'user', parts: [{ text }] }] } });

interface HeadroomAnswer {
  accounts: { account: string; state: string; cooldowns: { model: string; until: number; reason: string }[]; models: HeadroomView[] }[];
}

/** The tests count within one minute: start clear of a minute's end. */
async function awayFromMinuteEnd(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 100));
}

const headroom = async (h: ProxyHarness): Promise<HeadroomAnswer> => (await h.request('/admin/headroom')).json as HeadroomAnswer;

describe('routing.limits', () => {
  test('rpm: each account takes its limit of requests a minute for the model, then is skipped before Google says 429', async () => {
    await awayFromMinuteEnd();
    const h = await startProxyHarness({ accounts: 2, configure: (c) => (c.routing.limits = { 'gemini-2.5-*': { rpm: 2 }, 'gemini-2.5-pro': { rpm: 1 } }) });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await gemini(h, 'gemini-2.5-flash')).status, 200, `request ${i}`);
      const upstreamBefore = h.upstream.requests.length;
      const refused = await gemini(h, 'gemini-2.5-flash');
      assert.equal(refused.status, 503);
      assert.match((refused.json as { error: { message: string } }).error.message, /2 at their routing\.limits for gemini-2\.5-flash/);
      assert.equal(h.upstream.requests.length, upstreamBefore, 'Google was not asked');
      const perAccount = h.accounts.map((a) => h.upstream.requestsFor(a.email).length);
      assert.deepEqual(perAccount, [2, 2]);
      // another model has its own limit (the more specific key) and its own count
      assert.equal((await gemini(h, 'gemini-2.5-pro')).status, 200);
      assert.equal((await gemini(h, 'gemini-2.5-pro')).status, 200);
      assert.equal((await gemini(h, 'gemini-2.5-pro')).status, 503);
      // the views show usage against the limit
      const view = await headroom(h);
      for (const a of view.accounts) {
        const flash = a.models.find((m) => m.model === 'gemini-2.5-flash')!;
        assert.deepEqual(flash.minute.requests, 2);
        assert.deepEqual(flash.limits, { rpm: 2 });
        assert.ok(flash.today.requests >= 2);
        assert.ok(flash.minute.tokens > 0);
        assert.deepEqual(a.models.find((m) => m.model === 'gemini-2.5-pro')!.limits, { rpm: 1 });
      }
      const [last] = ((await h.request('/admin/requests?limit=1')).json as { requests: { outcome: string }[] }).requests;
      assert.equal(last.outcome, 'no_account');
    } finally {
      await h.close();
    }
  });

  test('tpm and rpd: tokens a minute and requests a quota day', async () => {
    await awayFromMinuteEnd();
    const h = await startProxyHarness({ accounts: 1, configure: (c) => (c.routing.limits = { 'gemini-2.5-flash': { tpm: 5 }, '*': { rpd: 2 } }) });
    try {
      assert.equal((await gemini(h, 'gemini-2.5-flash', 'one two three four five six')).status, 200);
      assert.equal((await gemini(h, 'gemini-2.5-flash')).status, 503, 'past 5 tokens this minute');
      assert.equal((await gemini(h, 'gemini-2.5-pro')).status, 200);
      assert.equal((await gemini(h, 'gemini-2.5-pro')).status, 200);
      const refused = await gemini(h, 'gemini-2.5-pro');
      assert.equal(refused.status, 503, 'rpd 2 reached');
      const retryAfter = Number(refused.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 25 * 3600, `retry-after until the quota day ends: ${retryAfter}`);
    } finally {
      await h.close();
    }
  });

  test('no limits: nothing is skipped', async () => {
    await awayFromMinuteEnd();
    const h = await startProxyHarness({ accounts: 1 });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await gemini(h, 'gemini-2.5-flash')).status, 200);
      const [view] = (await headroom(h)).accounts;
      assert.equal(view.models[0].limits, null);
      assert.equal(view.models[0].minute.requests, 5);
    } finally {
      await h.close();
    }
  });
});

describe('headroom: the last 429', () => {
  test('time, RetryInfo delay, QuotaFailure quota id and its window; the cooldown beside it', async () => {
    const h = await startProxyHarness({ accounts: 2 });
    try {
      h.upstream.fail({ kind: 'status', status: 429, retryDelay: '42s', quota: 'requests-per-minute', email: h.accounts[0].email });
      h.upstream.fail({ kind: 'status', status: 429, quota: 'requests-per-day', email: h.accounts[1].email });
      const r = await gemini(h, 'gemini-2.5-flash');
      assert.equal(r.status, 429);
      const view = await headroom(h);
      const [first, second] = h.accounts.map((a) => view.accounts.find((v) => v.account === a.email)!);
      const flash = (v: typeof first) => v.models.find((m) => m.model === 'gemini-2.5-flash')!;
      assert.equal(flash(first).last_429?.retry_delay_s, 42);
      assert.equal(flash(first).last_429?.quota_id, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
      assert.equal(flash(first).last_429?.window, 'minute');
      assert.ok(Math.abs(Date.parse(flash(first).last_429!.time) - Date.now()) < 10_000);
      assert.equal(flash(second).last_429?.window, 'day');
      assert.equal(flash(second).last_429?.retry_delay_s, null);
      assert.ok(first.cooldowns.some((c) => c.model === 'gemini-2.5-flash' && /^429/.test(c.reason)), 'the cooldown and its end');
    } finally {
      await h.close();
    }
  });
});
