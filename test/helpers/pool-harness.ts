/**
 * The pool test harness: a TokenPool against a real AccountStore in a temp directory, the real
 * GoogleOAuth client and the real FakeGoogle server, and the small helpers the pool tests share.
 * Importing it registers the cleanup of every harness made (node:test `after`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { newAccount, serializeAccount, type Account } from '../../src/core/account';
import { defaultConfig, type Config } from '../../src/core/config';
import { parseGoogleError } from '../../src/core/failover';
import { writeFileAtomic } from '../../src/core/fsutil';
import { MemoryLogger } from '../../src/core/log';
import { GoogleOAuth } from '../../src/core/oauth';
import { TokenPool } from '../../src/core/pool';
import { AccountStore } from '../../src/core/store';
import { FakeGoogle } from '../fakes/google';

export const MODEL = 'gemini-2.5-pro';

export interface Harness {
  fake: FakeGoogle;
  dir: string;
  log: MemoryLogger;
  store: AccountStore;
  pool: TokenPool;
  clock: { ms: number };
  /** Writes an account file the way another process (or a hand edit) would; returns it. */
  addAccount(email: string, fields?: Partial<Account> & { expiresInS?: number }): Promise<Account>;
  readFile(id: string): Promise<Account>;
  /** The pool's own log lines, without the store's. */
  poolLines(): string[];
}

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) {
    h.pool.dispose();
    await h.pool.flush();
    h.store.dispose();
    await h.fake.close();
    await fs.rm(h.dir, { recursive: true, force: true });
  }
});

/** A pool over an empty data dir. `realClock`: Date.now; otherwise a clock the test moves. */
export async function harness(
  opts: { routing?: Partial<Config['routing']>; realClock?: boolean; lastUsedFlushMs?: number } = {},
): Promise<Harness> {
  const fake = await FakeGoogle.start();
  const dir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-pool-'));
  const log = new MemoryLogger();
  const store = new AccountStore(dir, log);
  await store.init();
  const clock = { ms: Date.now() };
  const now = opts.realClock ? Date.now : () => clock.ms;
  const oauth = new GoogleOAuth(fake.oauthConfig(), { now });
  const pool = new TokenPool({
    store,
    oauth,
    log,
    routing: { ...defaultConfig().routing, ...opts.routing },
    now,
    lastUsedFlushMs: opts.lastUsedFlushMs,
  });
  let created = 1_700_000_000;
  const h: Harness = {
    fake,
    dir,
    log,
    store,
    pool,
    clock,
    async addAccount(email, fields = {}) {
      const { expiresInS = 3600, ...rest } = fields;
      const nowS = Math.floor(now() / 1000);
      const { refreshToken } = fake.addUser(email);
      const account: Account = {
        ...newAccount({
          id: randomUUID(),
          email,
          token: {
            access_token: `ya29.initial-${randomUUID()}`,
            refresh_token: refreshToken,
            expires_in: expiresInS,
            expiry_timestamp: nowS + expiresInS,
            token_type: 'Bearer',
          },
          project_id: `project-${email.split('@')[0]}`,
          location: 'us-central1',
          now: created++,
        }),
        ...rest,
      };
      await writeFileAtomic(join(dir, 'accounts', `${account.id}.json`), serializeAccount(account));
      return account;
    },
    async readFile(id) {
      return JSON.parse(await fs.readFile(join(dir, 'accounts', `${id}.json`), 'utf8')) as Account;
    },
    poolLines() {
      return log.lines.filter((l) => !l.message.startsWith('[store]') && l.level !== 'debug').map((l) => `${l.level} ${l.message}`);
    },
  };
  harnesses.push(h);
  return h;
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

export async function emailsOf(pool: TokenPool, n: number, opts: { model?: string; sessionKey?: string } = {}): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push((await pool.acquire(opts.model ?? MODEL, { sessionKey: opts.sessionKey }))?.email);
  return out;
}

/** Records the id of every store.update (a locked read-modify-write of one account file) from now on. */
export function countUpdates(store: AccountStore): string[] {
  const ids: string[] = [];
  const update = store.update.bind(store);
  store.update = (id, mutate) => {
    ids.push(id);
    return update(id, mutate);
  };
  return ids;
}

/** Acquires `n` times and reports each a success, moving the clock `stepMs` before each. */
export async function serve(h: Harness, n: number, stepMs = 0): Promise<Map<string, number>> {
  const lastUse = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    h.clock.ms += stepMs;
    const lease = await h.pool.acquire(MODEL);
    assert.ok(lease);
    h.pool.report(lease.accountId, MODEL, { kind: 'http', status: 200 });
    lastUse.set(lease.accountId, Math.floor(h.clock.ms / 1000));
  }
  return lastUse;
}

/** A cooldown end as summaries show it: unix seconds, rounded up. */
export const endS = (ms: number): number => Math.ceil(ms / 1000);

export const quota429 = (delay: string) =>
  parseGoogleError(
    JSON.stringify({
      error: {
        code: 429,
        message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }],
      },
    }),
  );
