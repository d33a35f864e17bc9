/**
 * The seed story through the real `tokenpool` command against the fake Google: three accounts
 * added, one revoked, `accounts check` disables it on disk, a restarted `serve` keeps skipping it,
 * re-adding it with a new refresh token heals it in a `serve` that is still running.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeGoogle } from '../fakes/google';
import { eventually, runCli, startServe, tempDataDir, type ServeProcess } from '../helpers/cli';

const API_KEY = 'tp-0123456789abcdef0123456789abcdef';

interface Health {
  service: string;
  accounts: { total: number; healthy: number; cooling: number; proxy_disabled: number; disabled: number };
}
interface Admin {
  accounts: { email: string; state: string }[];
}

describe('tokenpool command: invalid_grant -> disabled -> re-added -> healthy', () => {
  let google: FakeGoogle;
  let dataDir: string;
  let serve: ServeProcess | undefined;
  const users = ['ada@example.com', 'bob@example.com', 'cy@example.com'];
  const refreshTokens = new Map<string, string>();
  const everyOutput: string[] = [];

  const cli = async (...args: string[]) => {
    const result = await runCli([...args, '--data-dir', dataDir]);
    everyOutput.push(result.stdout, result.stderr);
    return result;
  };
  const accountFile = async (email: string) => {
    for (const name of await fs.readdir(join(dataDir, 'accounts'))) {
      if (!name.endsWith('.json')) continue;
      const account = JSON.parse(await fs.readFile(join(dataDir, 'accounts', name), 'utf8'));
      if (account.email === email) return account;
    }
    throw new Error(`no file for ${email}`);
  };
  async function getJson(url: string, path: '/healthz'): Promise<Health>;
  async function getJson(url: string, path: '/admin/accounts'): Promise<Admin>;
  async function getJson(url: string, path: string): Promise<unknown> {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(res.status, 200, `${path} answered ${res.status}`);
    return res.json();
  }

  before(async () => {
    google = await FakeGoogle.start();
    dataDir = await tempDataDir();
    await fs.writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ proxy: { api_key: API_KEY }, oauth: google.oauthConfig(), upstream: { project_id: 'seed-project' } }),
    );
    for (const email of users) refreshTokens.set(email, google.addUser(email).refreshToken);
  });

  after(async () => {
    await serve?.stop();
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  test('accounts add stores three accounts, 0600 files in a 0700 directory', async () => {
    for (const email of users) {
      const result = await cli('accounts', 'add', '--refresh-token', refreshTokens.get(email)!, '--project', 'p-' + email[0]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${email}: added \\(id [0-9a-f-]{36}\\)`));
    }
    const list = await cli('accounts', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const summaries = JSON.parse(list.stdout);
    assert.deepEqual(summaries.map((s: { email: string }) => s.email).sort(), users);
    assert.ok(summaries.every((s: { state: string }) => s.state === 'healthy'));
    assert.deepEqual(Object.keys(summaries[0]).sort(), [
      'cooldowns', 'disabled_at', 'disabled_reason', 'email', 'id', 'last_used', 'location', 'project_id',
      'proxy_disabled_reason', 'proxy_disabled_until', 'state',
    ]);
    assert.equal((await fs.stat(dataDir)).mode & 0o777, 0o700);
    for (const name of await fs.readdir(join(dataDir, 'accounts'))) {
      assert.equal((await fs.stat(join(dataDir, 'accounts', name))).mode & 0o777, 0o600, name);
    }
    assert.equal((await accountFile('bob@example.com')).project_id, 'p-b');
  });

  test('a revoked refresh token: accounts check disables it with the three fields on disk, exit 1', async () => {
    serve = await startServe(['--data-dir', dataDir]);
    const before = await getJson(serve.url, '/healthz');
    assert.deepEqual(before.accounts, { total: 3, healthy: 3, cooling: 0, proxy_disabled: 0, disabled: 0 });

    google.revokeRefreshToken(refreshTokens.get('bob@example.com')!);
    const check = await cli('accounts', 'check', '--json');
    assert.equal(check.code, 1, 'check exits 1 when an account failed');
    const results = JSON.parse(check.stdout) as { email: string; ok: boolean; state: string; detail: string }[];
    const bob = results.find((r) => r.email === 'bob@example.com')!;
    assert.equal(bob.ok, false);
    assert.equal(bob.state, 'disabled');
    assert.match(bob.detail, /invalid_grant: Token has been expired or revoked\./);
    assert.ok(results.filter((r) => r.email !== 'bob@example.com').every((r) => r.ok));
    assert.match(check.stderr, /Disabling account due to invalid_grant \(bob@example\.com\): refresh_token likely revoked\/expired \(or the account is suspended\)/);

    const file = await accountFile('bob@example.com');
    assert.equal(file.disabled, true);
    assert.equal(typeof file.disabled_at, 'number');
    assert.ok(Math.abs(file.disabled_at - Date.now() / 1000) < 60, 'disabled_at is now, in Unix seconds');
    assert.equal(file.disabled_reason, 'invalid_grant: Token has been expired or revoked.');

    // The running serve applies another process's change through the watch, within 1 s.
    await eventually(async () => (await getJson(serve!.url, '/healthz')).accounts.disabled === 1, 1000, 'serve to see the disable');
  });

  test('a restarted serve keeps skipping the disabled account', async () => {
    assert.equal(await serve!.stop(), 0, 'SIGTERM drains and exits 0');
    serve = await startServe(['--data-dir', dataDir]);
    assert.match(serve.log(), /skip disabled account \(bob@example\.com\)/);
    const health = await getJson(serve.url, '/healthz');
    assert.equal(health.service, 'tokenpool');
    assert.deepEqual(health.accounts, { total: 3, healthy: 2, cooling: 0, proxy_disabled: 0, disabled: 1 });
  });

  test('re-adding with a new refresh token clears the fields; the running serve reports it healthy within 1 s', async () => {
    const fresh = google.issueRefreshToken('bob@example.com');
    const add = await cli('accounts', 'add', '--refresh-token', fresh);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /bob@example\.com: updated and re-enabled/);
    const file = await accountFile('bob@example.com');
    assert.equal(file.disabled, false);
    assert.equal(file.disabled_at, null);
    assert.equal(file.disabled_reason, null);
    assert.equal(file.token.refresh_token, fresh);
    assert.equal(file.project_id, 'p-b', 're-adding keeps the project');

    const started = Date.now();
    await eventually(
      async () => {
        const { accounts } = await getJson(serve!.url, '/admin/accounts');
        return accounts.find((a) => a.email === 'bob@example.com')?.state === 'healthy';
      },
      1000,
      'bob to be healthy in the running serve',
    );
    assert.ok(Date.now() - started <= 1000);
    assert.deepEqual((await getJson(serve!.url, '/healthz')).accounts.disabled, 0);
  });

  test('proxy-disable and proxy-enable round-trip on disk', async () => {
    const off = await cli('accounts', 'proxy-disable', 'CY@example.com');
    assert.equal(off.code, 0, off.stderr);
    let file = await accountFile('cy@example.com');
    assert.equal(file.proxy_disabled, true);
    assert.equal(file.proxy_disabled_reason, 'manual');
    assert.equal(typeof file.proxy_disabled_at, 'number');
    const list = JSON.parse((await cli('accounts', 'list', '--json')).stdout);
    assert.equal(list.find((s: { email: string }) => s.email === 'cy@example.com').state, 'proxy_disabled');

    const on = await cli('accounts', 'proxy-enable', 'cy@example.com');
    assert.equal(on.code, 0, on.stderr);
    file = await accountFile('cy@example.com');
    assert.equal(file.proxy_disabled, false);
    assert.equal(file.proxy_disabled_reason, null);
    assert.equal(file.proxy_disabled_at, null);
  });

  test('accounts remove deletes the file; --revoke revokes the token at Google', async () => {
    const token = refreshTokens.get('ada@example.com')!;
    const removed = await cli('accounts', 'remove', 'ada@example.com', '--revoke');
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(accountFile('ada@example.com'));
    const again = await runCli(['accounts', 'add', '--refresh-token', token, '--data-dir', dataDir]);
    assert.equal(again.code, 1, 'a revoked token cannot be added back');
    assert.match(again.stderr, /^tokenpool: invalid_grant: Token has been expired or revoked\.\n$/);
  });

  test('no output of any command carried a token', () => {
    const all = everyOutput.join('\n');
    for (const token of refreshTokens.values()) assert.ok(!all.includes(token), 'a refresh token leaked');
    assert.doesNotMatch(all, /ya29\./, 'an access token leaked');
  });
});

describe('tokenpool command: clear one-line errors', () => {
  let google: FakeGoogle;
  let dataDir: string;

  before(async () => {
    google = await FakeGoogle.start();
    dataDir = await tempDataDir();
    await fs.writeFile(join(dataDir, 'config.json'), JSON.stringify({ oauth: google.oauthConfig() }));
  });
  after(async () => {
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const oneLine = (text: string) => assert.equal(text.trim().split('\n').length, 1, `not one line: ${text}`);

  test('unknown email', async () => {
    const r = await runCli(['accounts', 'proxy-disable', 'nobody@example.com', '--data-dir', dataDir]);
    assert.equal(r.code, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /no account "nobody@example\.com"/);
  });

  test('a refresh token Google rejects shows Google error and description', async () => {
    const r = await runCli(['accounts', 'add', '--refresh-token', '1//not-a-real-token', '--data-dir', dataDir]);
    assert.equal(r.code, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /invalid_grant/);
    assert.ok(!r.stderr.includes('1//not-a-real-token'), 'the token is not echoed');
  });

  test('malformed config names the key and the expected type, and is left as it was', async () => {
    const dir = await tempDataDir();
    const text = JSON.stringify({ proxy: { port: 'eighty' } });
    await fs.writeFile(join(dir, 'config.json'), text);
    const r = await runCli(['accounts', 'list', '--data-dir', dir]);
    assert.equal(r.code, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /"proxy\.port" must be an integer from 0 to 65535, got "eighty"/);
    assert.equal(await fs.readFile(join(dir, 'config.json'), 'utf8'), text);
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('unreadable data dir', async () => {
    const file = join(dataDir, 'not-a-directory');
    await fs.writeFile(file, '');
    const r = await runCli(['accounts', 'list', '--data-dir', file]);
    assert.equal(r.code, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /cannot use data directory .*not-a-directory/);
  });

  test('a port in use', async () => {
    const first = await startServe(['--data-dir', dataDir]);
    const port = new URL(first.url).port;
    const r = await runCli(['serve', '--port', port, '--data-dir', dataDir]);
    await first.stop();
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim().split('\n').at(-1)!, new RegExp(`port ${port} .* already in use`));
  });

  test('serve --host on a non-loopback address is refused while auth_mode is "off"', async () => {
    const dir = await tempDataDir();
    await fs.writeFile(join(dir, 'config.json'), JSON.stringify({ proxy: { auth_mode: 'off' } }));
    // A serve that binds anyway runs until killed after 5 s, and fails here with code null.
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dir], {}, 5000);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /"proxy\.auth_mode" is "off" but "proxy\.host" 0\.0\.0\.0 is not a loopback address/);
    assert.doesNotMatch(r.stdout, /listening/);
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('usage errors exit 2', async () => {
    for (const args of [['frobnicate'], ['accounts', 'add'], ['accounts', 'list', '--no-such-flag'], []]) {
      const r = await runCli([...args, '--data-dir', dataDir]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
