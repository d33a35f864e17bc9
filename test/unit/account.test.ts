import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accountState,
  newAccount,
  parseAccount,
  serializeAccount,
  summarizeAccount,
  truncateReason,
  withDisabled,
  withEnabled,
  withProxyDisabled,
  type Account,
} from '../../src/core/account';
import { AccountFileError } from '../../src/core/errors';

const FILE = '/data/accounts/3f0c.json';
const NOW = 1_700_000_000;

const valid = () => ({
  id: '3f0c',
  email: 'ada@example.com',
  token: { access_token: 'ya29.secret-access', refresh_token: '1//secret-refresh', expiry_timestamp: NOW + 3600 },
});

const account = (over: Partial<Account> = {}): Account => ({
  ...newAccount({ id: '3f0c', email: 'ada@example.com', token: valid().token, now: NOW }),
  ...over,
});

describe('parseAccount', () => {
  test('a minimal valid file gets every state field at its default', () => {
    const parsed = parseAccount(JSON.stringify(valid()), FILE);
    assert.deepEqual(parsed, {
      ...valid(),
      disabled: false,
      disabled_at: null,
      disabled_reason: null,
      proxy_disabled: false,
      proxy_disabled_reason: null,
      proxy_disabled_at: null,
      proxy_disabled_until: null,
      created_at: 0,
      last_used: null,
    });
  });

  test('a full file as in DESIGN section 3 parses to itself', () => {
    const full = {
      ...valid(),
      name: 'Ada',
      token: { ...valid().token, expires_in: 3599, token_type: 'Bearer', client_id: 'gcloud', client_secret: 's' },
      project_id: 'my-gcp-project',
      location: 'us-central1',
      disabled: true,
      disabled_at: NOW,
      disabled_reason: 'invalid_grant: Token has been expired or revoked.',
      proxy_disabled: true,
      proxy_disabled_reason: 'quota_protection',
      proxy_disabled_at: NOW,
      proxy_disabled_until: NOW + 7200,
      created_at: NOW - 100,
      last_used: NOW - 10,
    };
    assert.deepEqual(parseAccount(JSON.stringify(full), FILE), full);
  });

  const broken: { name: string; text: string; key: RegExp }[] = [
    { name: 'not JSON', text: '{"id": "3f0c", "email"', key: /not valid JSON/ },
    { name: 'an array', text: '[]', key: /JSON object/ },
    { name: 'missing id', text: JSON.stringify({ ...valid(), id: undefined }), key: /"id" must be a non-empty string/ },
    { name: 'empty email', text: JSON.stringify({ ...valid(), email: '' }), key: /"email" must be a non-empty string/ },
    { name: 'missing token', text: JSON.stringify({ ...valid(), token: undefined }), key: /"token" must be an object/ },
    { name: 'token is a string', text: JSON.stringify({ ...valid(), token: 'ya29' }), key: /"token" must be an object/ },
    {
      name: 'missing refresh_token',
      text: JSON.stringify({ ...valid(), token: { ...valid().token, refresh_token: undefined } }),
      key: /"token\.refresh_token" must be a non-empty string/,
    },
    {
      name: 'access_token a number',
      text: JSON.stringify({ ...valid(), token: { ...valid().token, access_token: 5 } }),
      key: /"token\.access_token" must be a string/,
    },
    {
      name: 'expiry_timestamp a string',
      text: JSON.stringify({ ...valid(), token: { ...valid().token, expiry_timestamp: '1700003600' } }),
      key: /"token\.expiry_timestamp" must be a number/,
    },
    {
      name: 'expires_in a string',
      text: JSON.stringify({ ...valid(), token: { ...valid().token, expires_in: '3599' } }),
      key: /"token\.expires_in" must be a number or null/,
    },
    { name: 'disabled "yes"', text: JSON.stringify({ ...valid(), disabled: 'yes' }), key: /"disabled" must be a boolean or null/ },
    { name: 'created_at a string', text: JSON.stringify({ ...valid(), created_at: 'today' }), key: /"created_at" must be a number or null/ },
    { name: 'name a number', text: JSON.stringify({ ...valid(), name: 5 }), key: /"name" must be a string or null/ },
    {
      name: 'proxy_disabled_until a boolean',
      text: JSON.stringify({ ...valid(), proxy_disabled_until: true }),
      key: /"proxy_disabled_until" must be a number or null/,
    },
  ];
  for (const row of broken) {
    test(`${row.name} -> AccountFileError naming the file and the key`, () => {
      assert.throws(
        () => parseAccount(row.text, FILE),
        (err: unknown) => err instanceof AccountFileError && err.file === FILE && err.message.startsWith(FILE) && row.key.test(err.reason),
      );
    });
  }

  test('a JSON error never quotes the text, which may hold a token', () => {
    for (const text of ['{"token": {"access_token": ya29.secret-access}}', 'ya29.secret-access', '{"a": 1}}ya29.secret']) {
      assert.throws(
        () => parseAccount(text, FILE),
        (err: unknown) => err instanceof AccountFileError && /not valid JSON/.test(err.message) && !/secret|ya29/.test(err.message),
      );
    }
  });

  test('unknown fields, top level and in token, survive parse and serialize', () => {
    const text = JSON.stringify({ ...valid(), token: { ...valid().token, id_token: 'eyJ', scope: 'openid' }, tier: 'pro', notes: { a: [1] } });
    const again = JSON.parse(serializeAccount(parseAccount(text, FILE)));
    assert.equal(again.tier, 'pro');
    assert.deepEqual(again.notes, { a: [1] });
    assert.equal(again.token.id_token, 'eyJ');
    assert.equal(again.token.scope, 'openid');
  });

  test('serializeAccount is two-space indented with a trailing newline, and parses back to the same record', () => {
    const text = serializeAccount(account());
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.includes('\n  "email": "ada@example.com",'));
    assert.deepEqual(parseAccount(text, FILE), account());
  });
});

describe('truncateReason', () => {
  const codePoints = (s: string) => Array.from(s).length;
  const hasLoneSurrogate = (s: string) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

  test('800 characters or fewer are kept as they are', () => {
    assert.equal(truncateReason('invalid_grant: Bad Request'), 'invalid_grant: Bad Request');
    const exactly = 'x'.repeat(800);
    assert.equal(truncateReason(exactly), exactly);
  });

  test('a longer one is cut to 800 characters ending in ...', () => {
    const cut = truncateReason('x'.repeat(801));
    assert.equal(cut.length, 800);
    assert.equal(cut, 'x'.repeat(797) + '...');
  });

  test('characters are code points: 800 emoji are not cut although they are 1600 UTF-16 units', () => {
    const emoji = '😀'.repeat(800);
    assert.equal(truncateReason(emoji), emoji);
  });

  test('an emoji at the cut is kept whole or dropped whole, never split', () => {
    for (const at of [795, 796, 797, 798]) {
      const reason = 'a'.repeat(at) + '😀' + 'b'.repeat(50);
      const cut = truncateReason(reason);
      assert.equal(codePoints(cut), 800, `emoji at ${at}`);
      assert.ok(cut.endsWith('...'));
      assert.ok(!hasLoneSurrogate(cut), `emoji at ${at} was split: ${JSON.stringify(cut.slice(-6))}`);
      assert.equal(cut.includes('😀'), at < 797, `emoji at ${at}`);
    }
  });

  test('withDisabled stores a truncated reason', () => {
    const disabled = withDisabled(account(), 'invalid_grant: ' + 'z'.repeat(2000), NOW);
    assert.equal(disabled.disabled, true);
    assert.equal(disabled.disabled_at, NOW);
    assert.equal(codePoints(disabled.disabled_reason!), 800);
    assert.deepEqual(withEnabled(disabled), account());
  });
});

describe('accountState', () => {
  const quota = (until: number) => withProxyDisabled(account(), { reason: 'quota_protection', now: NOW - 10, until });
  const manual = (until: number | null = null) => withProxyDisabled(account(), { reason: 'manual', now: NOW - 10, until });
  const rows: { name: string; account: Account; cooling?: number | null; want: ReturnType<typeof accountState> }[] = [
    { name: 'fresh account', account: account(), want: 'healthy' },
    { name: 'disabled beats proxy_disabled and cooling', account: withDisabled(manual(), 'invalid_grant: x', NOW), cooling: NOW + 60, want: 'disabled' },
    { name: 'disabled beats quota protection', account: withDisabled(quota(NOW + 60), 'invalid_grant: x', NOW), want: 'disabled' },
    { name: 'proxy_disabled beats cooling', account: manual(), cooling: NOW + 60, want: 'proxy_disabled' },
    { name: 'cooling until later', account: account(), cooling: NOW + 60, want: 'cooling' },
    { name: 'cooldown over', account: account(), cooling: NOW, want: 'healthy' },
    { name: 'quota protection still running', account: quota(NOW + 1), want: 'proxy_disabled' },
    { name: 'quota protection lapses when _until passes', account: quota(NOW), want: 'healthy' },
    { name: 'lapsed quota protection with a cooldown is cooling', account: quota(NOW - 1), cooling: NOW + 5, want: 'cooling' },
    { name: 'manual does not lapse', account: manual(), want: 'proxy_disabled' },
    { name: 'manual ignores a past _until', account: manual(NOW - 100), want: 'proxy_disabled' },
    { name: 'cleared proxy_disabled', account: withProxyDisabled(manual(), null), want: 'healthy' },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(accountState(row.account, NOW, row.cooling), row.want));
  }
});

describe('summarizeAccount', () => {
  test('shows state and cooldowns, never a token', () => {
    const quota = withProxyDisabled(account(), { reason: 'quota_protection', now: NOW, until: NOW + 60 });
    const summary = summarizeAccount(quota, NOW, [
      { model: '*', until: NOW + 30, reason: 'rate limited' },
      { model: 'gemini-2.5-pro', until: NOW - 1, reason: 'expired' },
    ]);
    assert.equal(summary.state, 'proxy_disabled');
    assert.equal(summary.proxy_disabled_reason, 'quota_protection');
    assert.deepEqual(summary.cooldowns, [{ model: '*', until: NOW + 30, reason: 'rate limited' }]);
    assert.doesNotMatch(JSON.stringify(summary), /secret/);
  });

  test('lapsed quota protection is not shown', () => {
    const lapsed = withProxyDisabled(account(), { reason: 'quota_protection', now: NOW - 100, until: NOW - 1 });
    const summary = summarizeAccount(lapsed, NOW);
    assert.equal(summary.state, 'healthy');
    assert.equal(summary.proxy_disabled_reason, null);
    assert.equal(summary.proxy_disabled_until, null);
  });
});
