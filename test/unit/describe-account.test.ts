process.env.TZ = 'UTC'; // clocks are local time; pin it so the table reads the same everywhere

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccountState, AccountSummary } from '../../src/core/account';
import { ago, clock, compactCount, describeAccount, describeEnroll, newlyDisabled, shortReason, tooltipRows, type AccountUsage } from '../../src/vscode/describeAccount';

const NOW = Date.UTC(2025, 10, 22, 13, 50, 0) / 1000; // 2025-11-22 13:50:00 UTC

function summary(over: Partial<AccountSummary> = {}): AccountSummary {
  return {
    id: 'id-1', email: 'ada@example.com', state: 'healthy', project_id: null, location: null,
    disabled_at: null, disabled_reason: null, proxy_disabled_reason: null, proxy_disabled_until: null,
    cooldowns: [], last_used: null, ...over,
  };
}

void describe('describeAccount', () => {
  const rows: [string, Partial<AccountSummary>, string][] = [
    ['healthy, used 2 min ago', { last_used: NOW - 125 }, 'healthy · used 2 min ago'],
    ['healthy, never used', {}, 'healthy · never used'],
    ['healthy, used seconds ago', { last_used: NOW - 5 }, 'healthy · used just now'],
    ['healthy with one model cooling', { last_used: NOW - 7200, cooldowns: [{ model: 'gemini-2.5-pro', until: NOW + 15 * 60, reason: '429 Too Many Requests: Quota exceeded' }] },
      'healthy · used 2 h ago · gemini-2.5-pro cooling until 14:05 (429 Too Many Requests)'],
    ['healthy with two models cooling', {
      last_used: NOW - 7200,
      cooldowns: [
        { model: 'gemini-2.5-pro', until: NOW + 15 * 60, reason: '429' },
        { model: 'gemini-2.5-flash', until: NOW + 10 * 60, reason: '403' },
      ],
    }, 'healthy · used 2 h ago · 2 models cooling until 14:05'],
    ['a model the project lacks', {
      last_used: NOW - 7200, project_id: 'ada-proj',
      cooldowns: [{ model: 'gemini-9-pro', until: NOW + 3600, reason: '404 Not Found: Publisher Model gemini-9-pro was not found', model_not_found: true }],
    }, 'healthy · used 2 h ago · gemini-9-pro not in project ada-proj'],
    ['a missing model beside a cooling one', {
      last_used: NOW - 7200,
      cooldowns: [
        { model: 'gemini-9-pro', until: NOW + 3600, reason: '404 Not Found', model_not_found: true },
        { model: 'gemini-2.5-pro', until: NOW + 15 * 60, reason: '429 Too Many Requests' },
      ],
    }, 'healthy · used 2 h ago · gemini-9-pro not in project (the default) · gemini-2.5-pro cooling until 14:05 (429 Too Many Requests)'],
    ['two missing models', {
      last_used: NOW - 7200, project_id: 'p',
      cooldowns: [
        { model: 'gemini-9-pro', until: NOW + 3600, reason: '404', model_not_found: true },
        { model: 'gemini-9-flash', until: NOW + 3000, reason: '404', model_not_found: true },
      ],
    }, 'healthy · used 2 h ago · 2 models not in project p'],
    ['a model cooldown that has ended is not shown', { cooldowns: [{ model: 'gemini-2.5-pro', until: NOW - 1, reason: '429' }] },
      'healthy · never used'],
    ['cooling on 429', { state: 'cooling', cooldowns: [{ model: '*', until: NOW + 15 * 60, reason: '429' }] }, 'cooling until 14:05 (429)'],
    ['cooling with a long reason', { state: 'cooling', cooldowns: [{ model: '*', until: NOW + 15 * 60, reason: '503 UNAVAILABLE: backend overloaded' }] },
      'cooling until 14:05 (503 UNAVAILABLE)'],
    ['proxy disabled by hand', { state: 'proxy_disabled', proxy_disabled_reason: 'manual' }, 'proxy disabled · manual'],
    ['quota protection', { state: 'proxy_disabled', proxy_disabled_reason: 'quota_protection', proxy_disabled_until: NOW + 3 * 3600 },
      'proxy disabled · quota protection until 16:50'],
    ['disabled 3 h ago', { state: 'disabled', disabled_at: NOW - 3 * 3600 - 100, disabled_reason: 'invalid_grant: Token has been expired or revoked.' },
      'disabled · invalid_grant · 3 h ago'],
    ['disabled 2 days ago', { state: 'disabled', disabled_at: NOW - 2 * 86400, disabled_reason: 'invalid_grant: Account has been deleted (deleted)' },
      'disabled · invalid_grant · 2 d ago'],
  ];
  for (const [name, over, want] of rows) void test(name, () => assert.equal(describeAccount(summary(over), NOW), want));
});

void describe('clock, ago, shortReason', () => {
  void test('clock shows the time today and the date further away', () => {
    assert.equal(clock(NOW + 900, NOW), '14:05');
    assert.equal(clock(NOW + 2 * 86400, NOW), '2025-11-24 13:50');
  });
  void test('ago never goes negative', () => assert.equal(ago(NOW + 100, NOW), 'just now'));
  void test('a reason is cut at a character boundary', () => {
    assert.equal(shortReason('x'.repeat(50), 10), 'xxxxxxxxx…');
    assert.equal(shortReason('😀'.repeat(12), 10), '😀'.repeat(9) + '…');
    assert.equal(shortReason(null), 'unknown');
  });
});

void describe('tooltipRows', () => {
  const counts = { total: 5, healthy: 3, cooling: 1, proxy_disabled: 0, disabled: 1 };
  void test('a disabled account carries the full reason, project, location, token expiry and counts', () => {
    const reason = 'invalid_grant: Token has been expired or revoked. (invalid_rapt)';
    const rows = new Map(tooltipRows(summary({ state: 'disabled', disabled_reason: reason, disabled_at: NOW - 60,
      project_id: 'p1', location: 'europe-west4' }), NOW, counts, NOW - 30));
    assert.equal(rows.get('Reason'), reason);
    assert.equal(rows.get('Project'), 'p1');
    assert.equal(rows.get('Location'), 'europe-west4');
    assert.equal(rows.get('Access token'), 'expired just now (refreshed on next use)');
    assert.equal(rows.get('Pool'), '3 healthy, 1 cooling, 0 proxy disabled, 1 disabled (of 5)');
  });
  void test('cooldowns are listed per model with their reason', () => {
    const rows = tooltipRows(summary({ cooldowns: [{ model: 'gemini-2.5-pro', until: NOW + 600, reason: '403 PERMISSION_DENIED' }] }), NOW, counts, NOW + 1800);
    assert.deepEqual(rows.find(([k]) => k.startsWith('Cooling')), ['Cooling (gemini-2.5-pro)', 'until 14:00: 403 PERMISSION_DENIED']);
    assert.deepEqual(rows.find(([k]) => k === 'Access token'), ['Access token', 'valid until 14:20']);
  });
  void test('a model missing in the project says so, with Google\'s message', () => {
    const rows = tooltipRows(summary({ project_id: 'ada-proj', cooldowns: [{ model: 'gemini-9-pro', until: NOW + 600, reason: '404 Not Found: Publisher Model gemini-9-pro was not found', model_not_found: true }] }), NOW, counts);
    assert.deepEqual(rows.find(([k]) => k.startsWith('Missing')), [
      'Missing model (gemini-9-pro)',
      'not found in project ada-proj; tried again after 14:00: 404 Not Found: Publisher Model gemini-9-pro was not found',
    ]);
    assert.equal(rows.find(([k]) => k.startsWith('Cooling')), undefined);
  });
});

void describe('usage in the row and the tooltip (DESIGN section 11)', () => {
  const iso = (unix: number): string => new Date(unix * 1000).toISOString();
  const usage: AccountUsage = {
    today: { requests: 42, tokens: 123_456 },
    headroom: [
      {
        model: 'gemini-2.5-pro',
        minute: { requests: 3, tokens: 1200 },
        today: { requests: 40, tokens: 120_000 },
        limits: { rpm: 5, tpm: 250_000, rpd: 100 },
        last_429: { time: iso(NOW - 300), retry_delay_s: 30, quota_id: 'GenerateRequestsPerMinutePerProjectPerModel', window: 'minute' },
      },
      { model: 'gemini-2.5-flash', minute: { requests: 0, tokens: 0 }, today: { requests: 2, tokens: 3456 }, limits: null, last_429: null },
    ],
    lastError: { time: iso(NOW - 120), model: 'gemini-2.5-pro', status: 503, reason: 'The service is currently unavailable.' },
  };
  void test('the description adds today’s requests and tokens', () => {
    assert.equal(describeAccount(summary({ last_used: NOW - 125 }), NOW, usage), 'healthy · used 2 min ago · 42 req, 123k tokens today');
    assert.equal(describeAccount(summary({ last_used: NOW - 125 }), NOW, { ...usage, today: { requests: 0, tokens: 0 } }), 'healthy · used 2 min ago');
    assert.equal(describeAccount(summary({ last_used: NOW - 125 }), NOW), 'healthy · used 2 min ago', 'a window that does not serve has no figures');
  });
  void test('the tooltip: today, the last error, the headroom against the limits and the last 429', () => {
    const rows = new Map(tooltipRows(summary(), NOW, { total: 1, healthy: 1, cooling: 0, proxy_disabled: 0, disabled: 0 }, undefined, usage));
    assert.equal(rows.get('Today'), '42 requests, 123k tokens (quota day, Los Angeles)');
    assert.equal(rows.get('Last error'), '13:48 gemini-2.5-pro: 503 The service is currently unavailable.');
    assert.equal(rows.get('Headroom (gemini-2.5-pro)'), 'this minute 3 req / 1.2k tokens (limit 5 rpm, 250k tpm); today 40 req / 120k tokens (limit 100 rpd)');
    assert.equal(rows.get('Last 429 (gemini-2.5-pro)'), 'at 13:45, retry after 30 s, quota GenerateRequestsPerMinutePerProjectPerModel (per minute)');
    assert.equal(rows.get('Headroom (gemini-2.5-flash)'), 'this minute 0 req / 0 tokens; today 2 req / 3.5k tokens');
    assert.ok(!rows.has('Last 429 (gemini-2.5-flash)'));
  });
  void test('compact counts', () => {
    assert.deepEqual([950, 1234, 12_345, 1_234_567, 45_000_000].map(compactCount), ['950', '1.2k', '12k', '1.2M', '45M']);
  });
});

void describe('newlyDisabled', () => {
  const before = new Map<string, AccountState>([['a', 'healthy'], ['b', 'disabled'], ['c', 'cooling']]);
  void test('only a transition into disabled counts', () => {
    const now = [
      summary({ id: 'a', state: 'disabled' }), // healthy → disabled: yes
      summary({ id: 'b', state: 'disabled' }), // already disabled: no
      summary({ id: 'c', state: 'healthy' }), //  not disabled: no
      summary({ id: 'd', state: 'disabled' }), // first seen (startup, added by hand): no
    ];
    assert.deepEqual(newlyDisabled(before, now).map((s) => s.id), ['a']);
  });
});

void describe('describeEnroll', () => {
  const account = { email: 'ada@example.com' };
  void test('says what happened', () => {
    assert.equal(describeEnroll({ account, created: true, reenabled: false }), 'Added ada@example.com to the pool.');
    assert.equal(describeEnroll({ account, created: false, reenabled: true }), 'Re-enabled ada@example.com with its new token.');
    assert.equal(describeEnroll({ account, created: false, reenabled: false }), 'Updated the token of ada@example.com.');
  });
});
