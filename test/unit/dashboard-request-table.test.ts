/** The dashboard's request table: filters, the live list, the filters' choices, the query. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FILTER, type AccountCard, type RequestRecord } from '../../src/webview/dashboard/protocol';
import { addLive, filterChoices, matchesFilter, MAX_ROWS, requestsQuery } from '../../src/webview/dashboard/requestTable';

const T0 = Date.UTC(2026, 11, 3, 14);
const iso = (ms: number): string => new Date(ms).toISOString();
const rec = (id: string, over: Partial<RequestRecord> = {}): RequestRecord => ({
  id, time: new Date(T0).toISOString(), protocol: 'openai-chat', model: 'gemini-2.5-flash', upstream_model: 'gemini-2.5-flash',
  account: 'ada@x', status: 200, outcome: 'ok', stream: false, attempts: [], input_tokens: 10, output_tokens: 5,
  cached_tokens: 0, thinking_tokens: 0, ttfb_ms: 100, duration_ms: 300, ...over,
});

const filterCases: [string, Partial<RequestRecord>, Partial<typeof NO_FILTER>, boolean][] = [
  ['no filter passes everything', {}, {}, true],
  ['the account matches', {}, { account: 'ada@x' }, true],
  ['another account', {}, { account: 'bob@x' }, false],
  ['a request no account took fails an account filter', { account: null, outcome: 'no_account' }, { account: 'ada@x' }, false],
  ['the model asked matches', {}, { model: 'gemini-2.5-flash' }, true],
  ['the account\'s email in another case', {}, { account: 'ADA@x' }, true],
  ['the model sent upstream matches too', { model: 'claude-sonnet-4', upstream_model: 'gemini-2.5-pro' }, { model: 'gemini-2.5-pro' }, true],
  ['neither the model asked nor the model sent', { model: 'claude-sonnet-4', upstream_model: 'gemini-2.5-pro' }, { model: 'gemini-2.5-flash' }, false],
  ['the outcome matches', { outcome: 'cut' }, { outcome: 'cut' }, true],
  ['another outcome', {}, { outcome: 'upstream_error' }, false],
  ['every filter set and every one matches', { outcome: 'upstream_error' }, { account: 'ada@x', model: 'gemini-2.5-flash', outcome: 'upstream_error' }, true],
  ['every filter set, one does not match', {}, { account: 'ada@x', model: 'gemini-2.5-flash', outcome: 'cut' }, false],
];
for (const [name, over, filter, expected] of filterCases) {
  void test(`filter: ${name}`, () => assert.equal(matchesFilter(rec('r', over), { ...NO_FILTER, ...filter }), expected));
}

void test('a live request goes on top when newest, at its place by time otherwise, once, and only when it passes the filters', () => {
  const list = [rec('b', { time: iso(T0 + 2000) }), rec('a', { time: iso(T0) })];
  assert.deepEqual(addLive(list, rec('c', { time: iso(T0 + 3000) }), NO_FILTER).map((r) => r.id), ['c', 'b', 'a']);
  assert.deepEqual(addLive(list, rec('m', { time: iso(T0 + 1000) }), NO_FILTER).map((r) => r.id), ['b', 'm', 'a']);
  assert.deepEqual(addLive(list, rec('z', { time: iso(T0 - 1000) }), NO_FILTER).map((r) => r.id), ['b', 'a', 'z']);
  assert.equal(addLive(list, rec('b'), NO_FILTER), list, 'a request already listed is not added twice');
  assert.equal(addLive(list, rec('d', { outcome: 'cut' }), { ...NO_FILTER, outcome: 'ok' }), list, 'filtered out');
});

void test(`the live list keeps the newest ${MAX_ROWS}`, () => {
  let list: RequestRecord[] = [];
  for (let i = 0; i < MAX_ROWS + 5; i++) list = addLive(list, rec(`r${i}`, { time: iso(T0 + i * 1000) }), NO_FILTER);
  assert.equal(list.length, MAX_ROWS);
  assert.equal(list[0].id, `r${MAX_ROWS + 4}`);
  assert.equal(list.at(-1)?.id, 'r5');
});

void test('the filters offer the pool\'s accounts and every account and model seen, sorted, and keep what is chosen', () => {
  const accounts = [{ email: 'cy@x' }, { email: 'ada@x' }] as AccountCard[];
  const rows = [{ account: 'gone@x', model: 'gemini-2.5-pro', requests: 1 }] as never[];
  const requests = [rec('1', { account: 'bob@x', model: 'claude-sonnet-4' }), rec('2', { account: null })];
  const choices = filterChoices(accounts, rows, requests, { account: 'old@x', model: 'gpt-5', outcome: '' });
  assert.deepEqual(choices.accounts, ['ada@x', 'bob@x', 'cy@x', 'gone@x', 'old@x']);
  assert.deepEqual(choices.models, ['claude-sonnet-4', 'gemini-2.5-flash', 'gemini-2.5-pro', 'gpt-5']);
  assert.deepEqual(choices.outcomes, ['ok', 'client_error', 'upstream_error', 'no_account', 'cancelled', 'cut']);
});

void test('the requests query carries the limit and only the filters that are set', () => {
  assert.equal(requestsQuery(NO_FILTER), 'limit=200');
  assert.equal(requestsQuery({ account: 'ada+1@x', model: '', outcome: 'upstream_error' }, 50), 'limit=50&account=ada%2B1%40x&outcome=upstream_error');
});
