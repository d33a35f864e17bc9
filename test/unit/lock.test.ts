/**
 * The store's lock across processes: who holds it is written in the lock, a lock whose owner is
 * provably gone (this host, dead pid) is taken at once, every other one only once it is stale.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STALE_MS, ownerGone, parseOwner, removeAbandonedLockTemps, withLock, type Here, type LockOwner } from '../../src/core/lock';
import { MemoryLogger } from '../../src/core/log';
import { holdLock } from '../helpers/lock-holder';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function lockDir(): Promise<{ target: string; lockPath: string; dir: string }> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-lock-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return { dir, target: join(dir, 'a.json'), lockPath: join(dir, '.a.json.lock') };
}

/** withLock started now, holding until the test ends; `waitEntered` says when its function ran. */
function startLock(target: string, lockPath: string, log = new MemoryLogger()) {
  let started = performance.now();
  let entered: number | undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const holding = withLock(target, lockPath, log, async () => {
    entered = performance.now() - started;
    await released;
  });
  cleanups.push(async () => {
    release();
    await holding;
  });
  return {
    /** Measures from now on. */
    restartClock: () => (started = performance.now()),
    /** Ms from the start (or restartClock) until the lock was held, or undefined if not within `withinMs`. */
    async waitEntered(withinMs = 1500): Promise<number | undefined> {
      const deadline = Date.now() + withinMs;
      while (entered === undefined && Date.now() < deadline) await sleep(10);
      return entered;
    },
  };
}

const ageBy = async (path: string, ms: number) => {
  const then = new Date(Date.now() - ms);
  await fs.utimes(path, then, then);
};

describe('ownerGone: when a busy lock is taken over at once', () => {
  const here = (alive: number[], holds: string[] = []): Here => ({
    host: 'box',
    pid: 100,
    alive: (pid) => alive.includes(pid),
    holds: (nonce) => holds.includes(nonce),
  });
  const owner = (host: string, pid: number, nonce = 'n1'): LockOwner => ({ host, pid, nonce });
  const cases: [string, LockOwner | undefined, Here, boolean][] = [
    ['this host, the pid is gone', owner('box', 200), here([]), true],
    ['this host, the pid is alive', owner('box', 200), here([200]), false],
    ['another host, its pid unknown here', owner('elsewhere', 200), here([]), false],
    ['no readable owner', undefined, here([]), false],
    ['this pid, a lock this process holds', owner('box', 100, 'mine'), here([100], ['mine']), false],
    ['this pid, a lock this process does not hold (an earlier process with the same pid)', owner('box', 100, 'old'), here([100], ['mine']), true],
  ];
  for (const [name, who, where, gone] of cases) test(name, () => assert.equal(ownerGone(who, where), gone));

  test('parseOwner reads host, pid and nonce, and nothing else', () => {
    assert.deepEqual(parseOwner('{"host":"box","pid":7,"nonce":"ab"}'), { host: 'box', pid: 7, nonce: 'ab' });
    for (const text of [undefined, '', '{', '{"host":"box","pid":"7","nonce":"ab"}', '{"host":"box","nonce":"ab"}', 'null']) {
      assert.equal(parseOwner(text), undefined, String(text));
    }
  });
});

describe('withLock across processes', () => {
  test('the lock names its owner: this host and the holding pid', { timeout: 30_000 }, async () => {
    const { target, lockPath } = await lockDir();
    const holder = await holdLock(target, lockPath);
    try {
      const owner = parseOwner(await fs.readFile(lockPath, 'utf8'));
      assert.equal(owner?.host, hostname());
      assert.equal(owner?.pid, holder.pid);
    } finally {
      await holder.release();
    }
    await assert.rejects(fs.stat(lockPath), { code: 'ENOENT' }, 'released: no lock left');
  });

  test('a lock whose holder was killed (dead pid, this host) is taken at once', { timeout: 30_000 }, async () => {
    const { target, lockPath } = await lockDir();
    const holder = await holdLock(target, lockPath);
    await holder.kill();
    await fs.stat(lockPath); // the kill left it, fresh: the mtime rule alone would wait STALE_MS

    const log = new MemoryLogger();
    const ms = await startLock(target, lockPath, log).waitEntered();
    assert.ok(ms !== undefined && ms < 1000, `taken in ${ms} ms`);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message.includes(`its owner (pid ${holder.pid} on this host) is gone`)), JSON.stringify(log.lines));
  });

  test('a lock a live process holds blocks until it is released', { timeout: 30_000 }, async () => {
    const { target, lockPath } = await lockDir();
    const holder = await holdLock(target, lockPath);
    let entered = false;
    const waiting = withLock(target, lockPath, new MemoryLogger(), async () => {
      entered = true;
    });
    await sleep(1500);
    assert.equal(entered, false, 'a live holder keeps its lock');
    await holder.release();
    await waiting;
    assert.equal(entered, true);
  });

  test('another host\'s lock, an unreadable one, and an old-style lock directory wait for the mtime rule', async () => {
    const { target, lockPath } = await lockDir();
    const kinds: [string, () => Promise<void>][] = [
      ['another host', () => fs.writeFile(lockPath, JSON.stringify({ host: `not-${hostname()}`, pid: 1, nonce: 'x' }))],
      ['unreadable owner', () => fs.writeFile(lockPath, '')],
      ['old-style directory', () => fs.mkdir(lockPath)],
    ];
    for (const [kind, make] of kinds) {
      await make();
      const waiter = startLock(target, lockPath);
      assert.equal(await waiter.waitEntered(300), undefined, `${kind}: fresh, so it waits`);
      await ageBy(lockPath, STALE_MS + 1000);
      waiter.restartClock();
      const ms = await waiter.waitEntered();
      assert.ok(ms !== undefined && ms < 1000, `${kind}: stale, taken in ${ms} ms`);
      await cleanups.pop()!();
      await assert.rejects(fs.lstat(lockPath), { code: 'ENOENT' });
    }
  });

  test('a holder whose lock was taken over notices within STALE_MS / 2, refuses to write, and leaves the new lock alone', { timeout: 30_000 }, async () => {
    const { target, lockPath } = await lockDir();
    const log = new MemoryLogger();
    const other = JSON.stringify({ host: hostname(), pid: process.ppid, nonce: 'fedcba9876543210' });
    await withLock(target, lockPath, log, async (assertHeld) => {
      assertHeld();
      // What a takeover does, as if this process had stalled past STALE_MS.
      await fs.rm(lockPath);
      await fs.writeFile(lockPath, other);
      await sleep(STALE_MS / 2 + 1000);
      assert.throws(assertHeld, { name: 'StoreLockError', message: /lost the lock on .*a\.json before writing/ });
    });
    assert.equal(await fs.readFile(lockPath, 'utf8'), other, 'the release did not remove the other\'s lock');
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.message.startsWith(`[store] lost the lock on ${target}`)));
  });

  test('temp files beside a lock made by a killed process are removed (even empty); a live one\'s and other names are kept', { timeout: 30_000 }, async () => {
    const { dir } = await lockDir();
    const holder = await holdLock(join(dir, 'b.json'), join(dir, '.b.json.lock'));
    await holder.kill();
    await fs.rm(join(dir, '.b.json.lock'));
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const nonce = '0123456789abcdef';
    const names = {
      deadEmpty: `.a.json.lock.${tag}.${holder.pid}.${nonce}.tmp`,
      live: `.a.json.lock.${tag}.${process.ppid}.${nonce}.tmp`,
      otherHost: `.a.json.lock.${tag === '00000000' ? '11111111' : '00000000'}.${holder.pid}.${nonce}.tmp`,
      accountTemp: '.a.json.0123456789ab.tmp',
      notOurs: '.a.json.lock.tmp',
    };
    for (const name of Object.values(names)) await fs.writeFile(join(dir, name), '');

    assert.equal(await removeAbandonedLockTemps(dir, await fs.readdir(dir)), 1);
    assert.deepEqual((await fs.readdir(dir)).sort(), [names.live, names.otherHost, names.accountTemp, names.notOurs].sort());
  });
});
