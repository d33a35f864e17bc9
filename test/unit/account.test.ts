import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accountState,
  blockingChanged,
  byPoolOrder,
  clientOf,
  hasFreshToken,
  isSelectable,
  newAccount,
  parseAccount,
  quotaProtectionLapsed,
  serializeAccount,
  summarizeAccount,
  truncateReason,
  withDisabled,
  withEnabled,
  withNewerLastUsed,
  withProxyDisabled,
  withTokens,
  type Account,
  type AccountToken,
} from '../../src/core/account';
import { AccountFileError } from '../../src/core/errors';
import type { TokenSet } from '../../src/core/oauth';

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

const quota = (until: number | null) => withProxyDisabled(account(), { reason: 'quota_protection', now: NOW - 10, until });
const manual = (until: number | null = null) => withProxyDisabled(account(), { reason: 'manual', now: NOW - 10, until });

describe('isSelectable', () => {
  const rows: { name: string; account: Account; want: boolean }[] = [
    { name: 'fresh account', account: account(), want: true },
    { name: 'disabled', account: withDisabled(account(), 'invalid_grant: x', NOW), want: false },
    { name: 'disabled with quota protection that has an end', account: withDisabled(quota(NOW + 60), 'invalid_grant: x', NOW), want: false },
    { name: 'manual proxy_disabled', account: manual(), want: false },
    { name: 'manual proxy_disabled with an _until', account: manual(NOW + 60), want: false },
    { name: 'quota protection with an end stays in (blocked until then)', account: quota(NOW + 60), want: true },
    { name: 'quota protection past its end is still in', account: quota(NOW - 60), want: true },
    { name: 'quota protection without an end', account: quota(null), want: false },
    { name: 'cleared proxy_disabled', account: withProxyDisabled(manual(), null), want: true },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(isSelectable(row.account), row.want));
  }
});

describe('quotaProtectionLapsed', () => {
  const rows: { name: string; account: Account; want: boolean }[] = [
    { name: 'not proxy_disabled', account: account(), want: false },
    { name: 'quota protection ending later', account: quota(NOW + 1), want: false },
    { name: 'quota protection ending now', account: quota(NOW), want: true },
    { name: 'quota protection ended earlier', account: quota(NOW - 100), want: true },
    { name: 'quota protection without an end', account: quota(null), want: false },
    { name: 'manual with a past _until', account: manual(NOW - 100), want: false },
    {
      name: 'leftover quota fields without proxy_disabled',
      account: { ...account(), proxy_disabled_reason: 'quota_protection', proxy_disabled_until: NOW - 100 },
      want: false,
    },
    { name: 'disabled does not matter', account: withDisabled(quota(NOW - 1), 'invalid_grant: x', NOW), want: true },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(quotaProtectionLapsed(row.account, NOW), row.want));
  }
});

describe('blockingChanged', () => {
  const rows: { name: string; from: Account; to: Account; want: boolean }[] = [
    { name: 'the same record', from: quota(NOW + 60), to: quota(NOW + 60), want: false },
    { name: 'proxy_disabled set', from: account(), to: manual(), want: true },
    { name: 'proxy_disabled cleared', from: quota(NOW + 60), to: withProxyDisabled(quota(NOW + 60), null), want: true },
    { name: 'the end moved', from: quota(NOW + 60), to: quota(NOW + 7200), want: true },
    { name: 'only the reason changed', from: manual(NOW + 60), to: quota(NOW + 60), want: false },
    { name: 'only disabled changed', from: account(), to: withDisabled(account(), 'invalid_grant: x', NOW), want: false },
    { name: 'only last_used changed', from: account(), to: { ...account(), last_used: NOW }, want: false },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(blockingChanged(row.from, row.to), row.want));
  }
});

describe('byPoolOrder', () => {
  const at = (id: string, created_at: number) => ({ ...account(), id, created_at });
  const rows: { name: string; a: Account; b: Account; want: -1 | 0 | 1 }[] = [
    { name: 'older first', a: at('b', NOW - 1), b: at('a', NOW), want: -1 },
    { name: 'newer after', a: at('a', NOW), b: at('b', NOW - 1), want: 1 },
    { name: 'same age: lower id first', a: at('a', NOW), b: at('b', NOW), want: -1 },
    { name: 'same age: higher id after', a: at('b', NOW), b: at('a', NOW), want: 1 },
    { name: 'same age and id', a: at('a', NOW), b: at('a', NOW), want: 0 },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(Math.sign(byPoolOrder(row.a, row.b)), row.want));
  }
});

describe('hasFreshToken', () => {
  const expiring = (expiry_timestamp: number, access_token = 'ya29.x') => ({ ...account(), token: { ...account().token, access_token, expiry_timestamp } });
  const rows: { name: string; account: Account; skew: number; want: boolean }[] = [
    { name: 'an hour left', account: expiring(NOW + 3600), skew: 300, want: true },
    { name: 'exactly the skew left', account: expiring(NOW + 300), skew: 300, want: true },
    { name: 'a second less than the skew', account: expiring(NOW + 299), skew: 300, want: false },
    { name: 'expired', account: expiring(NOW - 1), skew: 300, want: false },
    { name: 'expiring now with no skew', account: expiring(NOW), skew: 0, want: true },
    { name: 'no access token yet', account: expiring(NOW + 3600, ''), skew: 300, want: false },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(hasFreshToken(row.account, NOW, row.skew), row.want));
  }
});

describe('clientOf', () => {
  const withClient = (fields: Partial<AccountToken>) => ({ ...account(), token: { ...account().token, ...fields } });
  const rows: { name: string; account: Account; want: ReturnType<typeof clientOf> }[] = [
    { name: 'no client of its own', account: account(), want: undefined },
    { name: 'a client id', account: withClient({ client_id: 'gcloud' }), want: { client_id: 'gcloud' } },
    { name: 'a client id and secret', account: withClient({ client_id: 'gcloud', client_secret: 's' }), want: { client_id: 'gcloud', client_secret: 's' } },
    { name: 'an empty secret is left out', account: withClient({ client_id: 'gcloud', client_secret: '' }), want: { client_id: 'gcloud' } },
    { name: 'a secret without a client id', account: withClient({ client_id: '', client_secret: 's' }), want: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(clientOf(row.account), row.want));
  }
});

describe('withTokens', () => {
  const before = { ...account(), token: { ...account().token, expires_in: 10, token_type: 'Bearer', client_id: 'gcloud', id_token: 'eyJold' } };
  const refreshed: TokenSet = { access_token: 'ya29.new', expires_in: 3599, expiry_timestamp: NOW + 3599, token_type: 'Bearer2' };
  const updated = { access_token: 'ya29.new', expires_in: 3599, expiry_timestamp: NOW + 3599, token_type: 'Bearer2' };
  const rows: { name: string; tokens: TokenSet; want: AccountToken }[] = [
    { name: 'no new refresh token: the old one stays', tokens: refreshed, want: { ...before.token, ...updated } },
    {
      name: 'a new refresh token replaces the old',
      tokens: { ...refreshed, refresh_token: '1//rotated' },
      want: { ...before.token, ...updated, refresh_token: '1//rotated' },
    },
    { name: 'an empty refresh token is no new one', tokens: { ...refreshed, refresh_token: '' }, want: { ...before.token, ...updated } },
    {
      name: 'id_token and scope are not taken; the client and other token fields stay',
      tokens: { ...refreshed, id_token: 'eyJnew', scope: 'openid' },
      want: { ...before.token, ...updated },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const after = withTokens(before, row.tokens);
      assert.deepEqual(after, { ...before, token: row.want });
      assert.equal(before.token.access_token, account().token.access_token, 'the input is not changed');
    });
  }
});

describe('withNewerLastUsed', () => {
  const used = (last_used: number | null, over: Partial<Account> = {}) => ({ ...account(), ...over, last_used });
  const onDisk = used(NOW - 60, { disabled: true });
  const rows: { name: string; record: Account; local: Account | undefined; want: number | null }[] = [
    { name: 'nothing in memory', record: onDisk, local: undefined, want: NOW - 60 },
    { name: 'never used in memory', record: onDisk, local: used(null), want: NOW - 60 },
    { name: 'later in memory: memory wins', record: onDisk, local: used(NOW), want: NOW },
    { name: 'earlier in memory: the record wins', record: onDisk, local: used(NOW - 120), want: NOW - 60 },
    { name: 'never used on disk, used in memory', record: used(null), local: used(NOW), want: NOW },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(withNewerLastUsed(row.record, row.local), { ...row.record, last_used: row.want });
    });
  }
});
