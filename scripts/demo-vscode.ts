/**
 * `npm run demo:vscode`: the end-to-end sandbox for a person. code-server with the packaged
 * extension, the simulated Google and Vertex AI, and three accounts in a temporary data directory;
 * prints the URL to open and runs until Ctrl-C. Same fixture as the end-to-end tests.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeServerEnv, FAKE_GOOGLE_HOST, productVsix, readSetup, run } from '../test/e2e/harness';
import { PoolFixture } from '../test/e2e/pool-fixture';

async function main(): Promise<void> {
  const setup = readSetup();
  const vsix = productVsix();
  const fixture = await PoolFixture.start();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenpool-demo-vscode-'));
  try {
    for (const email of ['ada@example.com', 'bob@example.com', 'cy@example.com']) await fixture.addAccount(email);
    const userData = path.join(root, 'user-data');
    const extensions = path.join(root, 'extensions');
    const workspace = path.join(root, 'workspace');
    await fs.mkdir(path.join(userData, 'User'), { recursive: true });
    await fs.mkdir(workspace, { recursive: true });
    await fs.writeFile(
      path.join(userData, 'User', 'settings.json'),
      JSON.stringify({ ...fixture.settings, 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' }, null, 2),
    );
    const env = codeServerEnv(setup, {
      ...fixture.env,
      XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
      XDG_DATA_HOME: path.join(root, 'xdg-data'),
    });
    const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
    await run(setup.codeServer, [...common, '--install-extension', vsix, '--force'], { env });

    const port = process.env.PORT ?? '8047';
    const child = spawn(
      setup.codeServer,
      ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ...common, workspace],
      { env, detached: true, stdio: 'ignore' },
    );
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    process.once('exit', stop);

    console.log(`
tokenpool in VS Code (code-server ${setup.codeServerVersion}), against a simulated Google.

  Open            http://127.0.0.1:${port}/  and click the Token Pool icon in the activity bar
  Proxy           ${fixture.proxyUrl}  (API key ${fixture.apiKey})
  Accounts        ada, bob, cy @example.com in ${fixture.dataDir}

Things to try:
  revoke bob at the simulated Google and send a request:  press Enter here
  then "Re-authenticate" on bob's row (sign-in needs ${FAKE_GOOGLE_HOST} mapped to 127.0.0.1 in your browser,
  e.g. chromium --host-resolver-rules="MAP ${FAKE_GOOGLE_HOST} 127.0.0.1")
  the CLI on the same pool:  node dist/cli.js accounts list --data-dir ${fixture.dataDir}

Ctrl-C stops everything.`);

    process.stdin.on('data', () => {
      void (async () => {
        const bob = await fixture.account('bob@example.com');
        fixture.google.revokeRefreshToken(bob.token.refresh_token);
        fixture.google.expireAccessTokens('bob@example.com');
        for (let i = 0; i < 3; i++) await fixture.chat(`hello #${i}`);
        console.log('bob revoked and three requests sent: his row should now be disabled, with a notification.');
      })();
    });
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM'), once(child, 'exit')]);
    stop();
  } finally {
    await fixture.close();
    await fs.rm(root, { recursive: true, force: true });
    process.exit(0);
  }
}

void main();
