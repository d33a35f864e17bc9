/**
 * The status bar item `tokenpool.status`: serving (healthy/total and port), served by another
 * window, port taken by another program, stopped. The text comes from the pure statusView.ts;
 * clicking it opens the `tokenpool.statusMenu` quick pick.
 */
import * as vscode from 'vscode';
import { Commands, ContextKeys, STATUS_BAR_ID } from './ids';
import { debounce, DisposableBase, every } from './lifecycle';
import type { ProxyController } from './proxyController';
import type { PoolRuntime } from './runtime';
import { statusView } from './statusView';

export class ProxyStatusBar extends DisposableBase {
  private readonly item = this._register(vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Right, 100));

  constructor(
    private readonly runtime: PoolRuntime,
    private readonly proxy: ProxyController,
  ) {
    super();
    this.item.name = 'Token Pool';
    this.item.command = Commands.statusMenu;
    const update = this._register(debounce(() => this.update(), 100));
    this._register(runtime.onDidChange(update));
    this._register(proxy.onDidChange(() => this.update()));
    // Cooldowns end with time: the healthy count moves without a pool event.
    this._register(every(15_000, () => this.update()));
    this.update();
    this.item.show();
  }

  private update(): void {
    const state = this.proxy.state;
    const view = statusView(state, this.runtime.current?.pool.counts());
    this.item.text = view.text;
    this.item.tooltip = `${view.tooltip}\n\nClick for proxy actions.`;
    this.item.backgroundColor = view.background ? new vscode.ThemeColor(`statusBarItem.${view.background}Background`) : undefined;
    void vscode.commands.executeCommand('setContext', ContextKeys.serving, state.kind === 'serving');
  }
}
