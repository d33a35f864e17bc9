/**
 * Brings a running window and its pool back to a known state before an end-to-end test, so a test
 * that failed half-way does not hand its leftovers to the next one:
 *   - the browser: only the workbench page, no quick input, menu, dialog, hover, notification or
 *     panel; the window reloaded (new extension host) when the status bar item is gone;
 *   - the fakes: no scripted upstream failures left;
 *   - the proxy: serving in this window;
 *   - the pool: exactly the wanted accounts on disk (extra ones removed, missing or disabled ones
 *     added again with a new refresh token, proxy-disabled ones enabled), no cooldowns;
 *   - the view: Token Pool open at the given side-bar width, listing every wanted account healthy,
 *     and the status bar showing `N/N :port`.
 * It makes no request through the proxy, so `never used` rows stay so.
 */
import { Commands, STATUS_BAR_ID } from '../../src/vscode/ids';
import type { VSCodeSession } from './harness';
import type { PoolFixture } from './pool-fixture';

export interface KnownState {
  /** The accounts the pool must hold, by email. */
  accounts: string[];
  /** Puts a missing or disabled account back; default: a new refresh token at the fake, added through the CLI. */
  add?: (email: string) => Promise<void>;
  /** Width of the side bar in pixels; default 480 (room for long row descriptions). */
  sideBarWidth?: number;
}

/** How long the status bar item may be missing before the window is reloaded. */
const STATUS_BAR_GRACE_MS = 10_000;

export async function startFromKnownState(vs: VSCodeSession, fx: PoolFixture, wanted: KnownState): Promise<void> {
  fx.upstream.clearFailures();
  await resetBrowser(vs);
  await ensureServing(vs);
  await resetPool(fx, wanted);
  await resetView(vs, fx, wanted);
}

async function resetBrowser(vs: VSCodeSession): Promise<void> {
  for (const page of vs.context.pages()) if (page !== vs.page) await page.close();
  const statusBarShown = await vs.waitFor(async () => (await vs.statusBarText(STATUS_BAR_ID)) !== undefined,
    { timeoutMs: STATUS_BAR_GRACE_MS, screenshot: false }).catch(() => false);
  if (!statusBarShown) {
    await vs.screenshot(`no-status-bar-${Date.now()}`).catch(() => undefined);
    await vs.reloadWindow();
  }
  // Quick input, context menu, dialog, hover: each closes on Escape.
  for (let i = 0; i < 3; i++) {
    await vs.page.keyboard.press('Escape');
    await vs.page.waitForTimeout(100);
  }
  await vs.page.mouse.move(800, 300);
  await vs.clearNotifications();
  await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.closePanel'));
}

async function ensureServing(vs: VSCodeSession): Promise<void> {
  const text = await vs.statusBarText(STATUS_BAR_ID);
  if (text === 'stopped' || text === 'Token Pool') {
    await vs.probe((vscode, command) => vscode.commands.executeCommand(command), Commands.startProxy);
  }
}

async function resetPool(fx: PoolFixture, wanted: KnownState): Promise<void> {
  const add = wanted.add ?? (async (email: string) => { await fx.addAccount(email); });
  const onDisk = await fx.accounts();
  for (const email of onDisk.keys()) {
    if (!wanted.accounts.includes(email)) await fx.cli('accounts', 'remove', email);
  }
  for (const email of wanted.accounts) {
    const account = onDisk.get(email);
    if (!account || account.disabled) await add(email);
    if ((await fx.account(email)).proxy_disabled) await fx.cli('accounts', 'proxy-enable', email);
  }
  // Cooldowns live in the serving window's memory; its admin API resets them.
  const reset = await waitForProxy(fx, () => fetch(`${fx.proxyUrl}/admin/cooldowns/reset`, {
    method: 'POST', headers: { authorization: `Bearer ${fx.apiKey}` },
  }));
  if (reset.status !== 200) throw new Error(`POST /admin/cooldowns/reset answered ${reset.status}: ${await reset.text()}`);
}

/** Retries `call` while nothing listens yet (the proxy may be starting), for up to 30 s. */
async function waitForProxy(fx: PoolFixture, call: () => Promise<Response>): Promise<Response> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the proxy at ${fx.proxyUrl} does not answer: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function resetView(vs: VSCodeSession, fx: PoolFixture, wanted: KnownState): Promise<void> {
  await vs.clickActivityBar('Token Pool');
  const width = wanted.sideBarWidth ?? 480;
  const box = await vs.page.locator('.part.sidebar').boundingBox();
  if (!box || Math.abs(box.width - width) > 8) await vs.resizeSideBar(width);
  const expected = [...wanted.accounts].sort();
  await vs.waitFor(async () => {
    const rows = await vs.treeRows();
    return rows.length === expected.length &&
      rows.every((row) => row.description.startsWith('healthy')) &&
      JSON.stringify(rows.map((row) => row.label).sort()) === JSON.stringify(expected);
  }, { message: `the tree should list ${expected.join(', ') || 'no account'}, every one healthy` });
  const n = expected.length;
  await vs.waitForStatusBar(STATUS_BAR_ID, new RegExp(`^${n}/${n} :${fx.proxyPort}$`), 'from a known state', 60_000);
}
