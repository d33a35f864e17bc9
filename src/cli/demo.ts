/**
 * `tokenpool demo`: the whole story, told with real requests, against the same simulated Google
 * (test/fakes) the tests use. Nothing here reaches the network: the fake Google, the fake
 * Vertex AI and the proxy all listen on 127.0.0.1, over a temporary data directory.
 *
 * requests served across accounts -> one refresh token revoked -> invalid_grant -> the account
 * disabled on disk -> re-added with a new token -> healthy again in the running pool.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGoogle } from '../../test/fakes/google';
import { FakeUpstream } from '../../test/fakes/upstream';
import { defaultConfig, generateApiKey, type Config } from '../core/config';
import { enrollRefreshToken } from '../core/enroll';
import { PortInUseError } from '../core/errors';
import { createDispatcher } from '../core/http';
import type { Logger } from '../core/log';
import { GoogleOAuth } from '../core/oauth';
import { TokenPool } from '../core/pool';
import { AccountStore } from '../core/store';
import { version } from '../core/version';
import { ProxyServer } from '../proxy/server';

const tty = process.stdout.isTTY;
const paint = (code: number) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);

const say = (text = '') => process.stdout.write(text + '\n');
const step = (n: number, text: string) => say(`\n${bold(`${n}. ${text}`)}`);

/** The pool's own log lines, shown inline so the story's log is visible as it happens. */
function narratingLogger(verbose: boolean): Logger {
  const line = (level: string, color: (t: string) => string) => (message: string | Error) => {
    say(`   ${dim('log')} ${color(level.padEnd(5))} ${message instanceof Error ? message.message : message}`);
  };
  return {
    trace: verbose ? line('trace', dim) : () => {},
    debug: verbose ? line('debug', dim) : () => {},
    info: line('info', (t) => t),
    warn: line('warn', yellow),
    error: line('error', red),
  };
}

const USERS = ['ada@example.com', 'bob@example.com', 'cy@example.com'];

export async function runDemo(options: { keepRunning: boolean; verbose: boolean }): Promise<number> {
  const dataDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-demo-'));
  const google = await FakeGoogle.start();
  const upstream = await FakeUpstream.start({ validateToken: (token) => google.isAccessTokenValid(token) });
  const log = narratingLogger(options.verbose);

  const config: Config = defaultConfig();
  config.proxy.api_key = generateApiKey();
  config.oauth = google.oauthConfig();
  config.upstream = { ...config.upstream, base_url: upstream.url, project_id: 'demo-project' };
  await fs.writeFile(join(dataDir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });

  const dispatcher = createDispatcher(config.network);
  const store = new AccountStore(dataDir, log);
  const oauth = new GoogleOAuth(config.oauth, { dispatcher });
  const pool = new TokenPool({ store, oauth, log, routing: config.routing });
  let server: ProxyServer | undefined;
  try {
    say(bold('tokenpool demo') + dim(` v${version}: a simulated Google on ${google.url}, simulated Vertex AI on ${upstream.url}`));
    say(dim(`data directory ${dataDir}`));

    step(1, 'Three Google accounts are added by refresh token (as `tokenpool accounts add` does)');
    await store.init();
    await pool.load();
    const tokens = new Map(USERS.map((email) => [email, google.addUser(email).refreshToken]));
    for (const [email, refreshToken] of tokens) {
      const { account } = await enrollRefreshToken(pool, oauth, refreshToken);
      say(`   ${green('+')} ${email}  ${dim(`accounts/${account.id}.json`)}`);
    }

    step(2, 'The proxy starts');
    server = await listen(config, pool, log, dispatcher);
    const base = `http://${server.address!.host}:${server.address!.port}`;
    say(`   tokenpool listening on ${base}`);

    const ask = async (prompt: string): Promise<string> => {
      const before = upstream.requests.length;
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${config.proxy.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: prompt }] }),
      });
      const body = (await res.json()) as { choices?: { message: { content: string } }[]; error?: { message: string } };
      const servedBy = upstream.requests.slice(before).filter((r) => r.status === 200).at(-1)?.email ?? '-';
      const answer = body.choices?.[0]?.message.content ?? body.error?.message ?? '';
      say(`   POST /v1/chat/completions "${prompt}" -> ${res.status === 200 ? green('200') : red(String(res.status))}  served by ${bold(servedBy)}  ${dim(answer.slice(0, 60))}`);
      return servedBy;
    };

    step(3, 'Requests from an OpenAI client are spread across the pool (round-robin)');
    for (let i = 1; i <= 6; i++) await ask(`hello #${i}`);

    step(4, "bob's refresh token is revoked at Google (a password change, say), and his access token expires");
    google.revokeRefreshToken(tokens.get('bob@example.com')!);
    google.expireAccessTokens('bob@example.com');

    step(5, 'The next requests: Vertex AI answers 401, the refresh answers invalid_grant, bob is disabled, and the request is still served');
    for (let i = 7; i <= 10; i++) await ask(`hello #${i}`);
    const bob = await accountFile(dataDir, 'bob@example.com');
    say(`   bob's file ${dim(`accounts/${bob.id}.json`)}:`);
    for (const key of ['disabled', 'disabled_at', 'disabled_reason'] as const) say(`     "${key}": ${red(JSON.stringify(bob[key]))}`);
    say(`   GET /healthz -> ${JSON.stringify(await health(base))}`);

    step(6, 'bob signs in again: a new refresh token is re-added, and the running pool takes him back at once');
    const { reenabled } = await enrollRefreshToken(pool, oauth, google.issueRefreshToken('bob@example.com'));
    const healed = await accountFile(dataDir, 'bob@example.com');
    say(`   re-enabled: ${reenabled ? green('yes') : red('no')}; "disabled": ${healed.disabled}, "disabled_at": ${healed.disabled_at}, "disabled_reason": ${healed.disabled_reason}`);
    say(`   GET /healthz -> ${JSON.stringify(await health(base))}`);

    step(7, 'bob serves again');
    const served = new Set<string>();
    for (let i = 11; i <= 13; i++) served.add(await ask(`hello #${i}`));
    const ok = served.has('bob@example.com') && reenabled && bob.disabled === true && healed.disabled === false;
    say(`\n${ok ? green('The story holds: disabled on invalid_grant, persisted, healed on re-add without a restart.') : red('The story did not hold; see above.')}`);

    if (options.keepRunning && ok) {
      say(`\nThe proxy keeps running on ${bold(base)} with API key ${bold(config.proxy.api_key)} (the demo's own, not a secret).`);
      say(`Try: curl -s ${base}/v1/chat/completions -H 'authorization: Bearer ${config.proxy.api_key}' -H 'content-type: application/json' -d '{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}'`);
      say('Press Ctrl-C to stop.');
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    }
    return ok ? 0 : 1;
  } finally {
    await server?.close();
    pool.dispose();
    await pool.flush();
    store.dispose();
    await dispatcher.close();
    await upstream.close();
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** 8046 when free, else any free port: the demo should not fail because a real proxy is running. */
async function listen(config: Config, pool: TokenPool, log: Logger, dispatcher: ReturnType<typeof createDispatcher>): Promise<ProxyServer> {
  for (const port of [config.proxy.port, 0]) {
    const server = new ProxyServer({ config: { ...config, proxy: { ...config.proxy, port } }, pool, log, version, dispatcher });
    try {
      await server.listen();
      return server;
    } catch (err) {
      server.dispose();
      if (!(err instanceof PortInUseError) || port === 0) throw err;
    }
  }
  throw new PortInUseError(config.proxy.host, config.proxy.port);
}

async function accountFile(dataDir: string, email: string): Promise<Record<string, unknown>> {
  const dir = join(dataDir, 'accounts');
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const account = JSON.parse(await fs.readFile(join(dir, name), 'utf8')) as Record<string, unknown>;
    if (account.email === email) return account;
  }
  throw new Error(`no account file for ${email}`);
}

async function health(base: string): Promise<unknown> {
  const body = (await (await fetch(`${base}/healthz`)).json()) as { accounts: unknown };
  return body.accounts;
}
