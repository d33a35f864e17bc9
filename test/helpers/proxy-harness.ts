/**
 * The whole proxy in-process against fakes: FakeGoogle (OAuth) + FakeUpstream (Vertex AI / Gemini
 * API) + a temp data directory with N accounts + AccountStore + GoogleOAuth + TokenPool +
 * ProxyServer on 127.0.0.1 port 0. For the proxy's own tests and reusable by others.
 *
 *   const h = await startProxyHarness({ accounts: 3 });
 *   const r = await h.request('/v1/chat/completions', { body: { model: 'gemini-2.5-flash', messages } });
 *   await h.close();
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { newAccount } from '../../src/core/account';
import { defaultConfig, type Config } from '../../src/core/config';
import { MemoryLogger } from '../../src/core/log';
import { GoogleOAuth } from '../../src/core/oauth';
import { TokenPool } from '../../src/core/pool';
import { AccountStore } from '../../src/core/store';
import { UsageLedger } from '../../src/core/usage/ledger';
import { UsageFiles } from '../../src/core/usage/usageFiles';
import { ProxyServer } from '../../src/proxy/server';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream } from '../fakes/upstream';

export interface HarnessAccountSpec {
  email?: string;
  projectId?: string | null;
  location?: string | null;
}

export interface HarnessOptions {
  /** How many accounts (emails user1@example.com …), or one spec per account. Default 2. */
  accounts?: number | HarnessAccountSpec[];
  /** Changes to the config before anything starts (upstream kind, routing, auth mode …). */
  configure?: (config: Config) => void;
  /** Streamed answers' pace at the fake upstream. */
  pace?: { chunks: number; intervalMs: number };
  /** Let close() wait this long for in-flight requests (default 2000 ms). */
  drainTimeoutMs?: number;
  /** Usage files under the data directory, as `tokenpool serve` keeps them (flushed every `flushMs`, and at close). */
  usageFiles?: { flushMs?: number; historyDays?: number; maxDayBytes?: number };
}

export interface HarnessAccount {
  id: string;
  email: string;
  refreshToken: string;
}

export interface HarnessResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  json: unknown;
}

export interface HarnessRequest {
  method?: string;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The API key sent as `Authorization: Bearer` (default: the configured key; null: none). */
  key?: string | null;
}

export interface ProxyHarness {
  google: FakeGoogle;
  upstream: FakeUpstream;
  dataDir: string;
  config: Config;
  log: MemoryLogger;
  store: AccountStore;
  oauth: GoogleOAuth;
  pool: TokenPool;
  server: ProxyServer;
  /** What the server records. */
  usage: UsageLedger;
  /** Its files, with the `usageFiles` option. */
  files?: UsageFiles;
  /** http://127.0.0.1:PORT */
  url: string;
  apiKey: string;
  accounts: HarnessAccount[];
  /** A request to the proxy, buffered whole. */
  request(path: string, init?: HarnessRequest): Promise<HarnessResponse>;
  /** Every account email, refresh token and access token known so far (files and what upstream saw): nothing a client may see. */
  secrets(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startProxyHarness(options: HarnessOptions = {}): Promise<ProxyHarness> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step();
  };
  try {
    const google = await FakeGoogle.start();
    cleanups.push(() => google.close());
    const upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t), pace: options.pace });
    cleanups.push(() => upstream.close());
    const dataDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-proxy-'));
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));

    const config = defaultConfig();
    config.proxy.api_key = `tp-${randomBytes(16).toString('hex')}`;
    config.proxy.port = 0;
    config.oauth = google.oauthConfig();
    config.upstream.base_url = upstream.url;
    config.upstream.project_id = 'harness-project';
    config.routing.max_wait_s = 0;
    options.configure?.(config);

    const log = new MemoryLogger();
    // No environment proxies: the fakes are on loopback.
    const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 10_000 });
    cleanups.push(() => dispatcher.close());
    const store = new AccountStore(dataDir, log);
    await store.init();
    cleanups.push(() => store.dispose());
    const oauth = new GoogleOAuth(config.oauth, { dispatcher });

    const specs: HarnessAccountSpec[] =
      typeof options.accounts === 'object' ? options.accounts : Array.from({ length: options.accounts ?? 2 }, () => ({}));
    const accounts: HarnessAccount[] = [];
    for (const [i, spec] of specs.entries()) {
      const { email, refreshToken } = google.addUser(spec.email ?? `user${i + 1}@example.com`);
      const tokens = await oauth.refresh(refreshToken);
      const { account } = await store.upsertByEmail(email, () =>
        newAccount({
          id: '',
          email,
          token: { access_token: tokens.access_token, refresh_token: refreshToken, expiry_timestamp: tokens.expiry_timestamp, token_type: 'Bearer' },
          project_id: spec.projectId ?? null,
          location: spec.location ?? null,
        }),
      );
      accounts.push({ id: account.id, email, refreshToken });
    }

    const pool = new TokenPool({ store, oauth, log, routing: config.routing });
    await pool.load();
    cleanups.push(async () => {
      pool.dispose();
      await pool.flush();
    });
    const usage = new UsageLedger({ limits: config.routing.limits });
    let files: UsageFiles | undefined;
    if (options.usageFiles) {
      const { historyDays = 7, maxDayBytes = 50 * 1024 * 1024, flushMs } = options.usageFiles;
      files = new UsageFiles(dataDir, usage, log, { historyDays, maxDayBytes });
      await files.load({ repair: true });
      files.start(flushMs);
      const opened = files;
      cleanups.push(() => opened.close());
    }
    const server = new ProxyServer({ config, pool, log, version: 'test', dispatcher, drainTimeoutMs: options.drainTimeoutMs ?? 2000, usage });
    const { port } = await server.listen();
    cleanups.push(() => server.close());
    const url = `http://127.0.0.1:${port}`;

    return {
      google, upstream, dataDir, config, log, store, oauth, pool, server, usage, files, url, accounts,
      apiKey: config.proxy.api_key,
      request: (path, init) => send(url, config.proxy.api_key, dispatcher, path, init),
      secrets: () => secrets(store, upstream, accounts),
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function send(url: string, apiKey: string, dispatcher: Dispatcher, path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? apiKey : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | Buffer | undefined;
  if (typeof init.body === 'string' || Buffer.isBuffer(init.body)) body = init.body;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await undiciRequest(url + path, { method: (init.method ?? (body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod, headers, body, dispatcher });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

async function secrets(store: AccountStore, upstream: FakeUpstream, accounts: HarnessAccount[]): Promise<string[]> {
  const found = new Set<string>();
  for (const a of accounts) {
    found.add(a.email);
    found.add(a.refreshToken);
  }
  const { accounts: onDisk } = await store.loadAll();
  for (const a of onDisk) {
    found.add(a.email);
    found.add(a.token.refresh_token);
    if (a.token.access_token) found.add(a.token.access_token);
  }
  for (const r of upstream.requests) {
    const token = /^Bearer (.+)$/.exec(r.headers.authorization ?? '')?.[1];
    if (token) found.add(token);
  }
  return [...found];
}

export type ErrorShape = 'openai' | 'anthropic' | 'google';

/** Asserts `json` is an error in `shape`'s format and returns its message. */
export function assertErrorShape(shape: ErrorShape, status: number, json: unknown): string {
  const body = json as Record<string, Record<string, unknown>>;
  switch (shape) {
    case 'openai':
      assert.equal(typeof body.error.message, 'string');
      assert.equal(typeof body.error.type, 'string');
      assert.ok('code' in body.error, 'OpenAI errors carry a code');
      assert.equal(Object.keys(body).length, 1);
      return body.error.message as string;
    case 'anthropic':
      assert.equal(body.type as unknown, 'error');
      assert.equal(typeof body.error.type, 'string');
      assert.equal(typeof body.error.message, 'string');
      return body.error.message as string;
    case 'google':
      assert.equal(body.error.code, status);
      assert.match(String(body.error.status), /^[A-Z_]+$/);
      assert.equal(typeof body.error.message, 'string');
      return body.error.message as string;
  }
}

/** A minimal valid request in each protocol, with `prompt` as the user's turn. */
export function sampleRequest(
  shape: ErrorShape,
  opts: { prompt?: string; stream?: boolean; model?: string } = {},
): { path: string; body: Record<string, unknown> } {
  const prompt = opts.prompt ?? 'hi';
  const stream = opts.stream ?? false;
  switch (shape) {
    case 'openai':
      return {
        path: '/v1/chat/completions',
        body: { model: opts.model ?? 'gemini-2.5-flash', messages: [{ role: 'user', content: prompt }], ...(stream ? { stream } : {}) },
      };
    case 'anthropic':
      return {
        path: '/v1/messages',
        body: { model: opts.model ?? 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: prompt }], ...(stream ? { stream } : {}) },
      };
    case 'google':
      return {
        path: `/v1beta/models/${opts.model ?? 'gemini-2.5-flash'}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        body: { contents: [{ role: 'user', parts: [{ text: prompt }] }] },
      };
  }
}

/**
 * Every request the fake upstream saw was authorised by a pool account's token, and none carried the
 * client's API key anywhere (headers, query or body).
 */
export function assertUpstreamAuthorisedByPool(h: ProxyHarness): void {
  assert.ok(h.upstream.requests.length > 0, 'the upstream was called');
  for (const seen of h.upstream.requests) {
    assert.ok(h.accounts.some((a) => a.email === seen.email), `${seen.path} authorised by a pool account`);
    assert.ok(!JSON.stringify([seen.headers, seen.url, seen.body]).includes(h.apiKey), `${seen.path}: the client key never reaches Google`);
  }
}
