/** Usage rows of GET /admin/usage → the dashboard's stacked series per hour or day. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStarts, chartData, MAX_SERIES, OTHER, usageQuery } from '../../src/webview/dashboard/chartData';
import type { UsageRow } from '../../src/webview/dashboard/protocol';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 14:25 UTC: the last hourly bucket starts at 14:00, the last daily one at midnight. */
const NOW = Date.UTC(2026, 11, 3, 14, 25);
const H14 = Date.UTC(2026, 11, 3, 14);

/** A time as the API writes it. */
const iso = (ms: number): string => new Date(ms).toISOString();
const row = (over: Partial<UsageRow>): UsageRow => ({
  requests: 1, ok: 1, errors: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, thinking_tokens: 0, p50_ms: null, p95_ms: null, ...over,
});

void test('buckets: 24 hours and 168 hours ending with the current hour, 30 UTC days ending today', () => {
  const day = bucketStarts('24h', NOW);
  assert.equal(day.length, 24);
  assert.equal(day[23], H14);
  assert.equal(day[0], H14 - 23 * HOUR);
  const week = bucketStarts('7d', NOW);
  assert.equal(week.length, 168);
  assert.equal(week[167], H14);
  const month = bucketStarts('30d', NOW);
  assert.equal(month.length, 30);
  assert.equal(month[29], Date.UTC(2026, 11, 3));
  assert.equal(month[0], Date.UTC(2026, 11, 3) - 29 * DAY);
});

void test('the usage query starts at the first bucket, asks for both stack keys and the bucket', () => {
  assert.deepEqual(usageQuery('24h', NOW), { since: new Date(H14 - 23 * HOUR).toISOString(), by: 'account,model,hour' });
  assert.deepEqual(usageQuery('7d', NOW), { since: new Date(H14 - 167 * HOUR).toISOString(), by: 'account,model,hour' });
  assert.deepEqual(usageQuery('30d', NOW), { since: new Date(Date.UTC(2026, 11, 3) - 29 * DAY).toISOString(), by: 'account,model,day' });
});

void test('rows stack by account: each account one series, summed over models, in its hour', () => {
  const rows = [
    row({ account: 'ada@x', model: 'gemini-2.5-flash', hour: iso(H14), requests: 3, errors: 1, input_tokens: 100, output_tokens: 20, thinking_tokens: 5, cached_tokens: 60 }),
    row({ account: 'ada@x', model: 'gemini-2.5-pro', hour: iso(H14 - HOUR), requests: 2, input_tokens: 10, output_tokens: 1 }),
    row({ account: 'bob@x', model: 'gemini-2.5-pro', hour: iso(H14), requests: 1, errors: 1 }),
  ];
  const data = chartData(rows, '24h', 'account', NOW);
  assert.equal(data.starts.length, 24);
  const series = (metric: 'requests' | 'tokens' | 'errors') => data.series[metric].map((s) => [s.key, s.colour, s.values.slice(21)]);
  assert.deepEqual(series('requests'), [['ada@x', 0, [0, 2, 3]], ['bob@x', 1, [0, 0, 1]]]);
  // tokens = input + output + thinking (cached input is part of input, not added again)
  assert.deepEqual(series('tokens'), [['ada@x', 0, [0, 11, 125]]]);
  // bob has no tokens: left out of that chart, but keeps his colour in the errors chart
  assert.deepEqual(series('errors'), [['ada@x', 0, [0, 0, 1]], ['bob@x', 1, [0, 0, 1]]]);
  assert.deepEqual(data.totals, { requests: 6, tokens: 136, errors: 2 });
});

void test('the same rows stack by model', () => {
  const rows = [
    row({ account: 'ada@x', model: 'flash', hour: iso(H14), requests: 3 }),
    row({ account: 'bob@x', model: 'flash', hour: iso(H14), requests: 4 }),
    row({ account: 'bob@x', model: 'pro', hour: iso(H14), requests: 5 }),
  ];
  const data = chartData(rows, '24h', 'model', NOW);
  assert.deepEqual(data.series.requests.map((s) => [s.key, s.values[23]]), [['flash', 7], ['pro', 5]]);
});

void test('rows outside the range, or without the bucket\'s key or a readable time, are left out', () => {
  const rows = [
    row({ account: 'old@x', hour: iso(H14 - 24 * HOUR), requests: 9 }),
    row({ account: 'future@x', hour: iso(H14 + HOUR), requests: 9 }),
    row({ account: 'noday@x', day: '2026-12-03', requests: 9 }),
    row({ account: 'bad@x', hour: 'soon', requests: 9 }),
    row({ account: 'first@x', hour: iso(H14 - 23 * HOUR), requests: 1 }),
  ];
  const data = chartData(rows, '24h', 'account', NOW);
  assert.deepEqual(data.series.requests.map((s) => [s.key, s.values.indexOf(1)]), [['first@x', 0]]);
});

void test('30 days by day: a row of each UTC day lands in its bar', () => {
  const today = Date.UTC(2026, 11, 3);
  const rows = [row({ account: 'a', day: '2026-12-03', requests: 2 }), row({ account: 'a', day: iso(today - 29 * DAY).slice(0, 10), requests: 1 })];
  const data = chartData(rows, '30d', 'account', NOW);
  assert.equal(data.bucket, 'day');
  assert.equal(data.labels[29], 'Dec 3');
  assert.equal(data.series.requests[0].values[29], 2);
  assert.equal(data.series.requests[0].values[0], 1);
});

void test(`beyond ${MAX_SERIES} keys the smallest are summed into "${OTHER}", in the last colour`, () => {
  const rows = Array.from({ length: 10 }, (_, i) => row({ account: `u${i}@x`, hour: iso(H14), requests: 100 - i }));
  const data = chartData(rows, '24h', 'account', NOW);
  const keys = data.series.requests.map((s) => s.key);
  assert.deepEqual(keys, ['u0@x', 'u1@x', 'u2@x', 'u3@x', 'u4@x', 'u5@x', 'u6@x', OTHER]);
  const other = data.series.requests[7];
  assert.equal(other.colour, 7);
  assert.equal(other.values[23], 93 + 92 + 91);
  assert.equal(data.totals.requests, rows.reduce((sum, r) => sum + r.requests, 0));
});

void test('no rows: no series, zero totals, still one label per bucket', () => {
  const data = chartData([], '7d', 'model', NOW);
  assert.equal(data.labels.length, 168);
  assert.deepEqual(data.series, { requests: [], tokens: [], errors: [] });
  assert.deepEqual(data.totals, { requests: 0, tokens: 0, errors: 0 });
});
