/**
 * A lock that holds within this process and across processes (several VS Code windows and the CLI
 * share one data directory). In-process callers queue on a promise chain. Between processes the
 * lock is a file at `lockPath` that names its owner (host, pid, a random nonce). It appears in one
 * step with the owner in it: the record is written to a temp file, then hard-linked to `lockPath`,
 * which fails while a lock exists there (a file, or the directory earlier versions made with
 * mkdir). A held lock's mtime is kept fresh.
 *
 * A busy lock whose owner is provably gone (this host, a pid that no longer exists) is taken over
 * at once, so a restart after a crash does not wait for its own dead locks. Any other lock (another
 * host, a live or reused pid, an owner that cannot be read) is taken over only once it is stale:
 * not refreshed for STALE_MS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreLockError } from './errors';
import type { Logger } from './log';

/** A lock not refreshed for this long belongs to a dead or stalled process and is taken over. */
export const STALE_MS = 10_000;
/** How often a held lock's mtime is refreshed. */
const REFRESH_MS = STALE_MS / 2;
/** How long to wait for a busy lock: past STALE_MS, with room to spare. */
const WAIT_MS = 20_000;

/** Between attempts on a busy lock: 5 ms growing to 100 ms, jittered so waiters do not move in step. */
const backoffMs = (attempt: number): number => Math.min(100, 5 * 1.5 ** attempt) * (1 + Math.random());

/** What a lock file says about who holds it. */
export interface LockOwner {
  host: string;
  pid: number;
  nonce: string;
}

/** What the owner rule needs to know about this process and its host. */
export interface Here {
  host: string;
  pid: number;
  /** Whether a process with this pid exists on this host. */
  alive(pid: number): boolean;
  /** Whether this process holds the lock with this nonce now. */
  holds(nonce: string): boolean;
}

/**
 * Whether the owner of a lock is provably gone: it ran on this host, and its pid no longer exists,
 * or it is this process's pid (a restarted container often gets the same one) but not a lock this
 * process holds. An unknown owner or another host proves nothing.
 */
export function ownerGone(owner: LockOwner | undefined, here: Here): boolean {
  if (owner === undefined || owner.host !== here.host) return false;
  if (owner.pid === here.pid) return !here.holds(owner.nonce);
  return !here.alive(owner.pid);
}

/** The owner a lock file or owner temp file names; undefined if it does not parse. */
export function parseOwner(text: string | undefined): LockOwner | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    const ok = typeof value.host === 'string' && Number.isInteger(value.pid) && typeof value.nonce === 'string';
    return ok ? (value as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** process.kill(pid, 0) throws ESRCH when there is no such process (EPERM: there is, another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Nonces of the locks this process holds now. */
const heldHere = new Set<string>();
const HERE: Here = { host: hostname(), pid: process.pid, alive: pidAlive, holds: (nonce) => heldHere.has(nonce) };

const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
const isCode = (err: unknown, ...codes: string[]): boolean => codes.includes((err as NodeJS.ErrnoException).code ?? '');

const newNonce = (): string => randomBytes(8).toString('hex');

/** This host in a file name: 8 hex of the hostname's hash. */
const HOST_TAG = createHash('sha256').update(HERE.host).digest('hex').slice(0, 8);

/**
 * A temp file beside the lock: an owner record about to become the lock, or a lock moved aside to
 * be removed. Its name says who made it (`<lockPath>.<host tag>.<pid>.<nonce>.tmp`) from the moment
 * it exists, so one left by a killed process is known as such even if it is empty.
 */
const tempBeside = (lockPath: string, nonce: string): string => `${lockPath}.${HOST_TAG}.${HERE.pid}.${nonce}.tmp`;
const LOCK_TEMP = /^\..+\.lock\.([0-9a-f]{8})\.(\d+)\.([0-9a-f]{16})\.tmp$/;

/** Who made a temp file beside a lock, by its name; undefined if the name is not one of ours. */
function makerOf(name: string): LockOwner | undefined {
  const m = LOCK_TEMP.exec(name);
  if (!m) return undefined;
  return { host: m[1] === HOST_TAG ? HERE.host : `host tag ${m[1]}`, pid: Number(m[2]), nonce: m[3] };
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  return parseOwner(await fs.readFile(file, 'utf8').catch(() => undefined));
}

/**
 * Creates the lock file with this process as its owner; undefined if a lock exists. The nonce
 * counts as held from the start, so this process's own owner temp file never looks abandoned.
 */
async function create(target: string, lockPath: string): Promise<LockOwner | undefined> {
  const owner: LockOwner = { host: HERE.host, pid: HERE.pid, nonce: newNonce() };
  const temp = tempBeside(lockPath, owner.nonce);
  heldHere.add(owner.nonce);
  let created = false;
  try {
    await fs.writeFile(temp, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
    try {
      await fs.link(temp, lockPath);
    } catch (err) {
      // Without hard links (some network and FAT file systems) an exclusive copy does: not in one
      // step, so a crash in between leaves an owner that cannot be read, which goes by the mtime rule.
      if (!isCode(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS')) throw err;
      await fs.copyFile(temp, lockPath, constants.COPYFILE_EXCL);
    }
    created = true;
    return owner;
  } catch (err) {
    if (isCode(err, 'EEXIST')) return undefined;
    throw new StoreLockError(`cannot lock ${target}: ${codeOf(err)}`, { cause: err });
  } finally {
    await fs.rm(temp, { force: true });
    if (!created) heldHere.delete(owner.nonce);
  }
}

/**
 * Removes, among `names` in `dir`, the temp files beside locks (owner records, locks moved aside)
 * that a process killed meanwhile left: those whose maker is gone by the owner rule. Returns how
 * many were removed.
 */
export async function removeAbandonedLockTemps(dir: string, names: readonly string[]): Promise<number> {
  let removed = 0;
  for (const name of names) {
    const maker = makerOf(name);
    if (!maker || !ownerGone(maker, HERE)) continue;
    await fs.rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * Removes the lock at `lockPath` if its owner is gone or it is stale; true when the caller should
 * try to create it again at once (removed, or already gone). Only the lock that was judged is
 * removed: it is moved aside first and checked, since another process may have replaced it.
 */
async function clearIfAbandoned(target: string, lockPath: string, log: Logger): Promise<boolean> {
  let judged;
  try {
    judged = await fs.lstat(lockPath);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return true;
    throw new StoreLockError(`cannot lock ${target}: ${codeOf(err)}`, { cause: err });
  }
  const owner = judged.isFile() ? await readOwner(lockPath) : undefined;
  const gone = ownerGone(owner, HERE);
  if (!gone && judged.mtimeMs >= Date.now() - STALE_MS) return false;

  const nonce = newNonce();
  const aside = tempBeside(lockPath, nonce);
  heldHere.add(nonce);
  try {
    try {
      await fs.rename(lockPath, aside);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return true;
      throw new StoreLockError(`cannot take over the lock on ${target}: ${codeOf(err)}`, { cause: err });
    }
    const moved = await fs.lstat(aside);
    if (moved.ino !== judged.ino || moved.mtimeMs !== judged.mtimeMs) {
      // Replaced or refreshed since it was judged: put it back unless a new lock took its place.
      await (moved.isFile() ? fs.link(aside, lockPath) : fs.rename(aside, lockPath)).catch(() => undefined);
      await fs.rm(aside, { recursive: true, force: true });
      return true;
    }
    await fs.rm(aside, { recursive: true, force: true });
  } finally {
    heldHere.delete(nonce);
  }
  log.info(
    gone
      ? `[store] took over the lock on ${target} at once: its owner (pid ${owner!.pid} on this host) is gone`
      : `[store] took over the lock on ${target}: not refreshed for ${STALE_MS / 1000} s`,
  );
  return true;
}

interface Held {
  /** Why the lock was lost while held, if it was. */
  lost(): Error | undefined;
  release(): Promise<void>;
}

/** Keeps the lock fresh until released; notices when another process took it over. */
function hold(lockPath: string, owner: LockOwner, onLost: (err: Error) => void): Held {
  let lost: Error | undefined;
  let refreshing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = refreshing.then(async () => {
      if (lost) return;
      if ((await readOwner(lockPath))?.nonce !== owner.nonce) {
        lost = new Error(`the lock file ${lockPath} was removed or taken over`);
        onLost(lost);
        return;
      }
      const now = new Date();
      await fs.utimes(lockPath, now, now).catch(() => undefined);
    });
  }, REFRESH_MS);
  timer.unref();
  return {
    lost: () => lost,
    release: async () => {
      clearInterval(timer);
      await refreshing;
      heldHere.delete(owner.nonce);
      if (lost) return;
      // Only our own lock: after a takeover the file at lockPath is another's.
      if ((await readOwner(lockPath))?.nonce === owner.nonce) await fs.rm(lockPath, { force: true });
    },
  };
}

/** One try: the lock if it is free, or abandoned and cleared; undefined while a live holder has it. */
async function tryAcquire(target: string, lockPath: string, log: Logger, onLost: (err: Error) => void): Promise<Held | undefined> {
  for (let round = 0; round < 3; round++) {
    const owner = await create(target, lockPath);
    if (owner) return hold(lockPath, owner, onLost);
    if (!(await clearIfAbandoned(target, lockPath, log))) return undefined;
  }
  return undefined;
}

async function acquire(target: string, lockPath: string, log: Logger, onLost: (err: Error) => void): Promise<Held> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const held = await tryAcquire(target, lockPath, log, onLost);
    if (held) return held;
    if (Date.now() >= deadline) {
      throw new StoreLockError(`${target} stayed locked for ${WAIT_MS / 1000} s by another process (lock: ${lockPath})`);
    }
    await sleep(backoffMs(attempt));
  }
}

const queues = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier `fn` queued on `key` in this process has settled. */
async function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
  queues.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    done();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** Runs `fn` holding `held`, then releases it (a failed release is logged, not thrown). */
async function runHolding<T>(target: string, held: Held, log: Logger, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
  const assertHeld = (): void => {
    const lost = held.lost();
    if (lost) throw new StoreLockError(`lost the lock on ${target} before writing: ${lost.message}`, { cause: lost });
  };
  try {
    return await fn(assertHeld);
  } finally {
    await held.release().catch((err: Error) => log.warn(`[store] could not release the lock on ${target}: ${err.message}`));
  }
}

const warnLost = (target: string, log: Logger) => (err: Error) => log.warn(`[store] lost the lock on ${target}: ${err.message}`);

/**
 * Runs `fn` holding the lock on `target` if the lock is free now (an abandoned one counts as free);
 * undefined, without waiting and without running `fn`, while a live holder in this process or
 * another has it.
 */
export async function tryWithLock<T>(target: string, lockPath: string, log: Logger, fn: () => Promise<T>): Promise<T | undefined> {
  if (queues.has(lockPath)) return undefined;
  const held = await tryAcquire(target, lockPath, log, warnLost(target, log));
  return held ? runHolding(target, held, log, fn) : undefined;
}

/**
 * Runs `fn` holding the lock on `target` (lock file at `lockPath`). `fn` calls `assertHeld()`
 * just before it writes: if the lock was lost meanwhile (this process stalled past STALE_MS and
 * another took over) that throws StoreLockError instead of overwriting the other's change.
 */
export function withLock<T>(
  target: string,
  lockPath: string,
  log: Logger,
  fn: (assertHeld: () => void) => Promise<T>,
): Promise<T> {
  return serialize(lockPath, async () => runHolding(target, await acquire(target, lockPath, log, warnLost(target, log)), log, fn));
}
