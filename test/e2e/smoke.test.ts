/**
 * The packaged extension (dist/tokenpool.vsix, or $TOKENPOOL_E2E_VSIX) installs and starts in a
 * real VS Code (code-server) on an empty data directory: it activates, registers its commands,
 * shows its view container with the "no accounts" welcome, and serves the proxy on the configured
 * port, which the status bar names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Commands, STATUS_BAR_ID } from '../../src/vscode/ids';
import { launchVSCode, productVsix, type VSCodeSession } from './harness';
import { PoolFixture } from './pool-fixture';

describe('Token Pool installs and starts in code-server', { timeout: 300_000 }, () => {
  let fx: PoolFixture;
  let vs: VSCodeSession;

  before(async () => {
    fx = await PoolFixture.start();
    vs = await launchVSCode({ name: 'smoke', extensions: [productVsix()], env: fx.env, settings: fx.settings });
    console.log(`# code-server: install ${vs.timings.installMs} ms, start ${vs.timings.serverStartMs} ms, ` +
      `workbench ${vs.timings.workbenchMs} ms, extension host ${vs.timings.extensionHostMs} ms`);
  });

  after(async () => {
    await vs?.stop();
    await fx?.close();
  });

  test('the extension activates and registers its commands', async () => {
    const active = await vs.waitFor(() => vs.probe((vscode) => vscode.extensions.getExtension('tokenpool.tokenpool')?.isActive),
      { message: 'tokenpool.tokenpool should be active' });
    assert.equal(active, true);
    const registered = await vs.probe((vscode) => vscode.commands.getCommands(true));
    assert.deepEqual(Object.values(Commands).filter((id) => !registered.includes(id)), [], 'every command is registered');
  });

  test('the activity bar opens the Accounts view, which says there are no accounts yet', async () => {
    await vs.clickActivityBar('Token Pool');
    await vs.waitFor(async () => /No Google accounts in the pool yet/.test(await vs.page.locator('.sidebar').innerText()),
      { message: 'the Accounts view should show its welcome text' });
    assert.deepEqual(await vs.treeRows(), []);
    await vs.screenshot('empty');
  });

  test('the proxy serves on the configured port and the status bar says so', async () => {
    const text = await vs.waitFor(async () => {
      const value = await vs.statusBarText(STATUS_BAR_ID);
      return value?.includes(`:${fx.proxyPort}`) ? value : undefined;
    }, { message: `the status bar should name port ${fx.proxyPort}` });
    assert.match(text, new RegExp(`^\\s*0/0 :${fx.proxyPort}\\s*$`));
    const health = await vs.waitFor(() => fx.healthz(), { message: 'the proxy should answer /healthz' });
    assert.equal(health.status, 'unavailable', 'no account: /healthz says unavailable (503)');
    assert.deepEqual(health.accounts, { total: 0, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 0 });
  });
});
