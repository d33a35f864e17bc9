/**
 * Wiring only: settings → runtime (config, account store, OAuth client, pool) → proxy, views,
 * commands, auth provider. Every long-lived object goes into context.subscriptions; deactivate()
 * returns the promise that closes the server.
 */
import * as vscode from 'vscode';
import { version } from '../core/version';
import { registerAccountCommands } from './accountCommands';
import { AccountsTree } from './accountsTree';
import { GoogleAuthProvider } from './authProvider';
import { DashboardCommand } from './dashboard/dashboardPanel';
import { registerChatProvider } from './chat/chatProvider';
import { DisabledAccountNotifier } from './disabledNotifier';
import { LOG_CHANNEL_NAME } from './ids';
import { ProxyController } from './proxyController';
import { registerProxyCommands, reportStart } from './proxyCommands';
import { PoolRuntime } from './runtime';
import { loadSettings, onDidChangeSettings, proxyAutoStart, showConfigError } from './settings';
import { ProxyStatusBar } from './statusBar';

let shutdown: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel(LOG_CHANNEL_NAME, { log: true });
  const runtime = new PoolRuntime(loadSettings, log);
  const proxy = new ProxyController({ runtime, log, version });
  shutdown = async () => {
    await proxy.close();
    await runtime.close();
  };
  const auth = new GoogleAuthProvider(runtime, log);

  context.subscriptions.push(
    log,
    runtime,
    proxy,
    auth,
    runtime.onDidFail((err) => void showConfigError(err)),
    onDidChangeSettings(() => void runtime.refresh()),
    new AccountsTree(runtime, proxy),
    new ProxyStatusBar(runtime, proxy),
    new DisabledAccountNotifier(runtime),
    new DashboardCommand(runtime, proxy, context.extensionUri, log),
    registerChatProvider(runtime, proxy, log),
    ...registerAccountCommands(runtime, auth, log),
    ...registerProxyCommands(runtime, proxy, log),
  );

  await runtime.refresh();
  if (proxyAutoStart()) void proxy.start().then((state) => reportStart(state, false));
}

export function deactivate(): Promise<void> | undefined {
  return shutdown?.();
}
