/**
 * Start, stop, show log, and the status bar's quick pick (start/stop, copy base URL, copy API key,
 * open the dashboard, show log).
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { registerCommand } from './commandRunner';
import { baseUrl } from './healthProbe';
import { Commands, Settings } from './ids';
import type { ProxyController, ProxyState } from './proxyController';
import type { PoolRuntime } from './runtime';
import { openSettings } from './settings';

/** Tells the user why the proxy is not serving after a start: port taken, or a failure. */
export function reportStart(state: ProxyState, explicit: boolean): void {
  if (state.kind === 'foreign') {
    const message = `Token Pool: port ${state.port} on ${state.host} is in use by another program. Set tokenpool.proxy.port to a free port.`;
    void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => choice && openSettings(Settings.proxyPort));
  } else if (state.kind === 'failed' && explicit) {
    void vscode.window.showErrorMessage(`Token Pool: the proxy cannot start: ${state.message}`);
  } else if (state.kind === 'sibling' && explicit) {
    void vscode.window.showInformationMessage(
      `Token Pool: another window already serves ${baseUrl(state.host, state.port)}; this window takes over when it closes.`,
    );
  }
}

export function registerProxyCommands(runtime: PoolRuntime, proxy: ProxyController, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const logger: Logger = log;
  const start = async () => reportStart(await proxy.start(), true);
  const stop = () => proxy.stop();
  const currentBaseUrl = () => {
    const { host, port } = runtime.require().config.proxy;
    const state = proxy.state;
    return state.kind === 'serving' ? baseUrl(state.host, state.port) : baseUrl(host, port);
  };
  const copyBaseUrl = async () => {
    const url = currentBaseUrl();
    await vscode.env.clipboard.writeText(url);
    vscode.window.setStatusBarMessage(`Token Pool: copied ${url}`, 3000);
  };
  const copyApiKey = async () => {
    await vscode.env.clipboard.writeText(runtime.require().config.proxy.api_key);
    vscode.window.setStatusBarMessage('Token Pool: API key copied', 3000);
  };

  return [
    registerCommand(Commands.startProxy, 'start proxy', logger, start),
    registerCommand(Commands.stopProxy, 'stop proxy', logger, stop),
    registerCommand(Commands.showLog, 'show log', logger, () => log.show()),
    registerCommand(Commands.statusMenu, 'proxy menu', logger, async () => {
      const running = proxy.state.kind !== 'stopped' && proxy.state.kind !== 'failed';
      const items: (vscode.QuickPickItem & { run: () => unknown })[] = [
        running
          ? { label: '$(debug-stop) Stop Proxy', run: stop }
          : { label: '$(play) Start Proxy', run: start },
        { label: '$(copy) Copy Base URL', description: runtime.current ? currentBaseUrl() : undefined, detail: 'OpenAI clients add /v1; Anthropic and Gemini clients use it as is', run: copyBaseUrl },
        { label: '$(key) Copy API Key', run: copyApiKey },
        { label: '$(graph) Open Dashboard', run: () => vscode.commands.executeCommand(Commands.dashboard) },
        { label: '$(output) Show Log', run: () => log.show() },
      ];
      const picked = await vscode.window.showQuickPick(items, { title: 'Token Pool', placeHolder: 'Proxy actions' });
      await picked?.run();
    }),
  ];
}
