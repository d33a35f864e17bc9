/**
 * What every soak scenario stands on: FakeGoogle and FakeUpstream in this process, a data
 * directory written as a user's would be (config.json + accounts/<uuid>.json), the real
 * `tokenpool serve` (dist/cli.js, at -v) as a child, and a transcript of everything the product
 * said (logs, response headers and bodies, CLI output) for the secrets scan.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { newAccount, parseAccount, serializeAccount, type Account } from '../../src/core/account';
import { defaultConfig, type Config } from '../../src/core/config';
import { isTempFile } from '../../src/core/fsutil';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream } from '../fakes/upstream';
import { runCli, startServe, type CliResult, type ServeProcess } from '../helpers/cli';

/** Everything the product printed or answered during the run; scanned for secrets at the end. */
export class Transcript {
  readonly texts: string[] = [];
  readonly apiKeys = new Set<string>();
  add(text: string): void {
    if (text) this.texts.push(text);
  }
}

export const transcript = new Transcript();

/** Every FakeGoogle of the run, so the secrets scan knows every token issued. */
export const googles: FakeGoogle[] = [];

/** No environment proxy between the product and the fakes on loopback. */
const childEnv = (dataDir: string): NodeJS.ProcessEnv => ({
  TOKENPOOL_DATA_DIR: dataDir,
  HTTPS_PROXY: '',
  HTTP_PROXY: '',
  https_proxy: '',
  http_proxy: '',
  NO_PROXY: '127.0.0.1,localhost',
});

export interface Fakes {
  google: FakeGoogle;
  upstream: FakeUpstream;
  close(): Promise<void>;
}

export async function startFakes(opts: { accessTokenTtlS?: number; pace?: { chunks: number; intervalMs: number } } = {}): Promise<Fakes> {
  const google = await FakeGoogle.start({ accessTokenTtlS: opts.accessTokenTtlS });
  googles.push(google);
  const upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t), pace: opts.pace });
  return {
    google,
    upstream,
    async close() {
      await upstream.close();
      await google.close();
    },
  };
}

export interface SoakAccount {
  id: string;
  email: string;
  refreshToken: string;
}

export interface DataDir {
  dir: string;
  accountsDir: string;
  config: Config;
  apiKey: string;
  accounts: SoakAccount[];
}

/**
 * A data directory with `count` accounts `<prefix>N@soak.example` whose refresh tokens FakeGoogle
 * issued. Their access tokens are expired (`token: 'expired'`, the default: the first use
 * refreshes) or unknown to Google but unexpired on disk (`'unknown'`: the first use gets a 401).
 */
export async function makeDataDir(
  fakes: Fakes,
  count: number,
  opts: { dir?: string; prefix?: string; token?: 'expired' | 'unknown'; configure?: (c: Config) => void } = {},
): Promise<DataDir> {
  const dir = opts.dir ?? (await fs.mkdtemp(join(tmpdir(), 'tokenpool-soak-')));
  const accountsDir = join(dir, 'accounts');
  await fs.mkdir(accountsDir, { recursive: true, mode: 0o700 });
  const config = defaultConfig();
  config.proxy.api_key = `tp-${randomBytes(16).toString('hex')}`;
  config.oauth = fakes.google.oauthConfig();
  config.upstream.base_url = fakes.upstream.url;
  config.upstream.project_id = 'soak-project';
  config.routing.max_wait_s = 0;
  opts.configure?.(config);
  transcript.apiKeys.add(config.proxy.api_key);
  await fs.writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  const now = Math.floor(Date.now() / 1000);
  const accounts: SoakAccount[] = [];
  for (let i = 0; i < count; i++) {
    const { email, refreshToken } = fakes.google.addUser(`${opts.prefix ?? 'soak'}${i}@soak.example`);
    const unknown = opts.token === 'unknown';
    const account = newAccount({
      id: randomUUID(),
      email,
      token: {
        access_token: unknown ? `ya29.unknown-${randomBytes(24).toString('base64url')}` : '',
        refresh_token: refreshToken,
        expiry_timestamp: unknown ? now + 3600 : 0,
        token_type: 'Bearer',
      },
      now: now - count + i,
    });
    await fs.writeFile(join(accountsDir, `${account.id}.json`), serializeAccount(account), { mode: 0o600 });
    accounts.push({ id: account.id, email, refreshToken });
  }
  return { dir, accountsDir, config, apiKey: config.proxy.api_key, accounts };
}

/** `tokenpool serve -v` on the data directory; its log joins the transcript when it stops or dies. */
export async function serve(data: DataDir, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const proc = await startServe(['--data-dir', data.dir, '-v'], { ...childEnv(data.dir), ...env });
  proc.child.once('exit', () => transcript.add(proc.log()));
  return proc;
}

/** A `tokenpool` subcommand on the data directory; its output joins the transcript. */
export async function cli(data: DataDir, args: string[]): Promise<CliResult> {
  const result = await runCli([...args, '--data-dir', data.dir], childEnv(data.dir));
  transcript.add(result.stdout);
  transcript.add(result.stderr);
  return result;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
  /** The body stopped with an error after the headers came (a cut stream). */
  cut?: boolean;
  /** No answer at all: the connection failed or closed before the headers. */
  error?: string;
}

export const loadAgent: Dispatcher = new Agent({ connections: 1024, pipelining: 1, keepAliveTimeout: 10_000, headersTimeout: 60_000, bodyTimeout: 60_000 });

/** One request to the proxy (the data directory's API key unless `key` says otherwise), answer recorded. */
export async function call(
  url: string,
  path: string,
  init: { body?: unknown; method?: string; key?: string | null; apiKey: string; headers?: Record<string, string>; timeoutMs?: number },
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? init.apiKey : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const started = performance.now();
  const signal = init.timeoutMs ? AbortSignal.timeout(init.timeoutMs) : undefined;
  let status = 0;
  let responseHeaders: Answer['headers'] = {};
  try {
    const response = await request(url + path, {
      method: (init.method ?? (body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod,
      headers,
      body,
      dispatcher: loadAgent,
      signal,
    });
    status = response.statusCode;
    responseHeaders = response.headers;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
    } catch (err) {
      const partial = Buffer.concat(chunks).toString('utf8');
      transcript.add(JSON.stringify(responseHeaders) + '\n' + partial);
      return { status, headers: responseHeaders, text: partial, ms: performance.now() - started, cut: true, error: (err as Error).message };
    }
    const text = Buffer.concat(chunks).toString('utf8');
    transcript.add(JSON.stringify(responseHeaders) + '\n' + text);
    return { status, headers: responseHeaders, text, ms: performance.now() - started };
  } catch (err) {
    return { status, headers: responseHeaders, text: '', ms: performance.now() - started, error: (err as Error).message };
  }
}

/** The account files as a reader sees them: parsed and validated, the bad ones named, temp files listed. */
export async function readAccountsDir(accountsDir: string): Promise<{ accounts: Account[]; invalid: string[]; temps: string[]; locks: string[] }> {
  const accounts: Account[] = [];
  const invalid: string[] = [];
  const temps: string[] = [];
  const locks: string[] = [];
  for (const name of await fs.readdir(accountsDir)) {
    if (isTempFile(name)) temps.push(name);
    else if (name.endsWith('.lock')) locks.push(name);
    else if (name.endsWith('.json') && !name.startsWith('.')) {
      try {
        accounts.push(parseAccount(await fs.readFile(join(accountsDir, name), 'utf8'), name));
      } catch (err) {
        invalid.push(`${name}: ${(err as Error).message}`);
      }
    }
  }
  return { accounts, invalid, temps, locks };
}

const GC_PRELOAD = resolve(__dirname, 'gc-on-signal.mjs');

/** Environment for a serve whose memory is measured after a full GC (see gc-on-signal.ts). */
export const gcEnv = (memoryFile: string): NodeJS.ProcessEnv => ({
  NODE_OPTIONS: `--expose-gc --import ${GC_PRELOAD}`,
  TOKENPOOL_SOAK_MEMORY_FILE: memoryFile,
});

/** Resident memory and heap in MB after a full GC in a serve started with gcEnv. */
export async function memoryAfterGc(pid: number, memoryFile: string): Promise<{ rss: number; heapUsed: number; heapTotal: number; external: number }> {
  await fs.rm(memoryFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    await sleep(25);
    try {
      const usage = JSON.parse(await fs.readFile(memoryFile, 'utf8')) as NodeJS.MemoryUsage;
      const mb = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
      return { rss: mb(usage.rss), heapUsed: mb(usage.heapUsed), heapTotal: mb(usage.heapTotal), external: mb(usage.external) };
    } catch {
      // not written yet
    }
  }
  throw new Error('serve did not report its memory within 5 s');
}

/** Resident memory of a process in MB, from /proc. */
export async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN) / 1024;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work(i)` for i in [0, n) with at most `concurrency` at a time. */
export async function pooled(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}
