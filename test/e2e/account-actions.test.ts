/**
 * Account and proxy actions in a real VS Code (code-server, driven through chromium), against
 * FakeGoogle and FakeUpstream in this process, on a data directory seeded with three accounts:
 * the status bar's proxy menu (copy base URL and API key, stop, start, show log), cooling rows and
 * Reset Cooldowns, Import gcloud Credentials (an `authorized_user` ADC file with its own OAuth
 * client, and a `service_account` file refused), and Remove / Remove and Revoke from a row's context
 * menu. Each step checks what the user sees and what is on disk (or at the fakes). The tests share
 * one window, and each starts from a known state (startFromKnownState: the accounts it needs, all
 * healthy, no cooldowns, the proxy serving), so a failed one does not fail the next. Times the rows
 * show are checked against the cooldown's real end from the admin API, never against the clock.
 * Screenshots of each state go to test-results/e2e/account-actions-*.png.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccountSummary } from '../../src/core/account';
import { STATUS_BAR_ID } from '../../src/vscode/ids';
import { launchVSCode, productVsix, type VSCodeSession } from './harness';
import { startFromKnownState } from './known-state';
import { MODEL, PoolFixture, TODAY } from './pool-fixture';

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const CY = 'cy@example.com';
const EVE = 'eve@example.com';
/** gcloud's own OAuth client, as an `authorized_user` ADC file names it. */
const GCLOUD_CLIENT = { id: '764086051850-gcloud-fake.apps.googleusercontent.com', secret: 'd-FL95Q19q7MQmFpd7hHD0Ty' };
const QUOTA_PROJECT = 'eve-quota-project';
/** A healthy row's use, however long ago its last request was (the tree says `just now` for under a minute). */
const USED = '(never used|used just now|used \\d+ min ago)';

const pad = (n: number): string => String(n).padStart(2, '0');
/** Local `HH:MM` of a unix time in seconds (the tree's clock for times within a day). */
const hhmm = (unixS: number): string => {
  const d = new Date(unixS * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

describe('Token Pool account and proxy actions in code-server', { timeout: 300_000 }, () => {
  let fx: PoolFixture;
  let vs: VSCodeSession;
  let gcloudDir: string;
  const started = Date.now();

  const adcFile = (): string => path.join(gcloudDir, 'application_default_credentials.json');
  /** An `authorized_user` ADC file as `gcloud auth application-default login` writes it. */
  const writeAdcFile = (refreshToken: string): Promise<void> => fs.writeFile(adcFile(), JSON.stringify({
    account: '', client_id: GCLOUD_CLIENT.id, client_secret: GCLOUD_CLIENT.secret,
    quota_project_id: QUOTA_PROJECT, refresh_token: refreshToken, type: 'authorized_user', universe_domain: 'googleapis.com',
  }, null, 2));
  /** A new refresh token for EVE at the fake, issued to gcloud's client. */
  const eveAdcToken = (): string => {
    fx.google.registerClient(GCLOUD_CLIENT.id, GCLOUD_CLIENT.secret);
    fx.google.addUser(EVE);
    return fx.google.issueRefreshToken(EVE, { clientId: GCLOUD_CLIENT.id });
  };
  /** Puts an account back for a known state: EVE as gcloud's ADC import, the others by refresh token. */
  const addAgain = async (email: string): Promise<void> => {
    if (email !== EVE) {
      await fx.addAccount(email);
      return;
    }
    await writeAdcFile(eveAdcToken());
    await fx.cli('accounts', 'import-adc', adcFile());
  };
  const knownState = (accounts: string[]): Promise<void> => startFromKnownState(vs, fx, { accounts, add: addAgain });
  const waitForStatus = (expected: RegExp, message: string): Promise<string> => vs.waitForStatusBar(STATUS_BAR_ID, expected, message);
  const shot = async (name: string): Promise<void> => {
    await vs.page.waitForTimeout(400); // let toasts and menus finish their animation
    await vs.screenshot(name);
  };
  const toast = (part: string, message: string) =>
    vs.waitFor(async () => (await vs.notifications()).find((n) => n.message.includes(part)), { message });
  /** VS Code keeps a progress notification at least 800 ms: wait for it to go before a screenshot. */
  const progressGone = (part: string) =>
    vs.waitFor(async () => !(await vs.notifications()).some((n) => n.message.includes(part)), { message: `the "${part}" progress should close` });
  /** The admin API's view of the accounts (the same summaries the tree shows). */
  const adminAccounts = async (): Promise<AccountSummary[]> => {
    const response = await fetch(`${fx.proxyUrl}/admin/accounts`, { headers: { authorization: `Bearer ${fx.apiKey}` } });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { accounts: AccountSummary[] }).accounts;
  };
  const summary = async (email: string): Promise<AccountSummary> => {
    const found = (await adminAccounts()).find((a) => a.email === email);
    assert.ok(found, `/admin/accounts lists ${email}`);
    return found;
  };
  /** GET /healthz: the status, or the error code when nothing listens. */
  const healthStatus = async (): Promise<number | string> => {
    try {
      return (await fetch(`${fx.proxyUrl}/healthz`)).status;
    } catch (error) {
      return (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    }
  };
  /** What the fake's token endpoint answers a refresh with this token and client. */
  const refreshAtFake = async (refreshToken: string, client = { id: fx.google.clientId, secret: fx.google.clientSecret }) => {
    const response = await fetch(`${fx.google.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id, client_secret: client.secret }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; access_token?: string } };
  };
  const accountFiles = async (): Promise<string[]> =>
    (await fs.readdir(path.join(fx.dataDir, 'accounts'))).filter((name) => name.endsWith('.json')).sort();

  before(async () => {
    fx = await PoolFixture.start();
    gcloudDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenpool-e2e-gcloud-'));
    for (const email of [ADA, BOB, CY]) await fx.addAccount(email);
    vs = await launchVSCode({
      name: 'account-actions',
      extensions: [productVsix()],
      // gcloud's configuration folder: Import gcloud Credentials reads application_default_credentials.json there.
      env: { ...fx.env, CLOUDSDK_CONFIG: gcloudDir },
      settings: fx.settings,
    });
    // The extension host's vscode.env.clipboard is the browser's: reading it back needs the permission.
    await vs.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: vs.url });
    console.log(`# code-server: install ${vs.timings.installMs} ms, start ${vs.timings.serverStartMs} ms, ` +
      `workbench ${vs.timings.workbenchMs} ms, extension host ${vs.timings.extensionHostMs} ms`);
  });

  after(async () => {
    await vs?.stop();
    await fx?.close();
    if (gcloudDir) await fs.rm(gcloudDir, { recursive: true, force: true });
    console.log(`# account-actions: ${Date.now() - started} ms in all`);
  });

  test('the status bar menu copies the base URL and the API key, stops and starts the proxy, and shows the log', async () => {
    await knownState([ADA, BOB, CY]);
    await vs.statusBarItem(STATUS_BAR_ID).click();
    const items = await vs.quickPickItems();
    assert.deepEqual(items.map((i) => i.label), ['Stop Proxy', 'Copy Base URL', 'Copy API Key', 'Open Dashboard', 'Show Log']);
    assert.equal(items[1].description, fx.proxyUrl, 'Copy Base URL names the URL it copies');
    await shot('1-status-menu');

    await vs.pickQuickItem('Copy Base URL');
    await vs.waitFor(async () => (await vs.probe((vscode) => vscode.env.clipboard.readText())) === fx.proxyUrl,
      { message: `the clipboard should hold ${fx.proxyUrl}` });

    await vs.statusBarItem(STATUS_BAR_ID).click();
    await vs.pickQuickItem('Copy API Key');
    await vs.waitFor(async () => (await vs.probe((vscode) => vscode.env.clipboard.readText())) === fx.apiKey,
      { message: 'the clipboard should hold the API key from config.json' });

    await vs.statusBarItem(STATUS_BAR_ID).click();
    await vs.pickQuickItem('Stop Proxy');
    await waitForStatus(/^stopped$/, 'after Stop Proxy');
    assert.equal(await vs.waitFor(async () => ((await healthStatus()) === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined),
      { message: 'nothing should listen on the port after Stop' }), 'ECONNREFUSED');
    await shot('2-stopped');

    await vs.statusBarItem(STATUS_BAR_ID).click();
    const stoppedItems = await vs.quickPickItems();
    assert.deepEqual(stoppedItems.map((i) => i.label), ['Start Proxy', 'Copy Base URL', 'Copy API Key', 'Open Dashboard', 'Show Log']);
    await vs.pickQuickItem('Start Proxy');
    await waitForStatus(new RegExp(`^3/3 :${fx.proxyPort}$`), 'after Start Proxy');
    assert.equal(await healthStatus(), 200);
    assert.equal((await fx.chat('after restart')).status, 200, 'the restarted proxy serves');

    await vs.statusBarItem(STATUS_BAR_ID).click();
    await vs.pickQuickItem('Show Log');
    const output = vs.page.locator('.part.panel .monaco-editor .view-lines').first();
    const log = await vs.waitFor(async () => {
      const text = (await output.innerText().catch(() => '')).replace(/\u00a0/g, ' ');
      return /\[proxy\] stopped/.test(text) ? text : undefined;
    }, { message: 'the Token Pool log should open in the panel and say the proxy stopped' });
    // The panel wraps long lines (VS Code 1.117 does): compare with the line breaks taken out.
    assert.ok(log.replace(/\s+/g, ' ').includes(`[proxy] listening on ${fx.proxyUrl}`), log);
    await shot('3-log');
    await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.closePanel'));
  });

  test('a 429 with RetryInfo cools one model of the row, two 401s cool a whole row, and Reset Cooldowns makes both healthy', async () => {
    await knownState([ADA, BOB, CY]);
    fx.upstream.fail({ kind: 'status', status: 429, retryDelay: '120s', email: ADA, message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute' });
    const before429 = Date.now();
    await fx.chatUntil(async () => fx.upstream.requestsFor(ADA).some((r) => r.status === 429), `${ADA} should get the scripted 429`);
    const after429 = Date.now();

    const ada = await summary(ADA);
    assert.equal(ada.state, 'healthy', 'a 429 cools that model only');
    assert.equal(ada.cooldowns.length, 1, JSON.stringify(ada.cooldowns));
    assert.equal(ada.cooldowns[0].model, MODEL);
    const adaUntil = ada.cooldowns[0].until;
    assert.ok(adaUntil * 1000 >= before429 + 119_000 && adaUntil * 1000 <= after429 + 121_000,
      `RetryInfo 120s: cooling until ${adaUntil}, asked between ${before429} and ${after429} ms`);
    // The row names the minute of that very end (which may be the next minute when it ends at :59.5).
    const adaClock = hhmm(adaUntil);
    const adaRow = await vs.waitForRow(ADA, (d) => d.includes(`${MODEL} cooling until`), `${ADA}'s row should say which model is cooling`);
    // the row ends with today's figures: ada has served requests
    assert.match(adaRow.description, new RegExp(`^healthy · ${USED} · ${MODEL} cooling until ${adaClock} \\(429 Too Many Requests\\)${TODAY}$`));
    const tooltip = await vs.treeTooltip(ADA);
    assert.match(tooltip, new RegExp(`Cooling \\(${MODEL}\\): until ${adaClock}: 429 Too Many Requests: Quota exceeded`), tooltip);
    await shot('4-model-cooling');
    await vs.page.mouse.move(900, 400);

    // A 401 makes the proxy refresh and retry once; a second 401 cools the whole account for 10 min.
    fx.upstream.fail({ kind: 'status', status: 401, email: BOB, times: 2, message: 'Request had invalid authentication credentials.' });
    const before401 = Date.now();
    await fx.chatUntil(async () => fx.upstream.requestsFor(BOB).filter((r) => r.status === 401).length === 2, `${BOB} should get two 401s`);
    const after401 = Date.now();
    const bob = await summary(BOB);
    assert.equal(bob.state, 'cooling');
    const bobCooldown = bob.cooldowns.find((c) => c.model === '*');
    assert.ok(bobCooldown, `an account-wide cooldown: ${JSON.stringify(bob.cooldowns)}`);
    assert.ok(bobCooldown.until * 1000 >= before401 + 599_000 && bobCooldown.until * 1000 <= after401 + 601_000,
      `two 401s cool the account 10 min: until ${bobCooldown.until}, failed between ${before401} and ${after401} ms`);
    const bobRow = await vs.waitForRow(BOB, (d) => d.startsWith('cooling'), `${BOB}'s row should turn cooling`);
    assert.match(bobRow.description, new RegExp(`^cooling until ${hhmm(bobCooldown.until)} \\(401 Unauthorized\\)(?:${TODAY})?$`));
    assert.match(bobRow.iconClass, /codicon-watch/);
    assert.deepEqual((await fx.healthz())?.accounts, { total: 3, healthy: 2, cooling: 1, proxy_disabled: 0, disabled: 0 });
    await waitForStatus(new RegExp(`^2/3 :${fx.proxyPort}$`), `while ${BOB} cools`);
    // Cooldowns live in memory: the files still say both accounts serve.
    for (const email of [ADA, BOB]) {
      const file = await fx.account(email);
      assert.equal(file.disabled, false, `${email}'s file`);
      assert.equal(file.proxy_disabled, false, `${email}'s file`);
    }
    await shot('5-cooling');

    await vs.viewTitleMenu('Reset Cooldowns');
    await toast('cooldowns reset', 'a notification should confirm the reset');
    await vs.waitForRow(BOB, (d) => d.startsWith('healthy'), `${BOB}'s row should turn healthy`);
    const adaAfter = await vs.waitForRow(ADA, (d) => !d.includes('cooling'), `${ADA}'s row should no longer say a model is cooling`);
    assert.match(adaAfter.description, new RegExp(`^healthy · ${USED}${TODAY}$`));
    assert.match((await vs.findTreeRow(BOB))?.iconClass ?? '', /codicon-pass/);
    assert.deepEqual((await adminAccounts()).map((a) => [a.email, a.state, a.cooldowns.length]).sort(),
      [[ADA, 'healthy', 0], [BOB, 'healthy', 0], [CY, 'healthy', 0]]);
    await waitForStatus(new RegExp(`^3/3 :${fx.proxyPort}$`), 'after Reset Cooldowns');
    const served = fx.upstream.requestsFor(ADA).filter((r) => r.status === 200).length;
    await fx.chatUntil(async () => fx.upstream.requestsFor(ADA).filter((r) => r.status === 200).length > served, `${ADA} should serve again`);
    await shot('6-reset');
  });

  test('Import gcloud Credentials adds the ADC account with gcloud\'s OAuth client; a service_account file is refused', async () => {
    await knownState([ADA, BOB, CY]);
    const adcToken = eveAdcToken();
    await writeAdcFile(adcToken);

    await vs.runCommand('Token Pool: Import gcloud Credentials');
    await toast(`Added ${EVE} to the pool.`, 'a notification should confirm the imported account');
    const eveRow = await vs.waitForRow(EVE, (d) => d.startsWith('healthy'), `a healthy row for ${EVE}`);
    assert.match(eveRow.iconClass, /codicon-pass/);
    assert.deepEqual((await vs.treeRows()).map((r) => r.label), [ADA, BOB, CY, EVE]);
    const eve = await fx.account(EVE);
    assert.equal(eve.token.client_id, GCLOUD_CLIENT.id, 'the account keeps the OAuth client its refresh token belongs to');
    assert.equal(eve.token.client_secret, GCLOUD_CLIENT.secret);
    assert.equal(eve.token.refresh_token, adcToken);
    assert.equal(eve.project_id, QUOTA_PROJECT, 'the quota project becomes the account\'s project');
    await waitForStatus(new RegExp(`^4/4 :${fx.proxyPort}$`), `after importing ${EVE}`);
    await progressGone('importing gcloud credentials');
    await shot('7-imported');

    // The token refreshes with gcloud's client (the fake refuses it with the configured one).
    assert.equal((await refreshAtFake(adcToken)).body.error, 'unauthorized_client');
    const calls = fx.google.tokenCalls(EVE);
    await vs.treeContextMenu(EVE, 'Refresh Token Now');
    await toast(`token refreshed: ${EVE}`, `a notification should say ${EVE}'s token was refreshed`);
    assert.ok(fx.google.tokenCalls(EVE) > calls, 'the refresh reached the fake');

    await vs.clearNotifications();
    const filesBefore = await accountFiles();
    await fs.writeFile(adcFile(), JSON.stringify({
      type: 'service_account', project_id: 'some-project', private_key_id: 'abc123',
      private_key: '-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n',
      client_email: 'robot@some-project.iam.gserviceaccount.com', client_id: '123456789',
    }, null, 2));
    await vs.runCommand('Token Pool: Import gcloud Credentials');
    const error = await toast('service_account', 'an error notification should name the file\'s type');
    assert.equal(error.message,
      'Token Pool: import gcloud credentials: the gcloud credentials have type "service_account"; only "authorized_user" credentials ' +
      `(from "gcloud auth application-default login") can be imported: ${adcFile()}`);
    assert.match(await vs.page.locator('.notifications-toasts .notification-list-item').filter({ hasText: 'service_account' })
      .locator('.codicon').first().getAttribute('class') ?? '', /codicon-error/, 'shown as an error');
    assert.deepEqual(await accountFiles(), filesBefore, 'no account file was written');
    assert.equal((await vs.treeRows()).length, 4);
    await progressGone('importing gcloud credentials');
    // The toast shows one line; expanded, the picture shows the whole message.
    const errorToast = vs.page.locator('.notifications-toasts .notification-list-item').filter({ hasText: 'service_account' }).first();
    await errorToast.hover();
    await errorToast.locator('.codicon-notifications-expand').click();
    await shot('8-service-account-refused');
  });

  test('Remove asks first; "Remove" deletes the file only, "Remove and Revoke" also revokes the refresh token at Google', async () => {
    await knownState([ADA, BOB, CY, EVE]);
    const eveFile = await fx.account(EVE);
    const eveId = eveFile.id;
    await vs.treeContextMenu(EVE, 'Remove');
    const dialog = await vs.dialog();
    assert.equal(dialog.message, `Remove ${EVE} from Token Pool?`);
    assert.match(dialog.detail, /"Remove and Revoke" also revokes the refresh token at Google/);
    assert.deepEqual([...dialog.buttons].sort(), ['Cancel', 'Remove', 'Remove and Revoke']);
    await shot('9-remove-dialog');
    await vs.clickDialogButton('Remove');
    await vs.waitFor(async () => !(await vs.findTreeRow(EVE)), { message: `${EVE}'s row should disappear` });
    assert.ok(!(await accountFiles()).includes(`${eveId}.json`), `accounts/${eveId}.json is deleted`);
    const eveRefresh = await refreshAtFake(eveFile.token.refresh_token, GCLOUD_CLIENT);
    assert.equal(eveRefresh.status, 200, `a plain Remove leaves the token valid: ${JSON.stringify(eveRefresh.body)}`);

    const cyId = (await fx.account(CY)).id;
    const cyToken = (await fx.account(CY)).token.refresh_token;
    assert.equal((await refreshAtFake(cyToken)).status, 200, `${CY}'s token works before the revoke`);
    await vs.treeContextMenu(CY, 'Remove');
    assert.equal((await vs.dialog()).message, `Remove ${CY} from Token Pool?`);
    await vs.clickDialogButton('Remove and Revoke');
    await vs.waitFor(async () => !(await vs.findTreeRow(CY)), { message: `${CY}'s row should disappear` });
    assert.deepEqual((await vs.treeRows()).map((r) => r.label), [ADA, BOB]);
    assert.ok(!(await accountFiles()).includes(`${cyId}.json`), `accounts/${cyId}.json is deleted`);
    assert.equal((await accountFiles()).length, 2);
    const revoked = await vs.waitFor(async () => {
      const answer = await refreshAtFake(cyToken);
      return answer.status === 400 ? answer : undefined;
    }, { message: `the fake should refuse ${CY}'s revoked refresh token` });
    assert.equal(revoked.body.error, 'invalid_grant');
    assert.deepEqual((await vs.notifications()).filter((n) => /revoking failed/.test(n.message)), [], 'the revoke succeeded');
    await waitForStatus(new RegExp(`^2/2 :${fx.proxyPort}$`), 'after removing two accounts');
    assert.deepEqual((await fx.healthz())?.accounts, { total: 2, healthy: 2, cooling: 0, proxy_disabled: 0, disabled: 0 });
    await shot('10-removed');
  });
});
