/**
 * Data directories for `tokenpool serve`: N account files written directly (schema of
 * src/core/account.ts, accounts/<uuid>.json, mode 0600) with access tokens valid for ten years, so
 * no refresh happens, and a config.json pointing the upstream at the bench upstream and OAuth at
 * its /token counter.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { newAccount, serializeAccount, type Account } from '../src/core/account';

export const BENCH_MODEL = 'gemini-2.5-flash';
export const TEN_YEARS_S = 10 * 365 * 24 * 3600;

export function benchAccount(i: number, now = Math.floor(Date.now() / 1000)): Account {
  return newAccount({
    id: randomUUID(),
    email: `bench-${String(i).padStart(5, '0')}@example.com`,
    name: `Bench ${i}`,
    token: {
      access_token: `ya29.bench-${i}-${randomBytes(48).toString('base64url')}`,
      refresh_token: `1//bench-${i}-${randomBytes(40).toString('base64url')}`,
      expires_in: 3599,
      expiry_timestamp: now + TEN_YEARS_S,
      token_type: 'Bearer',
    },
    now,
  });
}

/** Writes `count` account files into `<dir>/accounts`, 200 at a time. */
export async function writeAccounts(dir: string, count: number): Promise<Account[]> {
  const accountsDir = join(dir, 'accounts');
  await fs.mkdir(accountsDir, { recursive: true, mode: 0o700 });
  const accounts = Array.from({ length: count }, (_, i) => benchAccount(i));
  for (let i = 0; i < accounts.length; i += 200) {
    await Promise.all(accounts.slice(i, i + 200).map((a) =>
      fs.writeFile(join(accountsDir, `${a.id}.json`), serializeAccount(a), { mode: 0o600 })));
  }
  return accounts;
}

export async function writeConfig(dir: string, opts: { apiKey: string; upstreamUrl: string }): Promise<void> {
  const config = {
    proxy: { api_key: opts.apiKey, auth_mode: 'all_except_health' },
    upstream: { kind: 'vertex', base_url: opts.upstreamUrl, project_id: 'bench', location: 'us-central1', models: [BENCH_MODEL] },
    oauth: {
      client_id: 'bench-client',
      client_secret: 'bench-secret',
      token_url: `${opts.upstreamUrl}/token`,
      userinfo_url: `${opts.upstreamUrl}/userinfo`,
      revoke_url: `${opts.upstreamUrl}/revoke`,
      auth_url: `${opts.upstreamUrl}/auth`,
    },
  };
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/** A complete data directory with `count` accounts. */
export async function makeDataDir(dir: string, count: number, opts: { apiKey: string; upstreamUrl: string }): Promise<Account[]> {
  await writeConfig(dir, opts);
  return writeAccounts(dir, count);
}
