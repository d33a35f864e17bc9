/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old file or the new one, never half of
 * one; if any step fails the old file is left as it was and the temporary file is removed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Temporary files are named `.<target>.<random>.tmp`, so a directory scan can skip them. */
export const isTempFile = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp');

/** writeFileAtomic's own temp names, exactly: `.<target>.<12 hex>.tmp`. */
const OWN_TEMP = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/** The name of the file a temp file of writeFileAtomic was for, or undefined if it is not one of ours. */
export const tempFileTarget = (name: string): string | undefined => OWN_TEMP.exec(name)?.[1];

export async function writeFileAtomic(target: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw namingTarget(err, target);
  }
  await fsyncDir(dir);
}

/**
 * A write error names the file it was for (FileHandle.writeFile's ENOSPC says only `ENOSPC: ...,
 * write`); the error itself, with its errno code, is kept.
 */
function namingTarget(err: unknown, target: string): unknown {
  if (err instanceof Error && !err.message.includes(target)) err.message = `cannot write ${target}: ${err.message}`;
  return err;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
