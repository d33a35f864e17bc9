import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextQuotaReset, quotaWindowOf, violatedQuota } from '../../src/core/quota';

describe('nextQuotaReset: the next midnight in America/Los_Angeles, across daylight saving', () => {
  // [now, next reset, why]
  const table: [string, string, string][] = [
    ['2026-12-03T17:00:00Z', '2026-12-04T08:00:00Z', 'winter (PST, UTC-8)'],
    ['2026-07-01T12:00:00Z', '2026-07-02T07:00:00Z', 'summer (PDT, UTC-7)'],
    ['2026-07-01T06:59:59.500Z', '2026-07-01T07:00:00Z', 'half a second before midnight'],
    ['2026-07-01T07:00:00Z', '2026-07-02T07:00:00Z', 'exactly at midnight: the next one'],
    ['2026-12-31T23:00:00Z', '2027-01-01T08:00:00Z', 'new year in Los Angeles comes 8 h after UTC\'s'],
    ['2026-03-08T04:00:00Z', '2026-03-08T08:00:00Z', 'the evening before spring forward: still PST at midnight'],
    ['2026-03-08T09:00:00Z', '2026-03-09T07:00:00Z', 'spring-forward day (1 am PST): the day lasts 23 h, midnight is PDT'],
    ['2026-03-08T19:00:00Z', '2026-03-09T07:00:00Z', 'spring-forward day, afternoon'],
    ['2026-11-01T07:30:00Z', '2026-11-02T08:00:00Z', 'fall-back day, 00:30 PDT: the day lasts 25 h'],
    ['2026-11-01T08:30:00Z', '2026-11-02T08:00:00Z', 'fall-back day, the first 01:30 (PDT)'],
    ['2026-11-01T09:30:00Z', '2026-11-02T08:00:00Z', 'fall-back day, the second 01:30 (PST)'],
    ['2024-02-29T10:00:00Z', '2024-03-01T08:00:00Z', 'a leap day'],
  ];
  for (const [now, reset, why] of table) {
    test(`${now} -> ${reset} (${why})`, () => assert.equal(new Date(nextQuotaReset(Date.parse(now))).toISOString(), new Date(reset).toISOString()));
  }
});

describe('quotaWindowOf: the window a quota id names', () => {
  const table: [string, ReturnType<typeof quotaWindowOf>][] = [
    ['GenerateRequestsPerDayPerProjectPerModel-FreeTier', 'per-day'],
    ['GenerateRequestsPerDayPerProjectPerModel', 'per-day'],
    ['GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'per-minute'],
    ['GenerateContentInputTokensPerModelPerMinute-FreeTier', 'per-minute'],
    ['GenerateContentPaidTierInputTokensPerModelPerDay', 'per-day'],
    ['SomeOtherQuota', null],
  ];
  for (const [id, window] of table) test(`${id} -> ${window}`, () => assert.equal(quotaWindowOf(id), window));
});

describe('violatedQuota: the quota a 429 names', () => {
  const failure = (...violations: unknown[]) => ({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations });
  const minute = { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaMetric: 'm' };
  const day = { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaMetric: 'm' };
  const table: [string, unknown[], ReturnType<typeof violatedQuota>][] = [
    ['none', [], undefined],
    ['RetryInfo only', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }], undefined],
    ['per-minute', [failure(minute)], { quotaId: minute.quotaId, quotaMetric: 'm', window: 'per-minute' }],
    ['per-day after per-minute: the day wins', [failure(minute, day)], { quotaId: day.quotaId, quotaMetric: 'm', window: 'per-day' }],
    ['two QuotaFailures', [failure(minute), failure(day)], { quotaId: day.quotaId, quotaMetric: 'm', window: 'per-day' }],
    ['a violation without quotaId (Vertex subject/description only)', [failure({ subject: 'project', description: 'x' })], undefined],
    ['no metric', [failure({ quotaId: 'X' })], { quotaId: 'X', quotaMetric: null, window: null }],
  ];
  for (const [name, details, want] of table) test(name, () => assert.deepEqual(violatedQuota(details), want));
});
