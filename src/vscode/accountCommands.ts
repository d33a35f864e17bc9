/**
 * The Accounts view's commands: add (OAuth, refresh token, gcloud ADC), reload, reset cooldowns,
 * and per account (one row, a multi-selection, or a quick pick from the palette): re-authenticate,
 * disable/enable for the proxy, refresh now, copy email, remove (optionally revoking the token).
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { AccountSummary } from '../core/account';
import { defaultAdcPath, enrollAdc, enrollRefreshToken, type EnrollResult } from '../core/enroll';
import { InvalidGrantError } from '../core/errors';
import type { Logger } from '../core/log';
import { ensureOAuthClient, type GoogleAuthProvider } from './authProvider';
import { registerCommand } from './commandRunner';
import { clock, describeEnroll } from './describeAccount';
import { Commands } from './ids';
import type { PoolRuntime } from './runtime';

/** A menu passes the clicked row and the selection; a notification passes a summary; the palette nothing. */
type Target = AccountSummary | string | undefined;

export function registerAccountCommands(runtime: PoolRuntime, auth: GoogleAuthProvider, log: Logger): vscode.Disposable[] {
  const pick = (target: Target, selection: AccountSummary[] | undefined, title: string) => pickAccounts(runtime, target, selection, title);
  const progress = <T>(title: string, task: () => Promise<T>) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Token Pool: ${title}` }, task);
  const enrolled = (result: EnrollResult) => void vscode.window.showInformationMessage(`Token Pool: ${describeEnroll(result)}`);

  return [
    registerCommand(Commands.addAccount, 'add account', log, () => auth.addAccount()),

    registerCommand(Commands.addRefreshToken, 'add account', log, async () => {
      const services = runtime.require();
      if (!ensureOAuthClient(services.config)) return;
      const token = await vscode.window.showInputBox({
        title: 'Token Pool: Add Account by Refresh Token',
        prompt: 'A Google OAuth refresh token issued to the OAuth client in tokenpool.oauth.clientId',
        password: true,
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Paste a refresh token'),
      });
      if (!token) return;
      enrolled(await progress('checking the refresh token…', () => enrollRefreshToken(services.pool, services.oauth, token.trim())));
    }),

    registerCommand(Commands.importAdc, 'import gcloud credentials', log, async () => {
      const services = runtime.require();
      const file = await adcFile();
      if (!file) return;
      enrolled(await progress('importing gcloud credentials…', () => enrollAdc(services.pool, services.oauth, file)));
    }),

    registerCommand(Commands.reloadPool, 'reload pool', log, async () => {
      const { pool } = runtime.require();
      await pool.reload();
      const c = pool.counts();
      void vscode.window.showInformationMessage(`Token Pool: reloaded ${c.total} accounts: ${c.healthy} healthy, ${c.proxy_disabled} proxy disabled, ${c.disabled} disabled.`);
    }),

    registerCommand(Commands.resetCooldowns, 'reset cooldowns', log, () => {
      runtime.require().pool.resetCooldowns();
      void vscode.window.showInformationMessage('Token Pool: cooldowns reset.');
    }),

    registerCommand(Commands.reauthenticate, 're-authenticate', log, async (target: Target) => {
      for (const account of await pick(target, undefined, 'Re-authenticate which account?')) await auth.reauthenticate(account);
    }),

    registerCommand(Commands.proxyDisable, 'disable for proxy', log, async (target: Target, selection?: AccountSummary[]) => {
      const { pool } = runtime.require();
      for (const account of await pick(target, selection, 'Disable which accounts for the proxy?')) await pool.setProxyDisabled(account.id, true);
    }),

    registerCommand(Commands.proxyEnable, 'enable for proxy', log, async (target: Target, selection?: AccountSummary[]) => {
      const { pool } = runtime.require();
      for (const account of await pick(target, selection, 'Enable which accounts for the proxy?')) await pool.setProxyDisabled(account.id, false);
    }),

    registerCommand(Commands.refreshNow, 'refresh token', log, async (target: Target, selection?: AccountSummary[]) => {
      const { pool } = runtime.require();
      const accounts = await pick(target, selection, 'Refresh the token of which accounts?');
      const results = await progress('refreshing…', () => Promise.all(accounts.map(async (a) => ({ a, result: await pool.check(a.id) }))));
      const now = Math.floor(Date.now() / 1000);
      const refreshed = results.flatMap(({ a, result }) => (result.ok ? [`${a.email} (valid until ${clock(result.expiry, now)})`] : []));
      if (refreshed.length) void vscode.window.showInformationMessage(`Token Pool: token refreshed: ${refreshed.join(', ')}.`);
      for (const { a, result } of results) {
        // A newly dead token is announced once, by the disabled-account notification.
        if (!result.ok && !(result.error instanceof InvalidGrantError && a.state !== 'disabled')) {
          void vscode.window.showErrorMessage(`Token Pool: ${a.email}: refresh failed: ${result.error.message}`);
        }
      }
    }),

    registerCommand(Commands.copyEmail, 'copy email', log, async (target: Target, selection?: AccountSummary[]) => {
      const accounts = await pick(target, selection, 'Copy the email of which accounts?');
      if (accounts.length) await vscode.env.clipboard.writeText(accounts.map((a) => a.email).join('\n'));
    }),

    registerCommand(Commands.removeAccount, 'remove account', log, async (target: Target, selection?: AccountSummary[]) => {
      const services = runtime.require();
      const accounts = await pick(target, selection, 'Remove which accounts?');
      if (!accounts.length) return;
      const which = accounts.length === 1 ? accounts[0].email : `${accounts.length} accounts`;
      const choice = await vscode.window.showWarningMessage(
        `Remove ${which} from Token Pool?`,
        { modal: true, detail: 'The account file is deleted. "Remove and Revoke" also revokes the refresh token at Google, so every copy of it stops working.' },
        'Remove',
        'Remove and Revoke',
      );
      if (!choice) return;
      for (const account of accounts) {
        if (choice === 'Remove and Revoke') {
          const stored = await services.store.read(account.id);
          if (stored) {
            await services.oauth.revoke(stored.token.refresh_token).catch((err: Error) => {
              void vscode.window.showWarningMessage(`Token Pool: ${account.email}: revoking failed (${err.message}); removing it anyway.`);
            });
          }
        }
        await services.pool.remove(account.id);
        log.info(`[pool] removed ${account.email}${choice === 'Remove and Revoke' ? ' and revoked its token' : ''}`);
      }
    }),
  ];
}

/** The accounts a command acts on: the selection when the clicked row is in it, else the row, else a quick pick. */
async function pickAccounts(runtime: PoolRuntime, target: Target, selection: AccountSummary[] | undefined, title: string): Promise<AccountSummary[]> {
  const all = runtime.require().pool.summaries();
  const fresh = (id: string) => all.find((s) => s.id === id);
  const targetId = typeof target === 'string' ? target : target?.id;
  if (targetId !== undefined) {
    const ids = selection?.some((s) => s.id === targetId) ? selection.map((s) => s.id) : [targetId];
    return ids.map(fresh).filter((s): s is AccountSummary => s !== undefined);
  }
  if (all.length === 0) {
    void vscode.window.showInformationMessage('Token Pool: there are no accounts yet.');
    return [];
  }
  const items = all.map((s) => ({ label: s.email, description: s.state.replace('_', ' '), summary: s }));
  const picked = await vscode.window.showQuickPick(items, { title: `Token Pool: ${title}`, canPickMany: true });
  return picked?.map((p) => p.summary) ?? [];
}

/** gcloud's ADC file when it exists, else the file the user picks. */
async function adcFile(): Promise<string | undefined> {
  const file = defaultAdcPath();
  const exists = await fs.access(file).then(() => true, () => false);
  if (exists) return file;
  const picked = await vscode.window.showOpenDialog({
    title: `No ${file}: pick an application_default_credentials.json (from "gcloud auth application-default login")`,
    canSelectMany: false,
    filters: { JSON: ['json'] },
    defaultUri: vscode.Uri.file(dirname(file)),
  });
  return picked?.[0]?.fsPath;
}
