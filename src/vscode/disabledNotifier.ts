/**
 * One warning when an account becomes disabled while the editor is open (in this window or any
 * other process sharing the data directory), naming the email and the reason, with a
 * "Re-authenticate" button. Accounts already disabled at startup are shown in the tree only.
 */
import * as vscode from 'vscode';
import type { AccountState, AccountSummary } from '../core/account';
import { newlyDisabled } from './describeAccount';
import { Commands } from './ids';
import { DisposableBase } from './lifecycle';
import type { PoolRuntime } from './runtime';

export class DisabledAccountNotifier extends DisposableBase {
  private states: ReadonlyMap<string, AccountState> = new Map();

  constructor(private readonly runtime: PoolRuntime) {
    super();
    this._register(runtime.onDidChange(() => this.check()));
    this.check();
  }

  private check(): void {
    const summaries = this.runtime.current?.pool.summaries();
    if (!summaries) return;
    for (const summary of newlyDisabled(this.states, summaries)) void this.notify(summary);
    this.states = new Map(summaries.map((s) => [s.id, s.state]));
  }

  private async notify(summary: AccountSummary): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      `Token Pool: ${summary.email} was disabled (${summary.disabled_reason ?? 'refresh token rejected'}). Re-authenticate to use it again.`,
      'Re-authenticate',
    );
    if (choice) await vscode.commands.executeCommand(Commands.reauthenticate, summary);
  }
}
