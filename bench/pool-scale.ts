/**
 * Pool-scale micro figures, in-process against src/core directly. Run in its own process so memory
 * is measured alone:
 *   node --expose-gc --import tsx bench/pool-scale.ts --data-dir D [--rounds 3] [--chooses 100000]
 * D must hold accounts/ (see datadir.ts). Prints one JSON line:
 *   { accounts, loadMs: [per round], heapMb, rssMb, chooseUs, applyMs: [...], applyCpuMs: [...] }
 *   loadMs      AccountStore + TokenPool.load() of every file (fresh objects each round)
 *   heapMb/rssMb  growth of the heap (after GC) and resident memory from before to after one load
 *   chooseUs    one TokenPool.acquire() (valid tokens: no refresh), averaged over `chooses` calls
 *   applyMs     one account file changed by hand (proxy_disabled toggled, written atomically as
 *               another process would) until the pool reports it; includes the watch debounce
 *   applyCpuMs  CPU this process spent meanwhile: re-reading one file, or rescanning all of them
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseAccount, serializeAccount, withProxyDisabled } from '../src/core/account';
import { defaultConfig } from '../src/core/config';
import { writeFileAtomic } from '../src/core/fsutil';
import { nullLogger } from '../src/core/log';
import { GoogleOAuth } from '../src/core/oauth';
import { TokenPool } from '../src/core/pool';
import { AccountStore } from '../src/core/store';
import { BENCH_MODEL } from './datadir';

const arg = (name: string, fallback?: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const dataDir = arg('--data-dir');
if (!dataDir) throw new Error('--data-dir is required');
const rounds = Number(arg('--rounds', '3'));
const chooses = Number(arg('--chooses', '100000'));
const applies = Number(arg('--applies', '5'));

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
};
const config = defaultConfig();
config.oauth.token_url = 'http://127.0.0.1:9/token'; // discard port: a refresh would fail loudly
const oauth = new GoogleOAuth(config.oauth);

async function loadPool(): Promise<{ store: AccountStore; pool: TokenPool; ms: number }> {
  const started = performance.now();
  const store = new AccountStore(dataDir!, nullLogger);
  await store.init();
  const pool = new TokenPool({ store, oauth, log: nullLogger, routing: config.routing });
  await pool.load();
  return { store, pool, ms: performance.now() - started };
}

async function chooseUs(pool: TokenPool): Promise<number> {
  for (let i = 0; i < Math.min(chooses, 10_000); i++) await pool.acquire(BENCH_MODEL);
  const started = performance.now();
  for (let i = 0; i < chooses; i++) {
    if (!(await pool.acquire(BENCH_MODEL))) throw new Error('acquire found no eligible account');
  }
  return ((performance.now() - started) * 1000) / chooses;
}

/** Toggles proxy_disabled on one file by hand and waits for the pool to show it. */
async function applyOnce(pool: TokenPool, file: string, disable: boolean): Promise<{ ms: number; cpuMs: number }> {
  const expected = pool.counts().proxy_disabled + (disable ? 1 : -1);
  const current = parseAccount(await fs.readFile(file, 'utf8'), file);
  const next = withProxyDisabled(current, disable ? { reason: 'manual', now: Math.floor(Date.now() / 1000) } : null);
  const seen = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pool did not apply ${file} within 5 s`)), 5000);
    const sub = pool.onDidChange(() => {
      if (pool.counts().proxy_disabled !== expected) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await writeFileAtomic(file, serializeAccount(next), 0o600);
  await seen;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  gc();
  const before = process.memoryUsage();
  const first = await loadPool();
  gc();
  const after = process.memoryUsage();
  const loadMs = [first.ms];
  for (let r = 1; r < rounds; r++) {
    const again = await loadPool();
    loadMs.push(again.ms);
    again.pool.dispose();
    again.store.dispose();
  }
  const accounts = first.pool.counts().total;
  const choose = await chooseUs(first.pool);

  const watching = first.pool.startWatching();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const names = (await fs.readdir(join(dataDir!, 'accounts'))).filter((n) => n.endsWith('.json')).sort();
  const file = join(dataDir!, 'accounts', names[Math.floor(names.length / 2)]);
  const applyMs: number[] = [];
  const applyCpuMs: number[] = [];
  for (let i = 0; i < applies * 2; i++) {
    const { ms, cpuMs } = await applyOnce(first.pool, file, i % 2 === 0);
    applyMs.push(ms);
    applyCpuMs.push(cpuMs);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  watching.dispose();
  first.pool.dispose();
  first.store.dispose();
  console.log(JSON.stringify({
    accounts,
    loadMs,
    heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    rssMb: (after.rss - before.rss) / 2 ** 20,
    chooseUs: choose,
    applyMs,
    applyCpuMs,
  }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
