/**
 * TokenPool against a real AccountStore in a temp directory, the real GoogleOAuth client and the
 * real FakeGoogle server: what a user sees in the files, the log and the selection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { newAccount, serializeAccount, withDisabled, withProxyDisabled, type Account } from '../../src/core/account';
import { defaultConfig, type Config } from '../../src/core/config';
import { parseGoogleError } from '../../src/core/failover';
import { writeFileAtomic } from '../../src/core/fsutil';
import { MemoryLogger } from '../../src/core/log';
import { GoogleOAuth } from '../../src/core/oauth';
import { TokenPool } from '../../src/core/pool';
import { AccountStore } from '../../src/core/store';
import { FakeGoogle } from '../fakes/google';

const MODEL = 'gemini-2.5-pro';

interface Harness {
  fake: FakeGoogle;
  dir: string;
  log: MemoryLogger;
  store: AccountStore;
  pool: TokenPool;
  clock: { ms: number };
  /** Writes an account file the way another process (or a hand edit) would; returns it. */
  addAccount(email: string, fields?: Partial<Account> & { expiresInS?: number }): Promise<Account>;
  readFile(id: string): Promise<Account>;
  /** The pool's own log lines, without the store's. */
  poolLines(): string[];
}

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) {
    h.pool.dispose();
    await h.pool.flush();
    h.store.dispose();
    await h.fake.close();
    await fs.rm(h.dir, { recursive: true, force: true });
  }
});

/** A pool over an empty data dir. `realClock`: Date.now; otherwise a clock the test moves. */
async function harness(
  opts: { routing?: Partial<Config['routing']>; realClock?: boolean; lastUsedFlushMs?: number } = {},
): Promise<Harness> {
  const fake = await FakeGoogle.start();
  const dir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-pool-'));
  const log = new MemoryLogger();
  const store = new AccountStore(dir, log);
  await store.init();
  const clock = { ms: Date.now() };
  const now = opts.realClock ? Date.now : () => clock.ms;
  const oauth = new GoogleOAuth(fake.oauthConfig(), { now });
  const pool = new TokenPool({
    store,
    oauth,
    log,
    routing: { ...defaultConfig().routing, ...opts.routing },
    now,
    lastUsedFlushMs: opts.lastUsedFlushMs,
  });
  let created = 1_700_000_000;
  const h: Harness = {
    fake,
    dir,
    log,
    store,
    pool,
    clock,
    async addAccount(email, fields = {}) {
      const { expiresInS = 3600, ...rest } = fields;
      const nowS = Math.floor(now() / 1000);
      const { refreshToken } = fake.addUser(email);
      const account: Account = {
        ...newAccount({
          id: randomUUID(),
          email,
          token: {
            access_token: `ya29.initial-${randomUUID()}`,
            refresh_token: refreshToken,
            expires_in: expiresInS,
            expiry_timestamp: nowS + expiresInS,
            token_type: 'Bearer',
          },
          project_id: `project-${email.split('@')[0]}`,
          location: 'us-central1',
          now: created++,
        }),
        ...rest,
      };
      await writeFileAtomic(join(dir, 'accounts', `${account.id}.json`), serializeAccount(account));
      return account;
    },
    async readFile(id) {
      return JSON.parse(await fs.readFile(join(dir, 'accounts', `${id}.json`), 'utf8')) as Account;
    },
    poolLines() {
      return log.lines.filter((l) => !l.message.startsWith('[store]') && l.level !== 'debug').map((l) => `${l.level} ${l.message}`);
    },
  };
  harnesses.push(h);
  return h;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

async function emailsOf(pool: TokenPool, n: number, opts: { model?: string; sessionKey?: string } = {}): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push((await pool.acquire(opts.model ?? MODEL, { sessionKey: opts.sessionKey }))?.email);
  return out;
}

/** Records the id of every store.update (a locked read-modify-write of one account file) from now on. */
function countUpdates(store: AccountStore): string[] {
  const ids: string[] = [];
  const update = store.update.bind(store);
  store.update = (id, mutate) => {
    ids.push(id);
    return update(id, mutate);
  };
  return ids;
}

/** Acquires `n` times and reports each a success, moving the clock `stepMs` before each. */
async function serve(h: Harness, n: number, stepMs = 0): Promise<Map<string, number>> {
  const lastUse = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    h.clock.ms += stepMs;
    const lease = await h.pool.acquire(MODEL);
    assert.ok(lease);
    h.pool.report(lease.accountId, MODEL, { kind: 'http', status: 200 });
    lastUse.set(lease.accountId, Math.floor(h.clock.ms / 1000));
  }
  return lastUse;
}

/** A cooldown end as summaries show it: unix seconds, rounded up. */
const endS = (ms: number): number => Math.ceil(ms / 1000);

const quota429 = (delay: string) =>
  parseGoogleError(
    JSON.stringify({
      error: {
        code: 429,
        message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }],
      },
    }),
  );

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

  test('a 429 asking for 2 h sets quota protection on disk; after _until the account serves again', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com');
    await h.addAccount('bob@example.com');
    await h.pool.load();
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    const nowS = Math.floor(h.clock.ms / 1000);

    const decision = h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, googleError: quota429('7200s') });
    assert.equal(decision.action, 'rotate');
    assert.equal(decision.quotaProtectUntilSeconds, 7200);
    await h.pool.flush();

    const onDisk = await h.readFile(ada.id);
    assert.deepEqual(
      [onDisk.proxy_disabled, onDisk.proxy_disabled_reason, onDisk.proxy_disabled_at, onDisk.proxy_disabled_until],
      [true, 'quota_protection', nowS, nowS + 7200],
    );
    assert.equal(onDisk.disabled, false);
    assert.deepEqual(await emailsOf(h.pool, 3), Array(3).fill('bob@example.com'));
    assert.deepEqual(await emailsOf(h.pool, 2, { model: 'gemini-2.5-flash' }), Array(2).fill('bob@example.com'));
    const summary = h.pool.summaries()[0];
    assert.deepEqual([summary.state, summary.proxy_disabled_reason, summary.proxy_disabled_until], ['proxy_disabled', 'quota_protection', nowS + 7200]);

    h.clock.ms += 7199_000;
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    h.clock.ms += 1000;
    const lease = await h.pool.acquire(MODEL);
    assert.equal(lease?.email, 'ada@example.com');
    assert.equal(h.pool.summaries()[0].state, 'healthy');

    // The first success writes last_used and clears the lapsed protection on disk.
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    await h.pool.flush();
    const cleared = await h.readFile(ada.id);
    assert.deepEqual([cleared.proxy_disabled, cleared.proxy_disabled_reason, cleared.proxy_disabled_until], [false, null, null]);
    assert.equal(cleared.last_used, Math.floor(h.clock.ms / 1000));

    // Enabling by hand ends quota protection at once, cooldown included.
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, retryAfterHeader: '7200' });
    await h.pool.flush();
    assert.equal((await h.readFile(ada.id)).proxy_disabled_reason, 'quota_protection');
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    await h.pool.setProxyDisabled(ada.id, false);
    assert.equal((await h.readFile(ada.id)).proxy_disabled, false);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
  });

  test('cooldowns: 503 cools the account (doubling), 429 cools one model, success clears', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com');
    await h.addAccount('bob@example.com');
    await h.pool.load();
    const t0 = h.clock.ms;

    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 }).cooldown?.seconds, 10);
    assert.equal(h.pool.summaries()[0].state, 'cooling');
    assert.deepEqual(h.pool.summaries()[0].cooldowns, [{ model: '*', until: endS(t0 + 10_000), reason: '503 Service Unavailable' }]);
    assert.deepEqual(await emailsOf(h.pool, 2, { model: 'gemini-2.5-flash' }), ['bob@example.com', 'bob@example.com']);
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'network', detail: 'ECONNRESET' }).cooldown?.seconds, 20);
    const availability = h.pool.availability(MODEL);
    assert.deepEqual(
      [availability.cooling, availability.healthy, availability.eligibleForModel, availability.earliestCooldownEnd],
      [1, 1, 1, endS(t0 + 20_000)],
    );

    h.clock.ms += 20_000;
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429 });
    assert.equal((await h.pool.acquire(MODEL))?.email, 'bob@example.com');
    assert.equal((await h.pool.acquire('gemini-2.5-flash'))?.email, 'ada@example.com');
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 429 }).cooldown?.seconds, 10);
    assert.deepEqual(h.pool.summaries()[0].cooldowns.map((c) => c.model), [MODEL]);
    assert.equal(h.pool.summaries()[0].state, 'healthy');

    h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    assert.deepEqual(h.pool.summaries()[0].cooldowns, []);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    assert.equal(h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 }).cooldown?.seconds, 10, 'the success reset the doubling');

    h.pool.resetCooldowns();
    assert.equal(h.pool.counts().cooling, 0);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');
    await h.pool.flush();
  });

  test('waitForEligible resolves when the earliest cooldown ends, or false after the wait', async () => {
    const h = await harness({ realClock: true });
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 429, retryAfterHeader: '1' });
    assert.equal(await h.pool.acquire(MODEL), undefined);
    assert.equal(await h.pool.waitForEligible(MODEL, 100), false);
    const started = Date.now();
    assert.equal(await h.pool.waitForEligible(MODEL, 5000), true);
    assert.ok(Date.now() - started < 1500);
    assert.equal((await h.pool.acquire(MODEL))?.email, 'ada@example.com');

    h.pool.report(ada.id, MODEL, { kind: 'http', status: 503 });
    const controller = new AbortController();
    const waiting = h.pool.waitForEligible(MODEL, 5000, controller.signal);
    controller.abort();
    assert.equal(await waiting, false);
    const resetting = h.pool.waitForEligible(MODEL, 5000);
    h.pool.resetCooldowns();
    assert.equal(await resetting, true);
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

  test('a request never writes last_used; summaries show it at once', async () => {
    const h = await harness();
    for (let i = 0; i < 30; i++) await h.addAccount(`user${i}@example.com`);
    await h.pool.load();
    const updates = countUpdates(h.store);

    const lastUse = await serve(h, 300, 1000);
    await h.pool.flush();

    assert.deepEqual(updates, [], '300 requests over 30 accounts write no account file');
    const summaries = h.pool.summaries();
    assert.equal(summaries.length, 30);
    for (const s of summaries) assert.equal(s.last_used, lastUse.get(s.id), `${s.email} in memory`);
    for (const s of summaries) assert.equal((await h.readFile(s.id)).last_used, null, `${s.email} on disk`);
  });

  test('last_used: a small pool\'s files are at most one flusher run behind memory', async () => {
    const h = await harness();
    const ada = await h.addAccount('ada@example.com');
    await h.pool.load();
    const t0 = Math.floor(h.clock.ms / 1000);
    h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    await h.pool.flush();
    assert.equal((await h.readFile(ada.id)).last_used, null, 'not written by the request');
    await h.pool.flushLastUsed();
    assert.equal((await h.readFile(ada.id)).last_used, t0);

    for (let i = 1; i <= 59; i++) {
      h.clock.ms += 1000;
      h.pool.report(ada.id, MODEL, { kind: 'http', status: 200 });
    }
    await h.pool.flush();
    assert.equal((await h.readFile(ada.id)).last_used, t0, 'no write between runs');
    assert.equal(h.pool.summaries()[0].last_used, t0 + 59, 'memory has the latest');
    await h.pool.flushLastUsed();
    assert.equal((await h.readFile(ada.id)).last_used, t0 + 59);
    const updates = countUpdates(h.store);
    await h.pool.flushLastUsed();
    assert.deepEqual(updates, [], 'nothing to save: no write');
  });

  test('the flusher saves at most 16 accounts a run, the longest unsaved first', async () => {
    const h = await harness();
    const base = Math.floor(h.clock.ms / 1000) - 86_400;
    const accounts: Account[] = [];
    // Pool order 0..19; on disk: 0-3 never used, then 4 the most recently saved down to 19 the least.
    for (let i = 0; i < 20; i++) accounts.push(await h.addAccount(`user${i}@example.com`, { last_used: i < 4 ? null : base + 23 - i }));
    await h.pool.load();
    await serve(h, 20);
    const nowS = Math.floor(h.clock.ms / 1000);
    const updates = countUpdates(h.store);

    await h.pool.flushLastUsed();
    assert.equal(updates.length, 16);
    const onDisk = await Promise.all(accounts.map(async (a) => (await h.readFile(a.id)).last_used));
    assert.deepEqual(
      onDisk,
      accounts.map((_, i) => (i >= 4 && i < 8 ? base + 23 - i : nowS)),
      'the four most recently saved wait for the next run',
    );

    await h.pool.flushLastUsed();
    assert.deepEqual(new Set(updates.slice(16)), new Set(accounts.slice(4, 8).map((a) => a.id)));
    for (const a of accounts) assert.equal((await h.readFile(a.id)).last_used, nowS);
    await h.pool.flushLastUsed();
    assert.equal(updates.length, 20, 'all saved: the third run writes nothing');
  });

  test('every write the pool makes for an account carries its in-memory last_used', async () => {
    const h = await harness({ routing: { strategy: 'fill-first' } });
    const ada = await h.addAccount('ada@example.com', { expiresInS: 400 });
    const bob = await h.addAccount('bob@example.com');
    const cy = await h.addAccount('cy@example.com');
    const dee = await h.addAccount('dee@example.com');
    await h.pool.load();
    const t0 = Math.floor(h.clock.ms / 1000);
    const updates = countUpdates(h.store);
    for (const a of [ada, bob, cy, dee]) h.pool.report(a.id, MODEL, { kind: 'http', status: 200 });
    await h.pool.flush();
    assert.deepEqual(updates, []);
    h.clock.ms += 200_000;

    // A token refresh (fewer than 300 s left).
    const lease = await h.pool.acquire(MODEL);
    assert.equal(lease?.email, 'ada@example.com');
    const refreshed = await h.readFile(ada.id);
    assert.equal(refreshed.token.access_token, lease.accessToken);
    assert.equal(refreshed.last_used, t0);
    // The user's proxy-disable.
    await h.pool.setProxyDisabled(bob.id, true);
    assert.deepEqual([(await h.readFile(bob.id)).proxy_disabled, (await h.readFile(bob.id)).last_used], [true, t0]);
    // Quota protection.
    h.pool.report(cy.id, MODEL, { kind: 'http', status: 429, googleError: quota429('7200s') });
    await h.pool.flush();
    assert.deepEqual([(await h.readFile(cy.id)).proxy_disabled_reason, (await h.readFile(cy.id)).last_used], ['quota_protection', t0]);
    // A disable on invalid_grant.
    h.fake.revokeRefreshToken(dee.token.refresh_token);
    await assert.rejects(h.pool.forceRefresh(dee.id), { name: 'InvalidGrantError' });
    assert.deepEqual([(await h.readFile(dee.id)).disabled, (await h.readFile(dee.id)).last_used], [true, t0]);

    assert.deepEqual(new Set(updates), new Set([ada.id, bob.id, cy.id, dee.id]), 'no write of its own for last_used');
    const beforeRun = updates.length;
    await h.pool.flushLastUsed();
    assert.equal(updates.length, beforeRun, 'the flusher finds nothing left to save');
  });

  test("'used' change events: at once after a quiet spell, then at most one per flusher interval", async () => {
    const h = await harness();
    for (let i = 0; i < 10; i++) await h.addAccount(`user${i}@example.com`);
    await h.pool.load();
    const events: string[] = [];
    h.pool.onDidChange((e) => events.push(e.reason));
    await new Promise((resolve) => setTimeout(resolve, 60));
    events.length = 0;

    // Twenty requests over 20 s (each a burst of its own, 30 ms apart) make one event.
    for (let i = 0; i < 20; i++) {
      await serve(h, 1, 1000);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(events, ['used']);

    h.clock.ms += 60_000;
    await serve(h, 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(events, ['used', 'used']);
  });

  test('the background flusher saves last_used and reports the uses by itself', async () => {
    const h = await harness({ realClock: true, lastUsedFlushMs: 200 });
    const accounts = [await h.addAccount('ada@example.com'), await h.addAccount('bob@example.com'), await h.addAccount('cy@example.com')];
    await h.pool.load();
    const events: string[] = [];
    h.pool.onDidChange((e) => events.push(e.reason));
    h.pool.report(accounts[0].id, MODEL, { kind: 'http', status: 200 });
    await waitFor('the first use to be reported', () => events.some((e) => e.includes('used')));
    events.length = 0;

    for (let i = 0; i < 50; i++) h.pool.report(accounts[i % 3].id, MODEL, { kind: 'http', status: 200 });
    const saved = async () => (await Promise.all(accounts.map((a) => h.readFile(a.id)))).every((a) => a.last_used !== null);
    await waitFor('the flusher to save every account', saved, 2000);
    await waitFor('the uses to be reported', () => events.some((e) => e.includes('used')), 1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const used = events.filter((e) => e.includes('used')).length;
    assert.ok(used >= 1 && used <= 2, `50 requests, ${used} 'used' events`);
  });

  test('dispose starts a bounded last save of last_used; flush() waits for it', async () => {
    const h = await harness();
    const accounts: Account[] = [];
    for (let i = 0; i < 70; i++) accounts.push(await h.addAccount(`user${i}@example.com`));
    await h.pool.load();
    await serve(h, 70);
    const nowS = Math.floor(h.clock.ms / 1000);
    const updates = countUpdates(h.store);

    h.pool.dispose();
    await h.pool.flush();

    assert.equal(updates.length, 64);
    const onDisk = await Promise.all(accounts.map(async (a) => (await h.readFile(a.id)).last_used));
    assert.equal(onDisk.filter((v) => v === nowS).length, 64);
    assert.equal(onDisk.filter((v) => v === null).length, 6);
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
