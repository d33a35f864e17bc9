/**
 * Token Pool: Dashboard in a real VS Code (code-server, driven through chromium), against
 * FakeGoogle and FakeUpstream in this process, with two accounts seeded through the `tokenpool`
 * command. It opens the dashboard from the palette, sends requests through the proxy and watches
 * the chart and the request table follow them live, filters the table, opens a failed-over row's
 * attempts with the keyboard, watches a cooldown count down on its card, runs a card's action,
 * hides the panel and finds it as it was, and takes its picture in a dark and a light theme. The
 * figures on screen are checked against what the fake upstream served and the admin API says.
 * Screenshots go to test-results/e2e/dashboard-*.png; with TOKENPOOL_E2E_README_SCREENSHOTS=1 the
 * two themes' pictures are also copied to media/screenshots/ for the README.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import type { AccountSummary } from '../../src/core/account';
import { launchVSCode, productVsix, repoRoot, type VSCodeSession } from './harness';
import { startFromKnownState } from './known-state';
import { MODEL, PoolFixture } from './pool-fixture';

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const mediaDir = path.join(repoRoot, 'media', 'screenshots');
const refreshReadmePictures = process.env.TOKENPOOL_E2E_README_SCREENSHOTS === '1';

/** What the page's DOM offers the functions run in it (the project compiles without the DOM lib). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
declare const document: { body: unknown };
declare function getComputedStyle(element: unknown): { getPropertyValue(name: string): string; backgroundColor: string };

describe('Token Pool: Dashboard in code-server', { timeout: 400_000 }, () => {
  let fx: PoolFixture;
  let vs: VSCodeSession;
  const started = Date.now();

  /** The dashboard page: code-server puts a webview in an iframe, and its content in another. */
  const page = (): FrameLocator => vs.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const shot = async (name: string, media?: string): Promise<void> => {
    await vs.page.mouse.move(1100, 16); // no hover in the picture (an empty part of the title bar)
    await vs.page.waitForTimeout(400);
    const file = await vs.screenshot(name);
    if (media && refreshReadmePictures) {
      await fs.mkdir(mediaDir, { recursive: true });
      await fs.copyFile(file, path.join(mediaDir, media));
    }
  };
  const adminAccounts = async (): Promise<AccountSummary[]> => {
    const response = await fetch(`${fx.proxyUrl}/admin/accounts`, { headers: { authorization: `Bearer ${fx.apiKey}` } });
    assert.equal(response.status, 200);
    return ((await response.json()) as { accounts: AccountSummary[] }).accounts;
  };
  /** The table's rows as the user reads them: id, and the text of each cell. */
  const tableRows = async (): Promise<{ id: string; cells: string[]; expanded: string }[]> =>
    page().locator('tr.request').evaluateAll((rows) => rows.map((row) => ({
      id: row.getAttribute('data-id') ?? '',
      cells: Array.from(row.querySelectorAll('td')).map((td) => (td as unknown as { innerText: string }).innerText.trim()),
      expanded: row.getAttribute('aria-expanded') ?? '',
    })));
  const chartTitle = (metric: string) => page().locator(`figure[data-metric="${metric}"] h3`);
  /** How many pixels of the chart's canvas are drawn in the first series' colour (the theme's --vscode-charts-blue). */
  const firstSeriesPixels = (metric: string): Promise<number> =>
    page().locator(`figure[data-metric="${metric}"] canvas`).evaluate((element) => {
      const canvas = element as unknown as PageCanvas;
      const css = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim();
      const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(css);
      if (!hex) throw new Error(`--vscode-charts-blue is ${JSON.stringify(css)}`);
      const [r, g, b] = [hex[1], hex[2], hex[3]].map((h) => parseInt(h, 16));
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) < 3 && Math.abs(data[i + 1] - g) < 3 && Math.abs(data[i + 2] - b) < 3 && data[i + 3] > 250) count++;
      }
      return count;
    });
  const card = (email: string) => page().locator(`article.card[data-account="${email}"]`);
  const upstreamServed = (): number => fx.upstream.requestsFor(ADA).concat(fx.upstream.requestsFor(BOB)).filter((r) => r.status === 200).length;

  before(async () => {
    fx = await PoolFixture.start();
    for (const email of [ADA, BOB]) await fx.addAccount(email);
    vs = await launchVSCode({ name: 'dashboard', extensions: [productVsix()], env: fx.env, settings: fx.settings });
    await startFromKnownState(vs, fx, { accounts: [ADA, BOB], sideBarWidth: 300 });
  });

  after(async () => {
    await vs?.stop();
    await fx?.close();
    console.log(`# dashboard: ${Date.now() - started} ms in all`);
  });

  test('opens from the palette with a card per account; the chart and the table follow requests live', async () => {
    await vs.runCommand('Token Pool: Dashboard');
    await vs.page.locator('.tab', { hasText: 'Token Pool: Dashboard' }).first().waitFor();
    await page().locator('.source', { hasText: `Live from ${fx.proxyUrl} (served by this window)` }).waitFor({ timeout: 30_000 });
    for (const email of [ADA, BOB]) {
      await card(email).waitFor();
      assert.equal((await card(email).locator('.badge').innerText()).trim(), 'healthy');
      assert.deepEqual(await card(email).locator('.actions button').allInnerTexts(), ['Disable']);
    }
    await page().locator('table.requests', { hasText: 'No requests yet.' }).waitFor();
    assert.equal(await firstSeriesPixels('requests'), 0, 'nothing drawn before any request');

    for (let i = 0; i < 4; i++) {
      const answer = await fx.chat(`dashboard ${i}`);
      assert.equal(answer.status, 200, answer.body);
      // Each request appears in the table as it ends, newest on top, without any reload.
      await vs.waitFor(async () => (await tableRows()).length === i + 1, { message: `the table should show ${i + 1} requests` });
    }
    const rows = await tableRows();
    assert.equal(upstreamServed(), 4);
    assert.deepEqual(rows.map((r) => r.cells[4]), ['ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(rows.map((r) => r.cells[2]), [MODEL, MODEL, MODEL, MODEL]);
    assert.deepEqual(new Set(rows.map((r) => r.cells[1])), new Set([ADA, BOB]), 'round robin: both accounts served');
    // The usage is read again shortly after new requests: the chart counts the four.
    await vs.waitFor(async () => /^Requests per hour · 4 in 24 h$/.test(await chartTitle('requests').innerText()),
      { message: 'the requests chart should count 4', timeoutMs: 30_000 });
    assert.ok(await firstSeriesPixels('requests') > 20, 'the bars are drawn in the first series\' colour');
    await page().locator(`figure[data-metric="tokens"] h3`, { hasText: /^Tokens per hour · [1-9]/ }).waitFor();
    assert.match(await card(ADA).locator('.figures').innerText(), /^24 h: 2 requests · [1-9][\d.k]* tokens · no errors$/);
    await shot('1-live');
  });

  test('a request that failed over opens its attempts from the keyboard; the cooled account counts down', async () => {
    fx.upstream.fail({ kind: 'status', status: 429, retryDelay: '120s', email: ADA, message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute' });
    await fx.chatUntil(async () => fx.upstream.requestsFor(ADA).some((r) => r.status === 429), `${ADA} should get the scripted 429`);
    const failedOver = await vs.waitFor(async () => (await tableRows()).find((r) => /^1 failed/.test(r.cells[8])),
      { message: 'a row should show one failed attempt' });
    assert.equal(failedOver.cells[1], BOB, 'the request was served by the other account');
    assert.equal(failedOver.cells[4], 'ok');

    const row = page().locator(`tr.request[data-id="${failedOver.id}"]`);
    await row.focus();
    await vs.page.keyboard.press('Enter');
    const details = page().locator(`tr.details[data-details-of="${failedOver.id}"]`);
    await details.waitFor();
    assert.equal(await row.getAttribute('aria-expanded'), 'true');
    const attempts = await details.locator('table.attempts tbody tr').evaluateAll((trs) => trs.map((tr) =>
      Array.from(tr.querySelectorAll('td')).map((td) => (td as unknown as { innerText: string }).innerText.trim())));
    assert.equal(attempts.length, 1, JSON.stringify(attempts));
    assert.deepEqual(attempts[0].slice(0, 3), ['1', ADA, '429']);

    // ADA's model cools for the RetryInfo delay; the card counts it down every second.
    const countdown = card(ADA).locator('.countdown').first();
    await countdown.waitFor({ timeout: 15_000 });
    const first = await countdown.innerText();
    assert.match(first, /^[12]:\d\d$/);
    assert.match(await card(ADA).locator('.cooldown').first().innerText(), new RegExp(`^${MODEL}: [12]:\\d\\d left\\s+429 Too Many Requests`));
    await vs.waitFor(async () => (await countdown.innerText()) !== first, { message: 'the countdown should move', timeoutMs: 5000 });
    await shot('2-attempts');

    // Space closes the row again.
    await row.focus();
    await vs.page.keyboard.press(' ');
    await details.waitFor({ state: 'detached' });
  });

  test('filters narrow the table, new requests that pass them come in live, and the panel comes back as it was', async () => {
    await page().locator('#filter-account').selectOption(BOB);
    await vs.waitFor(async () => {
      const rows = await tableRows();
      return rows.length > 0 && rows.every((r) => r.cells[1] === BOB);
    }, { message: `the table should only show ${BOB}'s requests` });
    const bobRows = (await tableRows()).length;
    for (let i = 0; i < 2; i++) assert.equal((await fx.chat(`filtered ${i}`)).status, 200);
    // ADA cools (429 above), so BOB serves both: both come in; no row of another account does.
    await vs.waitFor(async () => (await tableRows()).length === bobRows + 2, { message: 'two more rows of BOB' });
    assert.ok((await tableRows()).every((r) => r.cells[1] === BOB));

    await page().locator('#filter-outcome').selectOption('upstream_error');
    await page().locator('table.requests', { hasText: 'No requests yet.' }).waitFor();
    await page().locator('#filter-outcome').selectOption('ok');
    await vs.waitFor(async () => (await tableRows()).length === bobRows + 2, { message: 'the ok rows of BOB' });
    const expand = (await tableRows())[0].id;
    await page().locator(`tr.request[data-id="${expand}"]`).click();
    await page().locator(`tr.details[data-details-of="${expand}"]`).waitFor();
    await shot('3-filtered');

    // Another editor in the same group hides the panel; back on its tab, the page is as it was.
    await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.files.newUntitledFile'));
    await vs.waitFor(async () => (await vs.page.locator('iframe.webview.ready:visible').count()) === 0, { message: 'the dashboard should be hidden' });
    await vs.page.locator('.tab', { hasText: 'Token Pool: Dashboard' }).first().click();
    await page().locator(`tr.details[data-details-of="${expand}"]`).waitFor({ timeout: 20_000 });
    assert.equal(await page().locator('#filter-account').inputValue(), BOB);
    assert.equal(await page().locator('#filter-outcome').inputValue(), 'ok');
    await vs.waitFor(async () => (await tableRows()).length === bobRows + 2, { message: 'the same rows after the panel came back' });

    await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.closeOtherEditors'));
    await page().locator(`tr.request[data-id="${expand}"]`).click();
    await page().locator(`tr.details[data-details-of="${expand}"]`).waitFor({ state: 'detached' });
    await page().locator('button', { hasText: 'Clear filters' }).click();
    await vs.waitFor(async () => new Set((await tableRows()).map((r) => r.cells[1])).size === 2, { message: 'both accounts again' });
  });

  test('ranges and stacking redraw the charts; a card\'s Disable and Enable run the account commands', async () => {
    await page().locator('button[data-range="7d"]').click();
    await vs.waitFor(async () => /^Requests per hour · \d+ in 7 d$/.test(await chartTitle('requests').innerText()), { message: 'the 7 d range' });
    await page().locator('button[data-range="30d"]').click();
    await vs.waitFor(async () => /^Requests per day · \d+ in 30 d$/.test(await chartTitle('requests').innerText()), { message: 'the 30 d range' });
    assert.equal(await page().locator('button[data-range="30d"]').getAttribute('aria-pressed'), 'true');
    await page().locator('button[data-stack="model"]').click();
    assert.match(await page().locator('figure[data-metric="requests"] canvas').getAttribute('aria-label') ?? '', /stacked by model/);
    await page().locator('button[data-range="24h"]').click();
    await page().locator('button[data-stack="account"]').click();

    await card(BOB).locator('button', { hasText: 'Disable' }).click();
    await vs.waitFor(async () => (await adminAccounts()).find((a) => a.email === BOB)?.state === 'proxy_disabled', { message: `${BOB} should be proxy disabled` });
    await card(BOB).locator('.badge', { hasText: 'proxy disabled' }).waitFor();
    await card(BOB).locator('button', { hasText: 'Enable' }).click();
    await vs.waitFor(async () => (await adminAccounts()).find((a) => a.email === BOB)?.state === 'healthy', { message: `${BOB} should be healthy again` });
    await card(BOB).locator('.badge', { hasText: 'healthy' }).waitFor();
  });

  test('a request every account failed: the errors chart counts it, the outcome filter finds it, its row lists both attempts', async () => {
    const reset = await fetch(`${fx.proxyUrl}/admin/cooldowns/reset`, { method: 'POST', headers: { authorization: `Bearer ${fx.apiKey}` } });
    assert.equal(reset.status, 200);
    await vs.waitFor(async () => (await page().locator('.countdown').count()) === 0, { message: 'no cooldown on the cards after the reset' });
    fx.upstream.fail({ kind: 'status', status: 503, times: 2, message: 'The service is currently unavailable.' });
    const answer = await fx.chat('both fail');
    assert.equal(answer.status, 503, answer.body);

    await vs.waitFor(async () => /^Errors per hour · 1 in 24 h$/.test(await chartTitle('errors').innerText()),
      { message: 'the errors chart should count 1', timeoutMs: 30_000 });
    await page().locator('#filter-outcome').selectOption('upstream_error');
    const failed = await vs.waitFor(async () => {
      const rows = await tableRows();
      return rows.length === 1 && rows[0].cells[4] === 'upstream_error' ? rows[0] : undefined;
    }, { message: 'the one failed request under its outcome' });
    assert.equal(failed.cells[5], '503');
    assert.match(failed.cells[8], /^2 failed/);
    await page().locator(`tr.request[data-id="${failed.id}"]`).click();
    const attempts = await page().locator(`tr.details[data-details-of="${failed.id}"] table.attempts tbody tr`).evaluateAll((trs) => trs.map((tr) =>
      Array.from(tr.querySelectorAll('td')).map((td) => (td as unknown as { innerText: string }).innerText.trim()).slice(1, 3)));
    assert.deepEqual(attempts.map((a) => a[1]), ['503', '503']);
    assert.deepEqual(new Set(attempts.map((a) => a[0])), new Set([ADA, BOB]), 'one attempt on each account');
    // A 5xx cools the whole account: both cards say so and count down.
    for (const email of [ADA, BOB]) await card(email).locator('.badge', { hasText: 'cooling' }).waitFor();
    assert.equal(await page().locator('.countdown').count(), 2);
    await page().locator('button', { hasText: 'Clear filters' }).click();
    await vs.waitFor(async () => (await tableRows()).length > 1, { message: 'every request again' });
    assert.equal(await page().locator(`tr.details[data-details-of="${failed.id}"]`).count(), 1, 'the opened row stays open');
  });

  test('the theme\'s colours: a picture in the dark and in the light theme', async () => {
    const background = () => page().locator('body').evaluate((body) => getComputedStyle(body).backgroundColor);
    await vs.probe((vscode) => vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global));
    await vs.waitFor(async () => (await background()) === 'rgb(31, 31, 31)', { message: 'the dark editor background' });
    await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.closeSidebar'));
    await page().locator('header.top').evaluate((top) => (top as unknown as { scrollIntoView(): void }).scrollIntoView());
    await shot('4-dark', 'dashboard-dark.png');
    await vs.probe((vscode) => vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global));
    await vs.waitFor(async () => (await background()) === 'rgb(255, 255, 255)', { message: 'the light editor background' });
    await page().locator('table.requests').waitFor();
    await shot('5-light', 'dashboard-light.png');
  });
});
