/**
 * Registers a command whose failure the user sees once: an error toast with the typed error's
 * message, and a log line. A cancel (Escape, Cancel, a closed sign-in) is not a failure: no toast.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import type { Logger } from '../core/log';

export function isCancellation(err: unknown): boolean {
  return err instanceof CancelledError || err instanceof vscode.CancellationError || (err instanceof Error && err.name === 'Canceled');
}

/** Logs and shows the error (without waiting for the toast to close); a cancel is silent. */
export function reportError(log: Logger, err: unknown, what: string): void {
  if (isCancellation(err)) return;
  const message = err instanceof Error ? err.message : String(err);
  log.error(`${what}: ${message}`);
  void vscode.window.showErrorMessage(`Token Pool: ${what}: ${message}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- command arguments come untyped from menus and the palette
export type CommandHandler = (...args: any[]) => unknown;

export function registerCommand(id: string, what: string, log: Logger, handler: CommandHandler): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await handler(...args);
    } catch (err) {
      reportError(log, err, what);
    }
  });
}
