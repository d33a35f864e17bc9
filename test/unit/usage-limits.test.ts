/**
 * The pure parts of headroom (DESIGN section 11): which `routing.limits` entry applies to a model,
 * what a bad entry says, until when an account at a limit waits, the quota day (midnight in Los
 * Angeles, daylight saving included), and what a 429 body says about its quota.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/core/config';
import { checkLimits, limitBlockedUntil, limitsFor } from '../../src/core/usage/limits';
import { quotaDayOf } from '../../src/core/usage/quotaDay';
import { rateLimitNote } from '../../src/core/usage/rateLimitNote';

describe('routing.limits', () => {
  const limits = { '*': { rpd: 1000 }, 'gemini-*': { rpm: 60 }, 'gemini-2.5-pro': { rpm: 5, tpm: 250_000 } };
  const cases: [string, unknown][] = [
    ['gemini-2.5-pro', { rpm: 5, tpm: 250_000 }],
    ['gemini-2.5-flash', { rpm: 60 }],
    ['claude-sonnet-4', { rpd: 1000 }],
  ];
  for (const [model, want] of cases) test(`${model}: the most specific key`, () => assert.deepEqual(limitsFor(limits, model), want));
  test('no key matches: none', () => assert.equal(limitsFor({ 'gemini-*': { rpm: 1 } }, 'claude-x'), undefined));

  test('bad entries are named', () => {
    assert.deepEqual(checkLimits({ 'gemini-*': { rpm: 0, rph: 3 }, x: 5 }), [
      '"gemini-*.rpm" must be an integer ≥ 1, got 0',
      '"gemini-*.rph" is not a limit (expected rpm, tpm, rpd)',
      '"x" must be an object with rpm, tpm and/or rpd',
    ]);
    assert.deepEqual(checkLimits([]), ['must be an object of model name or glob -> {rpm, tpm, rpd}']);
    assert.throws(() => parseConfig({ routing: { limits: { '*': { tpm: 'lots' } } } }, 'config.json'), /config\.json: "routing\.limits": "\*\.tpm" must be an integer ≥ 1, got "lots"/);
    assert.deepEqual(parseConfig({ routing: { limits: { '*': { rpm: 10 } } } }, 'config.json').routing.limits, { '*': { rpm: 10 } });
  });

  const MINUTE_END = 60_000;
  const DAY_END = 86_400_000;
  const table: [string, Parameters<typeof limitBlockedUntil>[0], Parameters<typeof limitBlockedUntil>[1], number][] = [
    ['under every limit', { rpm: 3, tpm: 100, rpd: 10 }, { minuteRequests: 2, minuteTokens: 99, dayRequests: 9 }, 0],
    ['rpm reached: the end of the minute', { rpm: 3 }, { minuteRequests: 3, minuteTokens: 0, dayRequests: 3 }, MINUTE_END],
    ['tpm reached: the end of the minute', { tpm: 100 }, { minuteRequests: 1, minuteTokens: 100, dayRequests: 1 }, MINUTE_END],
    ['rpd reached: the end of the quota day', { rpd: 10, rpm: 3 }, { minuteRequests: 3, minuteTokens: 0, dayRequests: 10 }, DAY_END],
    ['no limits', {}, { minuteRequests: 1000, minuteTokens: 1e9, dayRequests: 1e6 }, 0],
  ];
  for (const [name, l, usage, want] of table) test(name, () => assert.equal(limitBlockedUntil(l, usage, MINUTE_END, DAY_END), want));
});

describe('the quota day: midnight in Los Angeles', () => {
  test('a winter day (PST, UTC-8)', () => {
    const day = quotaDayOf(Date.parse('2026-01-15T20:00:00Z'));
    assert.equal(day.key, '2026-01-15');
    assert.equal(new Date(day.startMs).toISOString(), '2026-01-15T08:00:00.000Z');
    assert.equal(new Date(day.endMs).toISOString(), '2026-01-16T08:00:00.000Z');
  });
  test('just before midnight UTC is still the same LA day; just after 08:00 UTC the next', () => {
    assert.equal(quotaDayOf(Date.parse('2026-01-16T07:59:59Z')).key, '2026-01-15');
    assert.equal(quotaDayOf(Date.parse('2026-01-16T08:00:01Z')).key, '2026-01-16');
  });
  test('the day the clocks go forward is 23 hours, back 25', () => {
    const spring = quotaDayOf(Date.parse('2026-03-08T12:00:00Z'));
    assert.equal((spring.endMs - spring.startMs) / 3_600_000, 23);
    const autumn = quotaDayOf(Date.parse('2026-11-01T12:00:00Z'));
    assert.equal((autumn.endMs - autumn.startMs) / 3_600_000, 25);
    assert.equal(new Date(autumn.endMs).toISOString(), '2026-11-02T08:00:00.000Z');
  });
});

describe('what a 429 says about its quota', () => {
  const error = (details: unknown[]) => ({ code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED', details });
  test('QuotaFailure per minute with RetryInfo', () => {
    const note = rateLimitNote(
      error([{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] }]),
      30,
      1000,
    );
    assert.deepEqual(note, { atMs: 1000, retryDelayS: 30, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', window: 'minute' });
  });
  test('per day', () =>
    assert.equal(rateLimitNote(error([{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel' }] }]), undefined, 0).window, 'day'));
  test('ErrorInfo quota_limit when there is no QuotaFailure', () =>
    assert.equal(rateLimitNote(error([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', metadata: { quota_limit: 'PerMinuteLimit' } }]), undefined, 0).quotaId, 'PerMinuteLimit'));
  test('a bare 429', () => assert.deepEqual(rateLimitNote(null, undefined, 5), { atMs: 5, retryDelayS: null, quotaId: null, window: null }));
});
