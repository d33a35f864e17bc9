/**
 * TokenPool: loading, upserts, selection, watching other processes' changes, change events,
 * removal and the restart after a crash, seen in the files, the log and the selection. The
 * refresh, the failover outcomes and last_used have files of their own (pool-*.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withDisabled, withProxyDisabled } from '../../src/core/account';
import { MemoryLogger } from '../../src/core/log';
import { AccountStore } from '../../src/core/store';
import { MODEL, emailsOf, harness, waitFor } from '../helpers/pool-harness';

describe('TokenPool', () => {
  test('load: disabled first, then quota protection and proxy_disabled; exact log lines', async () => {
    const h = await harness();
    const nowS = Math.floor(h.clock.ms / 1000);
    await h.addAccount('ada@example.com');
    const bob = await h.addAccount('bob@example.com');
    await h.store.update(bob.id, (a) => withDisabled(a, 'invalid_grant: Token has been expired or revoked.', nowS - 60));
    const cy = await h.addAccount('cy@example.com');
    await h.store.update(cy.id, (a) => withProxyDisabled(a, { reason: 'manual', now: nowS }));
    const lapsed = await h.addAccount('dee@example.com');
    await h.store.update(lapsed.id, (a) => withProxyDisabled(a, { reason: 'quota_protection', now: nowS - 7200, until: nowS - 1 }));
    const quota = await h.addAccount('eve@example.com');
    await h.store.update(quota.id, (a) => withProxyDisabled(a, { reason: 'quota_protection', now: nowS, until: nowS + 3600 }));
    // Disabled and proxy_disabled at once: disabled wins.
    const both = await h.addAccount('fay@example.com');
    await h.store.update(both.id, (a) => withProxyDisabled(withDisabled(a, 'invalid_grant: x', nowS), { reason: 'manual', now: nowS }));

    await h.pool.load();

    assert.deepEqual(h.poolLines(), [
      'info [pool] skip disabled account (bob@example.com)',
      'info [pool] skip proxy_disabled account (cy@example.com): manual',
      'info [pool] skip proxy_disabled account (eve@example.com): quota_protection',
      'info [pool] skip disabled account (fay@example.com)',
      'info [pool] quota protection of dee@example.com has ended; it serves again',
      'info [pool] Loaded account pool: 2 healthy, 2 proxy_disabled, 2 disabled',
    ]);
    const cleared = await h.readFile(lapsed.id);
    assert.deepEqual(
      [cleared.proxy_disabled, cleared.proxy_disabled_reason, cleared.proxy_disabled_at, cleared.proxy_disabled_until],
      [false, null, null, null],
    );
    assert.deepEqual(h.pool.counts(), { total: 6, healthy: 2, cooling: 0, proxy_disabled: 2, disabled: 2 });
    assert.deepEqual(
      h.pool.summaries().map((s) => `${s.email} ${s.state}`),
      ['ada@example.com healthy', 'bob@example.com disabled', 'cy@example.com proxy_disabled', 'dee@example.com healthy', 'eve@example.com proxy_disabled', 'fay@example.com disabled'],
    );
    assert.deepEqual(new Set(await emailsOf(h.pool, 6)), new Set(['ada@example.com', 'dee@example.com']));
  });

  test('upsert: a new refresh token re-enables, the same tokens do not, proxy_disabled is kept', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com', { expiresInS: 0 });
    await h.pool.load();
    h.fake.revokeRefreshToken(ada.token.refresh_token);
    assert.equal(await h.pool.acquire(MODEL), undefined);
    const disabled = await h.readFile(ada.id);
    assert.equal(disabled.disabled, true);

    // Same tokens again: stays disabled.
    const same = await h.pool.upsert({ email: 'ada@example.com', token: disabled.token });
    assert.deepEqual([same.created, same.reenabled, same.account.disabled], [false, false, true]);
    assert.equal(await h.pool.acquire(MODEL), undefined);

    // A fresh refresh token (re-added with different case): re-enabled and eligible at once.
    h.log.lines.length = 0;
    const refreshToken = h.fake.issueRefreshToken('ada@example.com');
    const nowS = Math.floor(h.clock.ms / 1000);
    const token = { access_token: 'ya29.readded', refresh_token: refreshToken, expires_in: 3600, expiry_timestamp: nowS + 3600, token_type: 'Bearer' };
    const readded = await h.pool.upsert({ email: 'ADA@example.com', token, project_id: 'other-project' });
    assert.deepEqual([readded.created, readded.reenabled, readded.account.id], [false, true, ada.id]);
    assert.deepEqual(h.poolLines(), [
      'info [pool] Re-enabled account (ada@example.com): token changed on re-add',
      'info [pool] Reloaded account pool: 1 healthy, 0 proxy_disabled, 0 disabled',
    ]);
    const onDisk = await h.readFile(ada.id);
    assert.deepEqual([onDisk.disabled, onDisk.disabled_at, onDisk.disabled_reason], [false, null, null]);
    assert.equal(onDisk.token.refresh_token, refreshToken);
    assert.equal(onDisk.project_id, 'other-project');
    assert.equal(onDisk.created_at, ada.created_at);
    const lease = await h.pool.acquire(MODEL);
    assert.deepEqual([lease?.email, lease?.accessToken, lease?.projectId], ['ada@example.com', 'ya29.readded', 'other-project']);

    // proxy_disabled survives a re-add with yet another token.
    await h.pool.setProxyDisabled(ada.id, true);
    assert.equal(await h.pool.acquire(MODEL), undefined);
    const again = await h.pool.upsert({ email: 'ada@example.com', token: { ...token, refresh_token: h.fake.issueRefreshToken('ada@example.com') } });
    assert.equal(again.reenabled, false);
    const kept = await h.readFile(ada.id);
    assert.deepEqual([kept.proxy_disabled, kept.proxy_disabled_reason], [true, 'manual']);
    assert.equal(h.pool.summaries()[0].state, 'proxy_disabled');
    assert.equal(await h.pool.acquire(MODEL), undefined);

    await h.pool.setProxyDisabled(ada.id, false);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
  });

  test('upsert of a new email creates an account that is eligible at once', async () => {
    const h = await harness();
    await h.pool.load();
    const { refreshToken } = h.fake.addUser('new@example.com');
    const nowS = Math.floor(h.clock.ms / 1000);
    const result = await h.pool.upsert({
      email: 'new@example.com',
      name: 'New',
      token: { access_token: 'ya29.new', refresh_token: refreshToken, expiry_timestamp: nowS + 3600 },
    });
    assert.deepEqual([result.created, result.reenabled], [true, false]);
    assert.match(result.account.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal((await h.readFile(result.account.id)).name, 'New');
    assert.equal((await h.pool.acquire(MODEL))?.accessToken, 'ya29.new');
  });

  test('round-robin spreads; session affinity sticks', async () => {
    const h = await harness();
    for (const name of ['ada', 'bob', 'cy']) await h.addAccount(`${name}@example.com`);
    await h.pool.load();
    const spread = await emailsOf(h.pool, 9);
    for (const email of ['ada@example.com', 'bob@example.com', 'cy@example.com']) {
      assert.equal(spread.filter((e) => e === email).length, 3);
    }
    const first = (await h.pool.acquire(MODEL, { sessionKey: 'conversation-1' }))!.email;
    const others = await emailsOf(h.pool, 4);
    assert.ok(others.some((e) => e !== first));
    assert.deepEqual(await emailsOf(h.pool, 5, { sessionKey: 'conversation-1' }), Array(5).fill(first));
    const exclude = new Set([(await h.pool.acquire(MODEL, { sessionKey: 'conversation-1' }))!.accountId]);
    const moved = await h.pool.acquire(MODEL, { sessionKey: 'conversation-1', exclude });
    assert.notEqual(moved?.email, first);
  });

  test('startWatching applies an edit, an added file and a removed file by another process within 1 s', async () => {
    const h = await harness({ realClock: true });
    const ada = await h.addAccount('ada@example.com');
    const bob = await h.addAccount('bob@example.com');
    await h.pool.load();
    const events: string[] = [];
    h.pool.onDidChange((e) => events.push(e.reason));
    const watching = h.pool.startWatching();
    await new Promise((resolve) => setTimeout(resolve, 150));

    const other = new AccountStore(h.dir, new MemoryLogger());
    await other.update(ada.id, (a) => withProxyDisabled(a, { reason: 'manual', now: Math.floor(Date.now() / 1000) }));
    const applied = await waitFor('the edit', () => h.pool.counts().proxy_disabled === 1, 1000);
    assert.ok(applied < 1000);
    assert.deepEqual(await emailsOf(h.pool, 3), Array(3).fill('bob@example.com'));

    const cy = await h.addAccount('cy@example.com');
    await waitFor('the new file', () => h.pool.counts().total === 3, 1000);
    assert.ok((await emailsOf(h.pool, 4)).includes('cy@example.com'));

    await fs.rm(join(h.dir, 'accounts', `${bob.id}.json`));
    await waitFor('the removal', () => h.pool.counts().total === 2, 1000);
    assert.deepEqual(await emailsOf(h.pool, 3), Array(3).fill('cy@example.com'));
    assert.ok(!h.pool.summaries().some((s) => s.email === 'bob@example.com'));
    await waitFor('a change event', () => events.length > 0, 1000);

    // A file that does not parse (a hand edit in progress) keeps the last good state.
    await fs.writeFile(join(h.dir, 'accounts', `${cy.id}.json`), '{"id": ');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(h.pool.counts().total, 2);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'cy@example.com');
    watching.dispose();
    other.dispose();
  });

  test('reload keeps serving: acquire during a reload never comes back empty', async () => {
    const h = await harness();
    for (let i = 0; i < 40; i++) await h.addAccount(`user${i}@example.com`);
    await h.pool.load();
    let reloading = true;
    const reload = (async () => {
      for (let i = 0; i < 5; i++) await h.pool.reload();
      reloading = false;
    })();
    let served = 0;
    while (reloading) {
      const leases = await Promise.all(Array.from({ length: 10 }, () => h.pool.acquire(MODEL)));
      assert.ok(leases.every((l) => l !== undefined));
      served += leases.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await reload;
    assert.ok(served > 0);
    assert.equal(h.pool.counts().total, 40);
    assert.equal(h.poolLines().filter((l) => l.startsWith('info [pool] Reloaded account pool: 40 healthy')).length, 5);
  });

  test('onDidChange: one event per burst of changes, naming what changed', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    const bob = await h.addAccount('bob@example.com');
    await h.pool.load();
    const events: string[] = [];
    h.pool.onDidChange((e) => events.push(e.reason));
    await new Promise((resolve) => setTimeout(resolve, 60));
    events.length = 0;

    h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 });
    h.pool.report(bob.id, MODEL, { kind: 'http', status: 503 });
    h.pool.resetCooldowns();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(events, ['cooldown,reset']);

    await h.pool.setProxyDisabled(bob.id, true);
    await waitFor('the proxy_disabled event', () => events.length === 2);
    assert.equal(events[1], 'proxy_disabled');
  });

  test('remove() deletes the file and the account; unknown ids throw', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    await h.pool.remove(ada.id);
    await assert.rejects(fs.access(join(h.dir, 'accounts', `${ada.id}.json`)));
    assert.equal(h.pool.counts().total, 0);
    assert.equal(await h.pool.acquire(MODEL), undefined);
    await assert.rejects(h.pool.remove(ada.id), { name: 'AccountNotFoundError' });
    await assert.rejects(h.pool.setProxyDisabled(ada.id, true), { name: 'AccountNotFoundError' });
  });
});

/** test/fixtures/store-writer.ts killed (SIGKILL) after writing its temp file, before the rename: its lock stays behind. */
async function crashWritingAccount(dataDir: string, id: string): Promise<void> {
  const script = join(__dirname, '../fixtures/store-writer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, 'crash-before-rename', id], { cwd: join(__dirname, '../..') });
  child.stdout.once('data', () => child.stdin.write('go\n'));
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
}

describe('TokenPool after a crash', () => {
  test('the first request after a restart does not wait for the dead process\'s lock, and its temp file is gone', { timeout: 60_000 }, async () => {
    const h = await harness({ realClock: true });
    const ada = await h.addAccount('ada@example.com', { expiresInS: -60 });
    await crashWritingAccount(h.dir, ada.id);
    const accountsDir = join(h.dir, 'accounts');
    const left = await fs.readdir(accountsDir);
    assert.ok(left.includes(`.${ada.id}.json.lock`) && left.some((n) => n.endsWith('.tmp')), `the crash left a lock and a temp file: ${left}`);

    const started = performance.now();
    await h.pool.load();
    const lease = await h.pool.acquire(MODEL); // an expired token: refreshes, and saves under the lock
    const ms = performance.now() - started;

    assert.equal(lease?.email, 'ada@example.com');
    assert.ok(ms < 2000, `first request after the restart took ${Math.round(ms)} ms (a stale lock alone would hold it for 10 s)`);
    assert.equal((await h.readFile(ada.id)).token.access_token, lease.accessToken, 'the refreshed token was saved');
    assert.deepEqual(await fs.readdir(accountsDir), [`${ada.id}.json`]);
    const lines = h.log.lines.map((l) => l.message);
    assert.ok(lines.includes('[store] removed 1 leftover temp file from an interrupted write'), lines.join('\n'));
    assert.ok(lines.some((l) => /took over the lock on .* at once: its owner \(pid \d+ on this host\) is gone/.test(l)), lines.join('\n'));
  });
});
