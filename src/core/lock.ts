/**
 * A lock that holds within this process and across processes (several VS Code windows and the CLI
 * share one data directory). In-process callers queue on a promise chain; between processes
 * proper-lockfile's atomic `mkdir` of a lock directory decides, kept fresh while held and taken
 * over once stale, so a crashed holder blocks others for about `STALE_MS`, not forever.
 */
import * as lockfile from 'proper-lockfile';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreLockError } from './errors';
import type { Logger } from './log';

/** A lock directory not refreshed for this long belongs to a dead process and is taken over. */
export const STALE_MS = 10_000;
/** How long to wait for a busy lock: past STALE_MS (plus the 1 s lockfile's mtime probe may add). */
const WAIT_MS = 20_000;

/** Between attempts on a busy lock: 5 ms growing to 100 ms, jittered so waiters do not move in step. */
const backoffMs = (attempt: number): number => Math.min(100, 5 * 1.5 ** attempt) * (1 + Math.random());

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

async function acquire(target: string, lockPath: string, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(target, { lockfilePath: lockPath, realpath: false, stale: STALE_MS, onCompromised });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') throw new StoreLockError(`cannot lock ${target}: ${code ?? (err as Error).message}`, { cause: err });
      if (Date.now() >= deadline) {
        throw new StoreLockError(`${target} stayed locked for ${WAIT_MS / 1000} s by another process (lock: ${lockPath})`);
      }
      await sleep(backoffMs(attempt));
    }
  }
}

/**
 * Runs `fn` holding the lock on `target` if the lock is free now (a stale one counts as free);
 * undefined, without waiting and without running `fn`, while a live holder in this process or
 * another has it.
 */
export async function tryWithLock<T>(target: string, lockPath: string, log: Logger, fn: () => Promise<T>): Promise<T | undefined> {
  if (queues.has(lockPath)) return undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, { lockfilePath: lockPath, realpath: false, stale: STALE_MS, onCompromised: () => {} });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw new StoreLockError(`cannot lock ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return await fn();
  } finally {
    await release().catch((err: Error) => log.warn(`[store] could not release the lock on ${target}: ${err.message}`));
  }
}

/**
 * Runs `fn` holding the lock on `target` (lock directory at `lockPath`). `fn` calls `assertHeld()`
 * just before it writes: if the lock was lost meanwhile (this process stalled past STALE_MS and
 * another took over) that throws StoreLockError instead of overwriting the other's change.
 */
export function withLock<T>(
  target: string,
  lockPath: string,
  log: Logger,
  fn: (assertHeld: () => void) => Promise<T>,
): Promise<T> {
  return serialize(lockPath, async () => {
    let lost: Error | undefined;
    const release = await acquire(target, lockPath, (err) => {
      lost = err;
      log.warn(`[store] lost the lock on ${target}: ${err.message}`);
    });
    const assertHeld = (): void => {
      if (lost) throw new StoreLockError(`lost the lock on ${target} before writing: ${lost.message}`, { cause: lost });
    };
    try {
      return await fn(assertHeld);
    } finally {
      if (!lost) await release().catch((err: Error) => log.warn(`[store] could not release the lock on ${target}: ${err.message}`));
    }
  });
}
