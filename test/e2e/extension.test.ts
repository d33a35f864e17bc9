/**
 * Token Pool in a real VS Code (code-server 4.139.1 = VS Code 1.139.1, driven through chromium), against
 * FakeGoogle and FakeUpstream running in this process, with a data directory seeded with three
 * accounts through the `tokenpool` command. The tests share one window, and each starts from a
 * known state (startFromKnownState: the accounts it needs, all healthy, no cooldowns, the proxy
 * serving) and makes the rest of what it needs itself, so a failed one does not fail the next. Screenshots of each state go to test-results/e2e/
 * (git-ignored); with TOKENPOOL_E2E_README_SCREENSHOTS=1 (`npm run screenshots`) the main ones are
 * also copied to media/screenshots/, the README's pictures. A plain test run changes no tracked file.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STATUS_BAR_ID } from '../../src/vscode/ids';
import { launchVSCode, productVsix, repoRoot, type VSCodeSession } from './harness';
import { startFromKnownState } from './known-state';
import { PoolFixture, TODAY } from './pool-fixture';

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const CY = 'cy@example.com';
const DAN = 'dan@example.com';
const mediaDir = path.join(repoRoot, 'media', 'screenshots');
/** Set by `npm run screenshots`: refresh the README's pictures too. */
const refreshReadmePictures = process.env.TOKENPOOL_E2E_README_SCREENSHOTS === '1';

describe('Token Pool extension in code-server', { timeout: 600_000 }, () => {
  let fx: PoolFixture;
  let vs: VSCodeSession;

  /** `expected` is the whole text, e.g. `3/3 :PORT` (no regular-expression characters). */
  const waitForStatus = (expected: string, message: string): Promise<string> =>
    vs.waitForStatusBar(STATUS_BAR_ID, new RegExp(`^${expected}$`), message);
  const shot = async (name: string, media?: string): Promise<void> => {
    await vs.page.mouse.move(800, 300); // no hover tooltip in the picture
    await vs.page.waitForTimeout(500); // let toasts finish their animation
    const file = await vs.screenshot(name);
    if (media && refreshReadmePictures) {
      await fs.mkdir(mediaDir, { recursive: true });
      await fs.copyFile(file, path.join(mediaDir, media));
    }
  };

  const knownState = (accounts: string[]): Promise<void> => startFromKnownState(vs, fx, { accounts });
  const disabledToast = (email: string) => vs.waitFor(async () => (await vs.notifications()).find((n) => n.message.includes(`${email} was disabled`)),
    { message: `a notification should say ${email} was disabled` });
  /** Revokes the account's refresh token at the fake and sends requests until the pool disables it. */
  const revokeUntilDisabled = async (email: string): Promise<void> => {
    fx.google.revokeRefreshToken((await fx.account(email)).token.refresh_token);
    fx.google.expireAccessTokens(email);
    await fx.chatUntil(async () => (await fx.account(email)).disabled, `${email} should be disabled`);
  };

  before(async () => {
    fx = await PoolFixture.start();
    for (const email of [ADA, BOB, CY]) await fx.addAccount(email);
    vs = await launchVSCode({ name: 'extension', extensions: [productVsix()], env: fx.env, settings: fx.settings });
  });

  after(async () => {
    await vs?.stop();
    await fx?.close();
  });

  test('the status bar shows the port and 3/3 healthy; the tree lists the three seeded accounts', async () => {
    await knownState([ADA, BOB, CY]);
    const text = await waitForStatus(`3/3 :${fx.proxyPort}`, 'after start');
    assert.match(text, new RegExp(`^\\s*3/3 :${fx.proxyPort}\\s*$`));
    const rows = await vs.waitFor(async () => {
      const found = await vs.treeRows();
      return found.length === 3 ? found : undefined;
    }, { message: 'the Accounts tree should list three accounts' });
    assert.deepEqual(rows.map((r) => r.label), [ADA, BOB, CY]);
    for (const r of rows) {
      assert.match(r.description, /^healthy · never used$/, `${r.label}: ${r.description}`);
      assert.match(r.iconClass, /codicon-pass/);
    }
    assert.deepEqual((await fx.healthz())?.accounts, { total: 3, healthy: 3, cooling: 0, proxy_disabled: 0, disabled: 0 });
    await shot('1-healthy', 'accounts-healthy.png');
  });

  test('a revoked refresh token disables its row with invalid_grant, notifies once, and is written to its file', async () => {
    await knownState([ADA, BOB, CY]);
    await revokeUntilDisabled(BOB);

    const disabled = await fx.account(BOB);
    assert.equal(disabled.disabled, true);
    assert.equal(typeof disabled.disabled_at, 'number');
    assert.ok(Math.abs((disabled.disabled_at ?? 0) - Date.now() / 1000) < 120, `disabled_at ${disabled.disabled_at} is now`);
    assert.match(disabled.disabled_reason ?? '', /^invalid_grant: Token has been expired or revoked\./);

    const bobRow = await vs.waitForRow(BOB, (d) => d.startsWith('disabled'), `${BOB}'s row should turn disabled`);
    assert.match(bobRow.description, new RegExp(`^disabled · invalid_grant · just now(?:${TODAY})?$`));
    assert.match(bobRow.iconClass, /codicon-error/);
    await waitForStatus(`2/3 :${fx.proxyPort}`, `after ${BOB} was disabled`);

    const toast = await disabledToast(BOB);
    assert.match(toast.message, /invalid_grant: Token has been expired or revoked\./);
    assert.deepEqual(toast.buttons, ['Re-authenticate']);
    await shot('2-disabled', 'account-disabled.png');
    const toasts = (await vs.notifications()).filter((n) => n.message.includes(`${BOB} was disabled`));
    assert.equal(toasts.length, 1, 'one notification, not one per failed request');
  });

  test('Re-authenticate signs in again in the browser; the row turns healthy, the file is cleared and the account serves again', async () => {
    await knownState([ADA, BOB, CY]);
    await revokeUntilDisabled(BOB);
    await disabledToast(BOB);
    const oldRefreshToken = (await fx.account(BOB)).token.refresh_token;
    const consentPage = vs.context.waitForEvent('page', { timeout: 30_000 });
    await vs.clickNotificationButton(`${BOB} was disabled`, 'Re-authenticate');
    // VS Code asks whether the extension may sign in, then whether to open the external website.
    await vs.page.locator('.monaco-dialog-box').waitFor();
    await shot('3a-sign-in-dialog');
    await vs.clickDialogButton('Allow');
    await vs.clickDialogButton('Open');
    const page = await consentPage;
    await page.waitForLoadState('domcontentloaded');
    await vs.waitFor(async () => /Signed in|signed in/.test(await page.locator('body').innerText().catch(() => '')),
      { message: 'the loopback callback page should say the sign-in worked' });
    const callbackUrl = new URL(page.url());
    assert.equal(callbackUrl.hostname, '127.0.0.1', `the browser came back to the loopback listener, not ${page.url()}`);
    await page.close();

    await vs.waitForRow(BOB, (d) => d.startsWith('healthy'), `${BOB}'s row should turn healthy`);
    const healed = await fx.account(BOB);
    assert.equal(healed.disabled, false);
    assert.equal(healed.disabled_at, null);
    assert.equal(healed.disabled_reason, null);
    assert.notEqual(healed.token.refresh_token, oldRefreshToken, 'the new refresh token replaced the revoked one');
    await waitForStatus(`3/3 :${fx.proxyPort}`, 'after re-authentication');

    const servedBefore = fx.upstream.requestsFor(BOB).filter((r) => r.status === 200).length;
    await fx.chatUntil(async () => fx.upstream.requestsFor(BOB).filter((r) => r.status === 200).length > servedBefore,
      `${BOB} should serve a request again`);
    await shot('3-reauthenticated', 'account-reauthenticated.png');
  });

  test('Disable for Proxy and Enable for Proxy from the context menu change the row and the file', async () => {
    await knownState([ADA, BOB, CY]);
    await vs.treeContextMenu(ADA, 'Disable for Proxy');
    await vs.waitForRow(ADA, (d) => new RegExp(`^proxy disabled · manual(?:${TODAY})?$`).test(d), `${ADA}'s row should read "proxy disabled · manual"`);
    const off = await fx.account(ADA);
    assert.equal(off.proxy_disabled, true);
    assert.equal(off.proxy_disabled_reason, 'manual');
    assert.equal(typeof off.proxy_disabled_at, 'number');
    assert.match((await vs.findTreeRow(ADA))?.iconClass ?? '', /codicon-circle-slash/);
    await waitForStatus(`2/3 :${fx.proxyPort}`, `after disabling ${ADA} for the proxy`);
    await shot('4-proxy-disabled', 'account-proxy-disabled.png');

    await vs.treeContextMenu(ADA, 'Enable for Proxy');
    await vs.waitForRow(ADA, (d) => d.startsWith('healthy'), `${ADA}'s row should turn healthy`);
    const on = await fx.account(ADA);
    assert.equal(on.proxy_disabled, false);
    assert.equal(on.proxy_disabled_reason, null);
    await waitForStatus(`3/3 :${fx.proxyPort}`, `after enabling ${ADA} again`);
  });

  test('Add Account by Refresh Token from the command palette adds a row', async () => {
    await knownState([ADA, BOB, CY]);
    const { refreshToken } = fx.google.addUser(DAN);
    await vs.runCommand('Token Pool: Add Account by Refresh Token');
    await vs.answerQuickInput(refreshToken);
    await vs.waitForRow(DAN, (d) => d.startsWith('healthy'), `a healthy row for ${DAN}`);
    assert.equal((await fx.account(DAN)).token.refresh_token, refreshToken);
    await vs.waitFor(async () => (await vs.notifications()).find((n) => n.message.includes(`Added ${DAN} to the pool.`)),
      { message: 'a notification should confirm the new account' });
    assert.deepEqual((await vs.treeRows()).map((r) => r.label), [ADA, BOB, CY, DAN]);
    await waitForStatus(`4/4 :${fx.proxyPort}`, `after adding ${DAN}`);
    await shot('5-added');
  });

  test('with no healthy account the status bar warns and the proxy answers 503', async () => {
    await knownState([ADA, BOB, CY, DAN]);
    // Through the CLI: another process changes the files, this window follows through its watch.
    for (const email of [ADA, BOB, CY, DAN]) await fx.cli('accounts', 'proxy-disable', email);
    const text = await waitForStatus(`0/4 :${fx.proxyPort}`, 'after the CLI disabled every account for the proxy');
    assert.match(text, /0\/4/);
    const item = vs.statusBarItem(STATUS_BAR_ID);
    assert.match(await item.getAttribute('class') ?? '', /warning-kind/, 'the status bar item has the warning colour');
    const response = await fx.chat('nobody home');
    assert.equal(response.status, 503, response.body);
    await shot('6-no-healthy', 'status-no-healthy.png');
  });
});
