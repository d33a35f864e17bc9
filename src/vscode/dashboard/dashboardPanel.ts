/**
 * **Token Pool: Dashboard**: one webview panel (revealed again when it is open) whose page is the
 * bundle in dist/webview/. This side only gathers data (DashboardFeed, from the admin API of
 * whichever tokenpool serves) and answers the page's messages: a range, filters, a card's action
 * (the existing account commands), start the proxy. Reading pauses while the panel is hidden; the
 * page keeps its own state (getState/setState) and asks again when it is shown.
 */
import * as vscode from 'vscode';
import { parseToExtension, type ToExtension, type ToPage } from '../../webview/dashboard/protocol';
import { registerCommand } from '../commandRunner';
import { probePortHolder } from '../healthProbe';
import { Commands, DASHBOARD_PANEL_TYPE } from '../ids';
import { DisposableBase } from '../lifecycle';
import type { ProxyController } from '../proxyController';
import type { PoolRuntime } from '../runtime';
import { DashboardFeed } from './dashboardFeed';
import { dashboardHtml, newNonce } from './html';
import { dataSource, needsProbe } from './source';

export class DashboardCommand extends DisposableBase {
  private panel: DashboardPanel | undefined;

  constructor(runtime: PoolRuntime, proxy: ProxyController, extensionUri: vscode.Uri, log: vscode.LogOutputChannel) {
    super();
    this._register(registerCommand(Commands.dashboard, 'dashboard', log, () => {
      if (this.panel) return this.panel.reveal();
      this.panel = new DashboardPanel(runtime, proxy, extensionUri, log);
      this.panel.onDidDispose(() => (this.panel = undefined));
    }));
    this._register({ dispose: () => this.panel?.dispose() });
  }
}

class DashboardPanel extends DisposableBase {
  private readonly panel: vscode.WebviewPanel;
  private readonly feed: DashboardFeed;
  readonly onDidDispose: vscode.Event<void>;

  constructor(
    private readonly runtime: PoolRuntime,
    private readonly proxy: ProxyController,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(DASHBOARD_PANEL_TYPE, 'Token Pool: Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root],
    });
    this.onDidDispose = this.panel.onDidDispose;
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'tokenpool.svg');
    const webview = this.panel.webview;
    this.feed = this._register(new DashboardFeed({
      post: (message: ToPage) => void webview.postMessage(message),
      source: () => this.source(),
      log,
    }));
    this._register(webview.onDidReceiveMessage((raw) => void this.receive(parseToExtension(raw))));
    this._register(this.panel.onDidChangeViewState(() => {
      if (!this.panel.visible) this.feed.stop(); // the page says `ready` again when it is shown
    }));
    this._register(proxy.onDidChange(() => void this.feed.reconnect()));
    this._register(runtime.onDidChange(() => void this.feed.refreshAccounts()));
    this._register(this.panel.onDidDispose(() => this.dispose()));
    webview.html = dashboardHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dashboard.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dashboard.css')).toString(),
      nonce: newNonce(),
    });
  }

  reveal(): void {
    this.panel.reveal();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
  }

  private async source() {
    const configured = this.runtime.current?.config.proxy;
    const state = this.proxy.state;
    const holder = configured && needsProbe(state) ? await probePortHolder(configured.host, configured.port, configured.api_key) : undefined;
    return {
      source: dataSource(state, configured ?? { host: '127.0.0.1', port: 0 }, holder),
      apiKey: configured?.api_key ?? '',
    };
  }

  private async receive(message: ToExtension | undefined): Promise<void> {
    if (!message) return;
    try {
      switch (message.type) {
        case 'ready':
          return await this.feed.start(message.range, message.filter);
        case 'range':
          return await this.feed.setRange(message.range);
        case 'filter':
          return await this.feed.setFilter(message.filter);
        case 'action':
          await vscode.commands.executeCommand(Commands[message.action], message.accountId);
          return await this.feed.refreshAccounts();
        case 'startProxy':
          return await vscode.commands.executeCommand(Commands.startProxy);
      }
    } catch (err) {
      this.log.error(`[dashboard] ${(err as Error).message}`);
    }
  }
}
