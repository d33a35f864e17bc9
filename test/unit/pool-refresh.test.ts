/**
 * The pool's token refresh (src/core/refresh.ts) through TokenPool: single-flight, failures and
 * their decisions (invalid_grant disables, a client mismatch cools), check() and forceRefresh().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withDisabled } from '../../src/core/account';
import { MemoryLogger } from '../../src/core/log';
import { AccountStore } from '../../src/core/store';
import { MODEL, emailsOf, endS, harness, waitFor } from '../helpers/pool-harness';

describe('TokenPool refresh', () => {
  test('50 concurrent acquire on an expiring account make exactly one token call', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com', { expiresInS: 120 });
    await h.pool.load();

    const leases = await Promise.all(Array.from({ length: 50 }, () => h.pool.acquire(MODEL)));

    assert.equal(h.fake.tokenCalls('ada@example.com'), 1);
    const tokens = new Set(leases.map((l) => l?.accessToken));
    assert.equal(tokens.size, 1);
    const [token] = tokens;
    assert.ok(token && token !== ada.token.access_token);
    assert.equal(h.fake.isAccessTokenValid(token), 'ada@example.com');
    const onDisk = await h.readFile(ada.id);
    assert.equal(onDisk.token.access_token, token);
    assert.ok(onDisk.token.expiry_timestamp >= Math.floor(h.clock.ms / 1000) + 3500);
    assert.equal(onDisk.token.refresh_token, ada.token.refresh_token);
    assert.equal(onDisk.project_id, 'project-ada');
    // Fresh now: the next acquire uses it without calling Google.
    assert.equal((await h.pool.acquire(MODEL))?.accessToken, token);
    assert.equal(h.fake.tokenCalls(), 1);
  });

  test('a revoked refresh token: acquire moves on, the account is disabled on disk and out of selection', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com', { expiresInS: 10 });
    await h.addAccount('bob@example.com');
    await h.pool.load();
    h.fake.revokeRefreshToken(ada.token.refresh_token);

    const lease = await h.pool.acquire(MODEL);

    assert.equal(lease?.email, 'bob@example.com');
    const onDisk = await h.readFile(ada.id);
    assert.equal(onDisk.disabled, true);
    assert.equal(onDisk.disabled_reason, 'invalid_grant: Token has been expired or revoked.');
    assert.ok(Math.abs(onDisk.disabled_at! - Math.floor(h.clock.ms / 1000)) <= 1);
    assert.equal(onDisk.token.access_token, ada.token.access_token);
    assert.deepEqual(h.poolLines().slice(-2), [
      'warn [refresh] Token refresh failed (ada@example.com): invalid_grant: Token has been expired or revoked., trying next account',
      'error [refresh] Disabling account due to invalid_grant (ada@example.com): refresh_token likely revoked/expired (or the account is suspended)',
    ]);
    assert.deepEqual(await emailsOf(h.pool, 5), Array(5).fill('bob@example.com'));
    assert.equal(h.fake.tokenCalls('ada@example.com'), 1);
    const summary = h.pool.summaries().find((s) => s.email === 'ada@example.com')!;
    assert.equal(summary.state, 'disabled');
    assert.equal(summary.disabled_reason, 'invalid_grant: Token has been expired or revoked.');
    assert.equal(h.pool.counts().disabled, 1);
  });

  test('invalid_grant with a subtype goes into the reason; nothing eligible gives undefined', async () => {
    const h = await harness();
    await h.addAccount('ada@example.com', { expiresInS: 0 });
    await h.pool.load();
    h.fake.script({ email: 'ada@example.com', kind: 'invalid_grant', description: 'reauth related error', subtype: 'invalid_rapt' });

    assert.equal(await h.pool.acquire(MODEL), undefined);
    assert.equal(h.pool.summaries()[0].disabled_reason, 'invalid_grant: reauth related error (invalid_rapt)');
  });

  test('a refresh racing a disable by another process never re-enables the account', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com', { expiresInS: 60 });
    await h.pool.load();
    h.fake.script({ email: 'ada@example.com', kind: 'slow', delayMs: 400 });
    const other = new AccountStore(h.dir, new MemoryLogger());

    const acquiring = h.pool.acquire(MODEL);
    await waitFor('the refresh to reach Google', () => h.fake.tokenCalls('ada@example.com') === 1);
    const nowS = Math.floor(h.clock.ms / 1000);
    await other.update(ada.id, (a) => withDisabled(a, 'invalid_grant: revoked in another window', nowS));
    const lease = await acquiring;

    assert.equal(lease, undefined);
    const onDisk = await h.readFile(ada.id);
    assert.equal(onDisk.disabled, true);
    assert.equal(onDisk.disabled_reason, 'invalid_grant: revoked in another window');
    assert.equal(onDisk.token.access_token, ada.token.access_token, 'no token written onto a disabled record');
    assert.equal(h.pool.summaries()[0].state, 'disabled');
    assert.equal(await h.pool.acquire(MODEL), undefined);
    assert.equal(h.fake.tokenCalls(), 1);
    other.dispose();
  });

  test('401: forceRefresh is single-flight; a second 401 cools the account for 10 min', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 401 }).action, 'retry_same');
    const tokens = await Promise.all(Array.from({ length: 10 }, () => h.pool.forceRefresh(ada.id)));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(h.fake.tokenCalls(), 1);
    assert.equal((await h.readFile(ada.id)).token.access_token, tokens[0]);

    const decision = h.pool.report(ada.id, MODEL, { kind: 'http', status: 401 }, { already401: true });
    assert.deepEqual(decision.cooldown, { scope: 'account', seconds: 600, reason: '401 Unauthorized' });
    assert.equal(h.pool.summaries()[0].state, 'cooling');
    assert.equal(await h.pool.acquire(MODEL), undefined);
  });

  test('forceRefresh after a revoke disables once; reporting the same error again changes nothing', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    h.fake.revokeRefreshToken(ada.token.refresh_token);
    const error = await h.pool.forceRefresh(ada.id).then(
      () => assert.fail('expected the refresh to fail'),
      (err: unknown) => err,
    );
    assert.equal((error as Error).name, 'InvalidGrantError');
    assert.equal((await h.readFile(ada.id)).disabled, true);
    const decision = h.pool.report(ada.id, MODEL, { kind: 'refresh', error: error as never });
    assert.deepEqual(decision.disable, { reason: 'invalid_grant: Token has been expired or revoked.' });
    await h.pool.flush();
    assert.equal(h.poolLines().filter((l) => l.includes('Disabling account')).length, 1);
  });

  test('an OAuth client mismatch cools each account 1 h and warns once per client', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com', { expiresInS: 0 });
    const bob = await h.addAccount('bob@example.com', { expiresInS: 0 });
    for (const a of [ada, bob]) {
      await h.store.update(a.id, (c) => ({ ...c, token: { ...c.token, client_id: 'someone-else.apps.googleusercontent.com', client_secret: 'x' } }));
    }
    await h.pool.load();

    assert.equal(await h.pool.acquire(MODEL), undefined);
    assert.equal(h.fake.tokenCalls(), 2);
    const mismatch = h.poolLines().filter((l) => l.includes('does not match'));
    assert.deepEqual(mismatch, [
      "warn [refresh] The OAuth client (someone-else.apps.googleusercontent.com) does not match the one ada@example.com's refresh token " +
        'was issued to (invalid_client); accounts cool for 1 h instead of being disabled. Configure the client that issued the tokens, ' +
        'or re-add the accounts with this client.',
    ]);
    for (const summary of h.pool.summaries()) {
      assert.equal(summary.state, 'cooling');
      assert.deepEqual(summary.cooldowns.map((c) => [c.model, c.until]), [['*', endS(h.clock.ms + 3600_000)]]);
      assert.equal(summary.disabled_reason, null);
    }
    assert.equal((await h.readFile(ada.id)).disabled, false);
  });

  test('an account with its own OAuth client (gcloud ADC) refreshes with that client', async () => {
    const h = await harness();
    h.fake.registerClient('gcloud-client.apps.googleusercontent.com', 'gcloud-secret');
    const ada = await h.addAccount('ada@example.com', { expiresInS: 0 });
    const refreshToken = h.fake.issueRefreshToken('ada@example.com', { clientId: 'gcloud-client.apps.googleusercontent.com' });
    await h.store.update(ada.id, (a) => ({
      ...a,
      token: { ...a.token, refresh_token: refreshToken, client_id: 'gcloud-client.apps.googleusercontent.com', client_secret: 'gcloud-secret' },
    }));
    await h.pool.load();
    const lease = await h.pool.acquire(MODEL);
    assert.equal(h.fake.isAccessTokenValid(lease!.accessToken), 'ada@example.com');
    const onDisk = await h.readFile(ada.id);
    assert.deepEqual([onDisk.token.client_id, onDisk.token.refresh_token], ['gcloud-client.apps.googleusercontent.com', refreshToken]);
  });

  test('check(): refreshes now and reports; invalid_grant disables', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    const ok = await h.pool.check(ada.id);
    assert.ok(ok.ok && ok.expiry >= Math.floor(h.clock.ms / 1000) + 3500);
    h.fake.script({ email: 'ada@example.com', kind: 'invalid_grant' });
    const failed = await h.pool.check(ada.id);
    assert.equal(failed.ok, false);
    assert.equal(!failed.ok && failed.error.message, 'invalid_grant: Token has been expired or revoked.');
    assert.ok(h.poolLines().includes('warn [refresh] Token refresh failed (ada@example.com): invalid_grant: Token has been expired or revoked.'));
    assert.equal((await h.readFile(ada.id)).disabled, true);
  });
});
