import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Availability } from '../../src/core/pool';
import { cooldownWaitMs, noAccountAvailable } from '../../src/proxy/forward';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const nowS = NOW / 1000;
const availability = (over: Partial<Availability>): Availability => ({
  total: 3, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 0, eligibleForModel: 0, limited: 0, earliestCooldownEnd: null, ...over,
});

describe('cooldownWaitMs: wait for a cooldown only when it ends within max_wait_s', () => {
  const table: [string, Partial<Availability>, number, number | undefined][] = [
    ['nothing cooling: waiting cannot help', { disabled: 3 }, 5, undefined],
    ['ends in 2 s, max 5 s: wait 2 s and a little', { cooling: 1, earliestCooldownEnd: nowS + 2 }, 5, 2250],
    ['ends in 30 s, max 5 s: answer now', { cooling: 1, earliestCooldownEnd: nowS + 30 }, 5, undefined],
    ['ends in 5 s exactly, max 5 s: capped at max', { cooling: 1, earliestCooldownEnd: nowS + 5 }, 5, 5000],
    ['already ended (a race)', { cooling: 1, earliestCooldownEnd: nowS - 1 }, 5, 250],
    ['max_wait_s 0: never wait', { cooling: 1, earliestCooldownEnd: nowS + 1 }, 0, undefined],
  ];
  for (const [name, a, maxWait, expected] of table) {
    test(name, () => assert.equal(cooldownWaitMs(availability(a), maxWait, NOW), expected));
  }
});

describe('noAccountAvailable: a 503 that says why', () => {
  test('counts, the earliest end as ISO time, and Retry-After counting down to it', () => {
    const err = noAccountAvailable('gemini-2.5-pro', availability({ total: 4, disabled: 1, proxy_disabled: 1, cooling: 2, earliestCooldownEnd: nowS + 90 }), NOW);
    assert.equal(err.status, 503);
    assert.equal(err.message, 'No account can serve gemini-2.5-pro right now: 1 disabled, 1 proxy_disabled, 2 cooling until 2025-01-01T12:01:30.000Z (of 4 accounts)');
    assert.deepEqual(err.options.headers, { 'retry-after': '90' });
    assert.deepEqual(err.options.details, {
      availability: { total: 4, healthy: 0, cooling: 2, proxy_disabled: 1, disabled: 1, cooling_until: '2025-01-01T12:01:30.000Z' },
    });
  });
  test('nothing will come back by itself: Retry-After 60', () => {
    const err = noAccountAvailable('m', availability({ disabled: 3 }), NOW);
    assert.match(err.message, /3 disabled, 0 proxy_disabled, 0 cooling \(of 3 accounts\)$/);
    assert.deepEqual(err.options.headers, { 'retry-after': '60' });
  });
  test('an empty pool says how to add an account', () => {
    assert.match(noAccountAvailable('m', availability({ total: 0 }), NOW).message, /No accounts in the pool: add one/);
  });
});
