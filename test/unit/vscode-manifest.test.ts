/** package.json's contributions and src/vscode/ids.ts name the same commands, views and settings. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AUTH_PROVIDER_ID, CHAT_MANAGEMENT_COMMAND, CHAT_VENDOR, Commands, fullSettingKey, Settings, Views, type SettingKey } from '../../src/vscode/ids';

interface Manifest {
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string }[];
    viewsContainers: { activitybar: { id: string; title: string }[] };
    views: Record<string, { id: string; name: string }[]>;
    menus: Record<string, { command: string; when?: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    authentication: { id: string }[];
    languageModelChatProviders: { vendor: string; displayName: string; managementCommand?: string }[];
    configuration: { properties: Record<string, { description?: string; markdownDescription?: string; default?: unknown }> };
  };
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as Manifest;
const { contributes } = manifest;

void describe('package.json contributions', () => {
  void test('every command in ids.ts is contributed, and nothing else', () => {
    assert.deepEqual(contributes.commands.map((c) => c.command).sort(), Object.values(Commands).sort());
  });

  void test('menus and welcome links only use contributed commands', () => {
    const known = new Set<string>([...Object.values(Commands), 'workbench.action.openSettings']);
    const used = [
      ...Object.values(contributes.menus).flat().map((m) => m.command),
      ...contributes.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1])),
    ];
    assert.deepEqual(used.filter((c) => !known.has(c)), []);
  });

  void test('the activity-bar container and the Accounts view have the agreed ids', () => {
    assert.deepEqual(contributes.viewsContainers.activitybar.map((c) => [c.id, c.title]), [[Views.container, 'Token Pool']]);
    assert.deepEqual(contributes.views[Views.container].map((v) => [v.id, v.name]), [[Views.accounts, 'Accounts']]);
  });

  void test('the authentication provider is declared and activates the extension', () => {
    assert.deepEqual(contributes.authentication.map((a) => a.id), [AUTH_PROVIDER_ID]);
    assert.ok(manifest.activationEvents.includes(`onAuthenticationRequest:${AUTH_PROVIDER_ID}`));
    assert.ok(manifest.activationEvents.includes('onStartupFinished'));
  });

  void test('the chat provider is contributed under its vendor, on a VS Code that has the API (1.104)', () => {
    assert.deepEqual(contributes.languageModelChatProviders, [{ vendor: CHAT_VENDOR, displayName: 'Token Pool', managementCommand: CHAT_MANAGEMENT_COMMAND }]);
    assert.equal(CHAT_MANAGEMENT_COMMAND, `${Views.accounts}.focus`, 'the management entry opens the Accounts view');
    assert.equal(manifest.engines.vscode, '^1.104.0');
  });

  void test('every setting in ids.ts is contributed with a description, and nothing else', () => {
    const keys = (Object.values(Settings) as SettingKey[]).map(fullSettingKey).sort();
    assert.deepEqual(Object.keys(contributes.configuration.properties).sort(), keys);
    const undescribed = keys.filter((k) => !contributes.configuration.properties[k].description && !contributes.configuration.properties[k].markdownDescription);
    assert.deepEqual(undescribed, []);
  });

  void test('item menus match rows by their account:<state> contextValue', () => {
    const itemMenus = contributes.menus['view/item/context'];
    assert.ok(itemMenus.length > 0);
    for (const m of itemMenus) assert.match(m.when ?? '', /viewItem (=~ \/\^account:|== account:)/, m.command);
  });
});
