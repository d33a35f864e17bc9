/**
 * Failover decisions carried out (src/core/outcomes.ts) through TokenPool.report: cooldowns,
 * quota protection on disk, success clearing them, and waitForEligible on their ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MODEL, emailsOf, endS, harness, quota429 } from '../helpers/pool-harness';

describe('TokenPool outcomes', () => {
  test('a 429 asking for 2 h sets quota protection on disk; after _until the account serves again', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com');
    await h.addAccount('bob@example.com');
    await h.pool.load();
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    const nowS = Math.floor(h.clock.ms / 1000);

    const decision = h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, googleError: quota429('7200s') });
    assert.equal(decision.action, 'rotate');
    assert.equal(decision.quotaProtectUntilSeconds, 7200);
    await h.pool.flush();

    const onDisk = await h.readFile(ada.id);
    assert.deepEqual(
      [onDisk.proxy_disabled, onDisk.proxy_disabled_reason, onDisk.proxy_disabled_at, onDisk.proxy_disabled_until],
      [true, 'quota_protection', nowS, nowS + 7200],
    );
    assert.equal(onDisk.disabled, false);
    assert.deepEqual(await emailsOf(h.pool, 3), Array(3).fill('bob@example.com'));
    assert.deepEqual(await emailsOf(h.pool, 2, { model: 'gemini-2.5-flash' }), Array(2).fill('bob@example.com'));
    const summary = h.pool.summaries()[0];
    assert.deepEqual([summary.state, summary.proxy_disabled_reason, summary.proxy_disabled_until], ['proxy_disabled', 'quota_protection', nowS + 7200]);

    h.clock.ms += 7199_000;
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    h.clock.ms += 1000;
    const lease = await h.pool.acquire(MODEL);
    assert.equal(lease?.email, 'ada@example.com');
    assert.equal(h.pool.summaries()[0].state, 'healthy');

    // The first success writes last_used and clears the lapsed protection on disk.
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    await h.pool.flush();
    const cleared = await h.readFile(ada.id);
    assert.deepEqual([cleared.proxy_disabled, cleared.proxy_disabled_reason, cleared.proxy_disabled_until], [false, null, null]);
    assert.equal(cleared.last_used, Math.floor(h.clock.ms / 1000));

    // Enabling by hand ends quota protection at once, cooldown included.
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, retryAfterHeader: '7200' });
    await h.pool.flush();
    assert.equal((await h.readFile(ada.id)).proxy_disabled_reason, 'quota_protection');
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    await h.pool.setProxyDisabled(ada.id, false);
    assert.equal((await h.readFile(ada.id)).proxy_disabled, false);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
  });

  test('cooldowns: 503 cools the account (doubling), 429 cools one model, success clears', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com');
    await h.addAccount('bob@example.com');
    await h.pool.load();
    const t0 = h.clock.ms;

    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 }).cooldown?.seconds, 10);
    assert.equal(h.pool.summaries()[0].state, 'cooling');
    assert.deepEqual(h.pool.summaries()[0].cooldowns, [{ model: '*', until: endS(t0 + 10_000), reason: '503 Service Unavailable' }]);
    assert.deepEqual(await emailsOf(h.pool, 2, { model: 'gemini-2.5-flash' }), ['bob@example.com', 'bob@example.com']);
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'network', detail: 'ECONNRESET' }).cooldown?.seconds, 20);
    const availability = h.pool.availability(MODEL);
    assert.deepEqual(
      [availability.cooling, availability.healthy, availability.eligibleForModel, availability.earliestCooldownEnd],
      [1, 1, 1, endS(t0 + 20_000)],
    );

    h.clock.ms += 20_000;
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429 });
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    assert.equal((await h.pool.acquire('gemini-2.5-flash'))?.email, 'ada@example.com');
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 429 }).cooldown?.seconds, 10);
    assert.deepEqual(h.pool.summaries()[0].cooldowns.map((c) => c.model), [MODEL]);
    assert.equal(h.pool.summaries()[0].state, 'healthy');

    h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    assert.deepEqual(h.pool.summaries()[0].cooldowns, []);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 }).cooldown?.seconds, 10, 'the success reset the doubling');

    h.pool.resetCooldowns();
    assert.equal(h.pool.counts().cooling, 0);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    await h.pool.flush();
  });

  test('waitForEligible resolves when the earliest cooldown ends, or false after the wait', async () => {
    const h = await harness({ realClock: true });
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, retryAfterHeader: '1' });
    assert.equal(await h.pool.acquire(MODEL), undefined);
    assert.equal(await h.pool.waitForEligible(MODEL, 100), false);
    const started = Date.now();
    assert.equal(await h.pool.waitForEligible(MODEL, 5000), true);
    assert.ok(Date.now() - started < 1500);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');

    h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 });
    const controller = new AbortController();
    const waiting = h.pool.waitForEligible(MODEL, 5000, controller.signal);
    controller.abort();
    assert.equal(await waiting, false);
    const resetting = h.pool.waitForEligible(MODEL, 5000);
    h.pool.resetCooldowns();
    assert.equal(await resetting, true);
  });
});
