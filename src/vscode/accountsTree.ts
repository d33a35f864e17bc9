/**
 * The Accounts view: one row per account from `pool.summaries()`, refreshed on the pool's change
 * event. Row text and icons come from the pure describeAccount.ts; the tooltip (with the token's
 * expiry from the account file) is resolved on hover. Also keeps the context keys the welcome
 * views depend on.
 */
import * as vscode from 'vscode';
import type { AccountSummary } from '../core/account';
import type { UsageLedger } from '../core/usage/ledger';
import { describeAccount, stateIcons, tooltipRows, type AccountUsage } from './describeAccount';
import { accountContextValue, ContextKeys, Views } from './ids';
import { debounce, DisposableBase, every } from './lifecycle';
import type { PoolRuntime } from './runtime';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export class AccountsTree extends DisposableBase implements vscode.TreeDataProvider<AccountSummary> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<AccountSummary>;

  /**
   * `usage`: the serving window's bookkeeping (undefined when this window does not serve: the rows
   * then show no figures); `onDidRecord` fires when it has recorded requests.
   */
  constructor(
    private readonly runtime: PoolRuntime,
    private readonly usage: { readonly usage: UsageLedger | undefined; onDidRecord: vscode.Event<void> },
  ) {
    super();
    this.view = this._register(vscode.window.createTreeView(Views.accounts, { treeDataProvider: this, canSelectMany: true }));
    const refresh = this._register(debounce(() => this.refresh(), 100));
    this._register(runtime.onDidChange(refresh));
    this._register(usage.onDidRecord(() => this.view.visible && this.changed.fire()));
    // "used 2 min ago" and cooldown ends move with the clock, not with pool events.
    this._register(every(30_000, () => this.view.visible && this.changed.fire()));
    this.refresh();
  }

  private refresh(): void {
    const services = this.runtime.current;
    const empty = services ? services.pool.counts().total === 0 : this.runtime.error !== undefined;
    void vscode.commands.executeCommand('setContext', ContextKeys.noAccounts, empty);
    void vscode.commands.executeCommand('setContext', ContextKeys.oauthClientMissing, services ? !services.config.oauth.client_id : false);
    this.changed.fire();
  }

  getChildren(element?: AccountSummary): AccountSummary[] {
    if (element) return [];
    const summaries = this.runtime.current?.pool.summaries() ?? [];
    return [...summaries].sort((a, b) => a.email.localeCompare(b.email));
  }

  getTreeItem(summary: AccountSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(summary.email, vscode.TreeItemCollapsibleState.None);
    item.id = summary.id;
    item.description = describeAccount(summary, nowSeconds(), this.usageOf(summary.email));
    const { icon, color } = stateIcons[summary.state];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.contextValue = accountContextValue(summary.state);
    item.accessibilityInformation = { label: `${summary.email}, ${item.description}` };
    return item;
  }

  private usageOf(email: string): AccountUsage | undefined {
    const ledger = this.usage.usage;
    if (!ledger) return undefined;
    return { today: ledger.todayOf(email), headroom: ledger.headroomOf(email), lastError: ledger.lastErrorOf(email) };
  }

  /** The tooltip, built on hover: it reads the account file for the token's expiry. */
  async resolveTreeItem(item: vscode.TreeItem, summary: AccountSummary): Promise<vscode.TreeItem> {
    const services = this.runtime.current;
    if (!services) return item;
    const account = await services.store.read(summary.id).catch(() => undefined);
    const markdown = new vscode.MarkdownString();
    markdown.appendMarkdown('**').appendText(summary.email).appendMarkdown('**\n\n');
    for (const [label, value] of tooltipRows(summary, nowSeconds(), services.pool.counts(), account?.token.expiry_timestamp, this.usageOf(summary.email))) {
      markdown.appendMarkdown(`${label}: `).appendText(value).appendMarkdown('  \n');
    }
    item.tooltip = markdown;
    return item;
  }
}
