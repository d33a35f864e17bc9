/**
 * The world an end-to-end test runs in, in the test process: FakeGoogle and FakeUpstream on
 * 127.0.0.1, a temporary data directory whose config.json points the `tokenpool` command at them,
 * accounts seeded through that command (`node dist/cli.js accounts add --refresh-token ...`), and
 * the user settings and environment that point the extension in code-server at the same fakes.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Account } from '../../src/core/account';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream } from '../fakes/upstream';
import { FAKE_GOOGLE_HOST, repoRoot } from './harness';

const execFileAsync = promisify(execFile);

export const PROJECT_ID = 'e2e-project';
export const MODEL = 'gemini-2.5-flash';

/** A free TCP port on 127.0.0.1 (for the proxy, whose port the status bar shows). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class PoolFixture {
  private constructor(
    readonly google: FakeGoogle,
    readonly upstream: FakeUpstream,
    readonly dataDir: string,
    readonly proxyPort: number,
    readonly apiKey: string,
  ) {}

  /** `models`: `upstream.models` in config.json (default: MODEL alone). */
  static async start(options: { models?: string[] } = {}): Promise<PoolFixture> {
    const cli = PoolFixture.cliPath();
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
    const google = await FakeGoogle.start();
    const upstream = await FakeUpstream.start({ validateToken: (token) => google.isAccessTokenValid(token) });
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenpool-e2e-data-'));
    const apiKey = `tp-${'e2e'.padEnd(32, '0')}`;
    const fixture = new PoolFixture(google, upstream, dataDir, await freePort(), apiKey);
    // What the CLI needs; the extension gets the rest (port, upstream, authorize URL) from settings.
    await fs.writeFile(path.join(dataDir, 'config.json'), JSON.stringify({
      proxy: { api_key: apiKey },
      oauth: google.oauthConfig(),
      upstream: { kind: 'vertex', base_url: upstream.url, project_id: PROJECT_ID, location: 'us-central1', models: options.models ?? [MODEL] },
    }, null, 2), { mode: 0o600 });
    return fixture;
  }

  static cliPath(): string {
    return process.env.TOKENPOOL_E2E_CLI ?? path.join(repoRoot, 'dist', 'cli.js');
  }

  /** User settings for code-server: the extension serves on `proxyPort` and signs in at the fake. */
  get settings(): Record<string, unknown> {
    const { port } = new URL(this.google.url);
    return {
      'tokenpool.proxy.port': this.proxyPort,
      'tokenpool.upstream.baseUrl': this.upstream.url,
      'tokenpool.upstream.projectId': PROJECT_ID,
      // The browser opens this name (mapped to 127.0.0.1 by the harness): code-server would rewrite
      // a localhost URL into its own /proxy/ path. The extension host calls the other URLs directly.
      'tokenpool.oauth.authUrl': `http://${FAKE_GOOGLE_HOST}:${port}/auth`,
      'tokenpool.oauth.clientId': this.google.clientId,
      'tokenpool.oauth.clientSecret': this.google.clientSecret,
    };
  }

  get env(): Record<string, string> {
    return { TOKENPOOL_DATA_DIR: this.dataDir };
  }

  get proxyUrl(): string {
    return `http://127.0.0.1:${this.proxyPort}`;
  }

  /** Runs the `tokenpool` command on this data directory; rejects with its stderr on failure. */
  async cli(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(process.execPath, [PoolFixture.cliPath(), ...args, '--data-dir', this.dataDir], { timeout: 30_000 });
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`tokenpool ${args.join(' ')}: ${stderr || message}`);
    }
  }

  /** A new user at the fake, added to the pool through the CLI; returns its refresh token. */
  async addAccount(email: string): Promise<string> {
    const { refreshToken } = this.google.addUser(email);
    await this.cli('accounts', 'add', '--refresh-token', refreshToken);
    return refreshToken;
  }

  /** Every account file, by email. */
  async accounts(): Promise<Map<string, Account>> {
    const dir = path.join(this.dataDir, 'accounts');
    const result = new Map<string, Account>();
    for (const name of await fs.readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      const account = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as Account;
      result.set(account.email, account);
    }
    return result;
  }

  async account(email: string): Promise<Account> {
    const account = (await this.accounts()).get(email);
    if (!account) throw new Error(`no account file for ${email}`);
    return account;
  }

  /** One OpenAI chat completion through the extension's proxy. */
  async chat(prompt = 'hello'): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }] }),
    });
    return { status: response.status, body: await response.text() };
  }

  /** Sends chat completions until `done()` holds; each must succeed (the pool fails over). */
  async chatUntil(done: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const response = await this.chat(`request ${i}`);
      if (response.status !== 200) throw new Error(`request ${i} through the proxy answered ${response.status}: ${response.body}`);
      if (await done()) return;
    }
    throw new Error(`after 8 requests through the proxy: ${what}`);
  }

  /** The proxy's /healthz body: 200, or 503 when no account can serve (DESIGN section 6); undefined while nothing answers. */
  async healthz(): Promise<{ status: string; accounts: Record<string, number> } | undefined> {
    const response = await fetch(`${this.proxyUrl}/healthz`).catch(() => undefined);
    if (!response || (!response.ok && response.status !== 503)) return undefined;
    return (await response.json()) as { status: string; accounts: Record<string, number> };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.google.close(), this.upstream.close()]);
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }
}

/** The end of a tree row's description once the account served a request today (DESIGN section 11), as a RegExp source. */
export const TODAY = ' · \\d+ req, [\\d.]+[kM]? tokens today';
