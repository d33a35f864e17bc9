/**
 * last_used off the request path: LastUsedLedger (which accounts the flusher saves next), and the
 * flusher (src/core/lastUsedFlusher.ts) through TokenPool: what the files and the events show.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Account } from '../../src/core/account';
import { LastUsedLedger } from '../../src/core/lastUsed';
import { MODEL, countUpdates, harness, quota429, serve, waitFor } from '../helpers/pool-harness';

const T = 1_700_000_000;

describe('LastUsedLedger.due', () => {
  const table: {
    name: string;
    /** What each file holds (as last read or written); an id missing here was never read. */
    onDisk: Record<string, number | null>;
    /** last_used in memory, in pool order. */
    inMemory: [string, number | null][];
    limit: number;
    want: string[];
  }[] = [
    { name: 'nothing used', onDisk: { a: null, b: T }, inMemory: [['a', null], ['b', T]], limit: 16, want: [] },
    { name: 'memory equals the file', onDisk: { a: T }, inMemory: [['a', T]], limit: 16, want: [] },
    { name: 'the file is later than memory (another process)', onDisk: { a: T + 5 }, inMemory: [['a', T]], limit: 16, want: [] },
    { name: 'memory is later', onDisk: { a: T }, inMemory: [['a', T + 1]], limit: 16, want: ['a'] },
    { name: 'a file without last_used comes first', onDisk: { a: T - 100, b: null }, inMemory: [['a', T], ['b', T]], limit: 16, want: ['b', 'a'] },
    { name: 'an account never read counts as never saved', onDisk: { a: T - 100 }, inMemory: [['a', T], ['b', T]], limit: 16, want: ['b', 'a'] },
    {
      name: 'the oldest file first, not pool order',
      onDisk: { a: T - 10, b: T - 30, c: T - 20 },
      inMemory: [['a', T], ['b', T], ['c', T]],
      limit: 16,
      want: ['b', 'c', 'a'],
    },
    {
      name: 'the limit keeps the oldest',
      onDisk: { a: T - 10, b: T - 30, c: T - 20, d: T - 40 },
      inMemory: [['a', T], ['b', T], ['c', T], ['d', T]],
      limit: 2,
      want: ['d', 'b'],
    },
    { name: 'ties keep pool order', onDisk: { a: T - 1, b: T - 1, c: T - 1 }, inMemory: [['c', T], ['a', T], ['b', T]], limit: 2, want: ['c', 'a'] },
    { name: 'a clean account does not take a slot', onDisk: { a: T - 50, b: T - 10 }, inMemory: [['a', T - 50], ['b', T]], limit: 1, want: ['b'] },
  ];
  for (const row of table) {
    test(row.name, () => {
      const ledger = new LastUsedLedger();
      for (const [id, value] of Object.entries(row.onDisk)) ledger.saved(id, value);
      const accounts = row.inMemory.map(([id, last_used]) => ({ id, last_used }));
      assert.deepEqual(ledger.due(accounts, row.limit), row.want);
    });
  }

  test('saved() moves an account out, forget() back in as never read', () => {
    const ledger = new LastUsedLedger();
    const accounts = [{ id: 'a', last_used: T }];
    ledger.saved('a', T - 60);
    assert.deepEqual(ledger.due(accounts, 16), ['a']);
    ledger.saved('a', T);
    assert.deepEqual(ledger.due(accounts, 16), []);
    ledger.forget('a');
    assert.deepEqual(ledger.due(accounts, 16), ['a']);
  });
});

describe('last_used through the pool (the flusher)', () => {
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
});
