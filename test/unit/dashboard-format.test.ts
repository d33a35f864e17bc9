/** The dashboard's text for cooldowns, durations, counts and wire times. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketLabel, clockText, countdownText, countText, durationText, toMillis } from '../../src/webview/dashboard/format';

const NOW = Date.UTC(2026, 11, 3, 14, 0, 0);

const countdowns: [string, number, string][] = [
  ['ended a second ago', -1000, 'ended'],
  ['ends now', 0, 'ended'],
  ['a quarter second left shows 0:01, never 0:00', 250, '0:01'],
  ['59 s', 59_000, '0:59'],
  ['4 min 5 s', 245_000, '4:05'],
  ['just under an hour', 3_599_000, '59:59'],
  ['an hour', 3_600_000, '1 h 00 min'],
  ['1 h 2 min 30 s: minutes are not rounded up', 3_750_000, '1 h 02 min'],
  ['23 h 59 min', 86_399_000, '23 h 59 min'],
  ['a day and 3 h', 97_200_000, '1 d 3 h'],
];
for (const [name, left, text] of countdowns) {
  void test(`countdown: ${name} → ${text}`, () => assert.equal(countdownText(NOW + left, NOW), text));
}

void test('a countdown ticks down second by second towards "ended"', () => {
  const until = NOW + 3000;
  assert.deepEqual([0, 1000, 2000, 3000].map((t) => countdownText(until, NOW + t)), ['0:03', '0:02', '0:01', 'ended']);
});

void test('durations: ms under a second, one decimal under 10 s, minutes beyond; a missing one is a dash', () => {
  assert.deepEqual([null, undefined, 0, 850.4, 1234, 9949, 41_000, 125_000].map(durationText),
    ['–', '–', '0 ms', '850 ms', '1.2 s', '9.9 s', '41 s', '2 min 5 s']);
});

void test('counts: whole under 1000, then k and M with one decimal below 100', () => {
  assert.deepEqual([null, 0, 999, 1000, 12_345, 123_456, 4_500_000, 250_000_000].map(countText),
    ['–', '0', '999', '1k', '12.3k', '123k', '4.5M', '250M']);
});

void test('wire times: unix seconds, unix milliseconds, numeric strings and ISO 8601 are the same instant', () => {
  const iso = '2026-12-03T14:00:00.000Z';
  assert.deepEqual([NOW / 1000, NOW, String(NOW / 1000), iso, '2026-12-03T15:00:00+01:00'].map(toMillis), [NOW, NOW, NOW, NOW, NOW]);
  assert.ok(Number.isNaN(toMillis('yesterday')));
  assert.ok(Number.isNaN(toMillis(null)));
});

void test('a request today shows its local clock with seconds; an older one its date', () => {
  const now = new Date(2026, 11, 3, 18, 30).getTime();
  assert.equal(clockText(new Date(2026, 11, 3, 9, 5, 7).getTime(), now), '09:05:07');
  assert.equal(clockText(new Date(2026, 11, 2, 23, 59, 1).getTime(), now), 'Dec 2 23:59');
  assert.equal(clockText(Number.NaN, now), '?');
});

void test('axis labels: local hours, with the weekday over 7 days; UTC dates for days', () => {
  const at = new Date(2026, 11, 3, 14, 0).getTime(); // a Thursday
  assert.equal(bucketLabel(at, 'hour', false), '14:00');
  assert.equal(bucketLabel(at, 'hour', true), 'Thu 14:00');
  assert.equal(bucketLabel(Date.UTC(2026, 11, 3), 'day', false), 'Dec 3');
});
