/**
 * `<data dir>/serve.json`: which process keeps this data directory's usage files, and where it
 * listens (DESIGN section 11: only the serving process writes them; other processes read through
 * its admin API). `tokenpool serve` claims the directory before it loads the files, names its
 * address once it listens, and gives the claim up when it stops. A second serve on the same
 * directory finds a live claim and counts in memory only; `tokenpool usage` asks the address the
 * claim names, whatever `--port` that serve was started with. A claim is trusted only while its
 * process runs. It holds no key and no token.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fsutil';
import { baseUrl } from './localUrl';

export interface ServeClaim {
  pid: number;
  /** The bind address, once the process listens (null before). */
  host: string | null;
  port: number | null;
  version: string;
  /** ISO 8601. */
  started: string;
}

export const serveClaimPath = (dataDir: string): string => join(dataDir, 'serve.json');

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What a process that wants to serve does with the claim it found (`undefined`: none, or one that
 * does not parse): take the directory, replace a claim whose process is gone, or leave the files to
 * the live process that holds them. Pure.
 */
export function claimDecision(found: ServeClaim | undefined, foundRuns: boolean, myPid: number): 'take' | 'replace' | 'leave' {
  if (!found) return 'take';
  if (found.pid === myPid || !foundRuns) return 'replace';
  return 'leave';
}

/** The claim in `dataDir`, whoever made it; undefined when there is none or it is not a claim. */
async function readClaim(dataDir: string): Promise<ServeClaim | undefined> {
  let text: string;
  try {
    text = await fs.readFile(serveClaimPath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<ServeClaim>;
    const ok =
      Number.isInteger(v.pid) && (v.pid as number) > 0 &&
      (v.host === null || typeof v.host === 'string') &&
      (v.port === null || (Number.isInteger(v.port) && (v.port as number) > 0 && (v.port as number) < 65536));
    return ok ? (v as ServeClaim) : undefined;
  } catch {
    return undefined;
  }
}

/** The claim of a running process that listens, for a reader that wants its address; undefined otherwise. */
export async function liveServe(dataDir: string): Promise<(ServeClaim & { host: string; port: number }) | undefined> {
  const claim = await readClaim(dataDir);
  if (!claim || claim.host === null || claim.port === null || !isRunning(claim.pid)) return undefined;
  return claim as ServeClaim & { host: string; port: number };
}

/**
 * Claims `dataDir` for this process: `{ours: true}` when it keeps the usage files now, or the live
 * claim of the process that does. Creating the file is exclusive, so of two serves starting at once
 * one claims; a claim whose process is gone is replaced. A directory where the file cannot be
 * written (read-only, full) is this process's too: nobody can claim it, and the usage files say
 * for themselves that they cannot be written.
 */
export async function claimDataDir(dataDir: string, claim: ServeClaim): Promise<{ ours: true } | { ours: false; holder: ServeClaim }> {
  const text = JSON.stringify(claim) + '\n';
  try {
    await fs.writeFile(serveClaimPath(dataDir), text, { flag: 'wx', mode: 0o600 });
    return { ours: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { ours: true };
  }
  const found = await readClaim(dataDir);
  const decision = claimDecision(found, found ? isRunning(found.pid) : false, claim.pid);
  if (decision === 'leave') return { ours: false, holder: found! };
  await writeFileAtomic(serveClaimPath(dataDir), text).catch(() => undefined);
  return { ours: true };
}

/** This process listens now: its claim names the address (where the file can be written). */
export async function announce(dataDir: string, claim: ServeClaim): Promise<void> {
  await writeFileAtomic(serveClaimPath(dataDir), JSON.stringify(claim) + '\n').catch(() => undefined);
}

/** Gives the claim up, if it is still this process's. */
export async function releaseClaim(dataDir: string, pid: number): Promise<void> {
  const found = await readClaim(dataDir);
  if (found?.pid === pid) await fs.rm(serveClaimPath(dataDir), { force: true }).catch(() => undefined);
}

/** What a serving process that is not the claim's holder says, once: who keeps the files, and what to do. */
export function notHolderMessage(holder: ServeClaim, dataDir: string, self: 'serve' | 'window'): string {
  const at = holder.host !== null && holder.port !== null ? ` at ${baseUrl(holder.host, holder.port)}` : '';
  return `[usage] another tokenpool serve (pid ${holder.pid}${at}) keeps the usage files of ${dataDir}: this ${self} counts in memory only ` +
    `(its requests are not written there; stop the other one, or give this one its own data directory, to keep them)`;
}

