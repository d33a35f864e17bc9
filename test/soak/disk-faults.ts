/**
 * Disk faults: the data directory lives on a small tmpfs of its own, which is remounted read-only
 * (EROFS), and later filled up (ENOSPC), while `tokenpool serve` must save refreshed tokens. The
 * old files must stay whole, the log must name the file and the cause, and requests must keep
 * being answered from memory. Permission bits would not do (the suite may run as root, which
 * ignores them), hence mount; where mounting is not permitted the scenario says so and is skipped.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleRequest } from '../helpers/proxy-harness';
import { call, makeDataDir, serve, startFakes, type DataDir, type Fakes } from './env';
import { Figures } from './report';
import type { ServeProcess } from '../helpers/cli';

const mount = (...args: string[]): void => void execFileSync('mount', args, { stdio: 'pipe' });

async function snapshot(data: DataDir): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const a of data.accounts) files.set(a.id, await fs.readFile(join(data.accountsDir, `${a.id}.json`), 'utf8'));
  return files;
}

/** Forces every account to refresh (and so to write), then sends `n` requests. */
async function phase(f: Figures, what: string, code: RegExp, fakes: Fakes, data: DataDir, proc: ServeProcess, n: number): Promise<void> {
  const before = await snapshot(data);
  const logFrom = proc.log().length;
  const callsFrom = fakes.google.calls.length;
  fakes.google.expireAccessTokens();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const { path, body } = sampleRequest((['openai', 'anthropic', 'google'] as const)[i % 3], { prompt: `${what} ${i}` });
    const a = await call(proc.url, path, { body, apiKey: data.apiKey, timeoutMs: 30_000 });
    if (a.status !== 200) {
      failed++;
      if (failed === 1) f.note(`${what}: ${a.status || a.error} ${a.text.slice(0, 200)}`);
    }
  }
  const after = await snapshot(data);
  const changed = data.accounts.filter((a) => before.get(a.id) !== after.get(a.id)).length;
  const log = proc.log().slice(logFrom).split('\n');
  const named = data.accounts.filter((a) => log.some((line) => line.includes(`${a.id}.json`) && code.test(line))).length;
  const example = log.find((line) => code.test(line));
  f.goal(`${what}: requests not answered 200`, failed, { max: 0 });
  f.goal(`${what}: account files changed (must stay whole and as they were)`, changed, { max: 0 });
  f.goal(`${what}: accounts whose failed save the log names with file and cause`, named, { min: data.accounts.length });
  f.info(`${what}: token refreshes for ${n} requests on ${data.accounts.length} accounts`, fakes.google.calls.length - callsFrom);
  if (example) f.note(`${what}: log says: ${example.trim().slice(0, 300)}`);
}

export async function diskFaults(f: Figures): Promise<string | void> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-soak-disk-'));
  try {
    mount('-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dir);
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`;
  }
  const fakes = await startFakes();
  let proc: ServeProcess | undefined;
  try {
    const data = await makeDataDir(fakes, 2, { dir, prefix: 'disk' });
    proc = await serve(data);
    const warm = await call(proc.url, sampleRequest('openai').path, { body: sampleRequest('openai').body, apiKey: data.apiKey });
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);

    mount('-o', 'remount,ro', dir);
    try {
      await phase(f, 'read-only', /EROFS|read-only/i, fakes, data, proc, 20);
    } finally {
      mount('-o', 'remount,rw', dir);
    }

    const filler = await fs.open(join(dir, 'filler'), 'w');
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (;;) await filler.write(chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      await filler.close();
    }
    await phase(f, 'disk full', /ENOSPC|no space/i, fakes, data, proc, 20);

    // Room again: the next refresh is saved.
    await fs.rm(join(dir, 'filler'));
    const before = await snapshot(data);
    fakes.google.expireAccessTokens();
    for (let i = 0; i < 4; i++) await call(proc.url, sampleRequest('openai').path, { body: sampleRequest('openai').body, apiKey: data.apiKey });
    const after = await snapshot(data);
    f.goal('after the disk recovers: accounts whose refreshed token was saved', data.accounts.filter((a) => before.get(a.id) !== after.get(a.id)).length, { min: data.accounts.length });
    f.goal('crashes', proc.child.exitCode === null && proc.child.signalCode === null ? 0 : 1, { max: 0 });
  } finally {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop();
    await fakes.close();
    try {
      mount('-o', 'remount,rw', dir);
    } catch {
      // already writable
    }
    execFileSync('umount', [dir]);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
