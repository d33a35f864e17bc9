/**
 * The two sign-in paths of the `tokenpool` command, as a user runs them: `login` (loopback OAuth
 * with PKCE in the browser) and `accounts import-adc` (gcloud's authorized_user credentials).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeGoogle } from '../fakes/google';
import { CLI, runCli, tempDataDir } from '../helpers/cli';

const GCLOUD_CLIENT = { id: '764086051850-gcloud.apps.googleusercontent.com', secret: 'd-FL95Q19q7MQmFpd7hHD0Ty' };

describe('tokenpool login and import-adc', () => {
  let google: FakeGoogle;
  let dataDir: string;

  const accountFile = async (email: string) => {
    for (const name of await fs.readdir(join(dataDir, 'accounts'))) {
      const account = JSON.parse(await fs.readFile(join(dataDir, 'accounts', name), 'utf8'));
      if (account.email === email) return account;
    }
    throw new Error(`no file for ${email}`);
  };

  before(async () => {
    google = await FakeGoogle.start();
    google.registerClient(GCLOUD_CLIENT.id, GCLOUD_CLIENT.secret);
    dataDir = await tempDataDir();
    await fs.writeFile(join(dataDir, 'config.json'), JSON.stringify({ oauth: google.oauthConfig() }));
  });
  after(async () => {
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  test('login: prints the Google URL, a browser signs in (a favicon request first), the account is added', async () => {
    google.addUser('dana@example.com');
    google.approveAs('dana@example.com');
    // PATH without xdg-open: the URL printed on stderr is the way in.
    const child = spawn(process.execPath, [CLI, 'login', '--project', 'dana-proj', '--data-dir', dataDir], {
      env: { ...process.env, PATH: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const url = await new Promise<URL>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        const match = /(http:\/\/\S+\/auth\?\S+)/.exec(stderr);
        if (match) resolve(new URL(match[1]));
      });
    });
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('access_type'), 'offline');
    assert.equal(url.searchParams.get('prompt'), 'consent');
    const redirect = new URL(url.searchParams.get('redirect_uri')!);
    assert.equal(redirect.hostname, '127.0.0.1');

    // What a browser does: a stray favicon request, then the consent page's redirect to the callback.
    assert.equal((await fetch(new URL('/favicon.ico', redirect))).status, 404);
    const consent = await fetch(url, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const callback = await fetch(consent.headers.get('location')!);
    assert.equal(callback.status, 200);
    assert.match(await callback.text(), /Signed in as dana@example\.com/);

    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^dana@example\.com: added/);
    const file = await accountFile('dana@example.com');
    assert.equal(file.project_id, 'dana-proj');
    assert.ok(file.token.refresh_token);
    assert.ok(!stdout.includes(file.token.refresh_token) && !stderr.includes(file.token.refresh_token));
  });

  test('login without an OAuth client says which keys to set', async () => {
    const dir = await tempDataDir();
    const r = await runCli(['login', '--data-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no OAuth client configured: .*"oauth\.client_id" and "oauth\.client_secret" in .*config\.json/);
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("import-adc: gcloud's authorized_user file, refreshed with gcloud's own client", async () => {
    google.addUser('eve@example.com');
    const refreshToken = google.issueRefreshToken('eve@example.com', { clientId: GCLOUD_CLIENT.id });
    const adc = join(dataDir, 'adc.json');
    await fs.writeFile(adc, JSON.stringify({
      account: '', client_id: GCLOUD_CLIENT.id, client_secret: GCLOUD_CLIENT.secret,
      quota_project_id: 'eve-quota-project', refresh_token: refreshToken, type: 'authorized_user', universe_domain: 'googleapis.com',
    }));
    const r = await runCli(['accounts', 'import-adc', adc, '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^eve@example\.com: added/);
    const file = await accountFile('eve@example.com');
    assert.equal(file.token.client_id, GCLOUD_CLIENT.id);
    assert.equal(file.project_id, 'eve-quota-project');

    // The stored client is the one used later: a check refreshes with gcloud's client and succeeds.
    const check = await runCli(['accounts', 'check', 'eve@example.com', '--data-dir', dataDir]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  test('import-adc: a service_account file or a missing file is a clear error', async () => {
    const sa = join(dataDir, 'sa.json');
    await fs.writeFile(sa, JSON.stringify({ type: 'service_account', client_email: 'x@p.iam.gserviceaccount.com' }));
    const wrongType = await runCli(['accounts', 'import-adc', sa, '--data-dir', dataDir]);
    assert.equal(wrongType.code, 1);
    assert.match(wrongType.stderr, /^tokenpool: the gcloud credentials have type "service_account"; only "authorized_user" credentials .* can be imported/);

    const missing = await runCli(['accounts', 'import-adc', join(dataDir, 'nope.json'), '--data-dir', dataDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^tokenpool: no gcloud credentials file: run "gcloud auth application-default login" first/);
  });
});
