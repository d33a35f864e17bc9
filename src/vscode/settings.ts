/**
 * Reads the `tokenpool.*` settings (and the editor's `http.proxy`) and turns them into the data
 * directory and Config: config.json of that directory (which holds the API key) under the settings
 * the user has set. The mapping itself is the pure `settingsToConfig` in settingsMap.ts.
 */
import * as vscode from 'vscode';
import { loadConfig, resolveDataDir } from '../core/config';
import { EditorSettings, fullSettingKey, Settings, SETTINGS_SECTION, type SettingKey } from './ids';
import type { LoadedSettings } from './runtime';
import { settingsToConfig, type SettingsValues } from './settingsMap';

/** The value the user has set (folder over workspace over user), or undefined when only the default applies. */
function explicitValue<T>(configuration: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const inspected = configuration.inspect<T>(key);
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
}

function readValues(): SettingsValues {
  const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const values: SettingsValues = {};
  for (const key of Object.values(Settings) as SettingKey[]) {
    const value = explicitValue<unknown>(configuration, key);
    if (value !== undefined) values[key] = value;
  }
  return values;
}

/** Data directory and effective Config; throws ConfigError naming the file or the setting. */
export async function loadSettings(): Promise<LoadedSettings> {
  const values = readValues();
  const dataDir = resolveDataDir(null, process.env, typeof values.dataDir === 'string' ? values.dataDir : null);
  const base = await loadConfig(dataDir);
  const http = vscode.workspace.getConfiguration();
  const editor = { httpProxy: http.get(EditorSettings.httpProxy), noProxy: http.get(EditorSettings.httpNoProxy) };
  return { dataDir, config: settingsToConfig(values, base, editor, process.env) };
}

export const proxyAutoStart = (): boolean =>
  vscode.workspace.getConfiguration(SETTINGS_SECTION).get<boolean>(Settings.proxyAutoStart, true);

/** Fires when a setting that may feed the Config changes; an unchanged Config is a no-op downstream. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if ([SETTINGS_SECTION, EditorSettings.httpProxy, EditorSettings.httpNoProxy].some((key) => e.affectsConfiguration(key))) listener();
  });
}

/** Opens the Settings editor on one setting (or on all of Token Pool's). */
export async function openSettings(key?: SettingKey): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', key ? fullSettingKey(key) : SETTINGS_SECTION);
}

/** The error toast for a bad config.json or setting, with a way to fix it. */
export async function showConfigError(err: Error): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`Token Pool: ${err.message}`, 'Open Settings');
  if (choice) await openSettings();
}
