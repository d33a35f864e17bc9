import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig, type Config } from '../../src/core/config';
import { ConfigError } from '../../src/core/errors';
import { settingsToConfig, settingTargets } from '../../src/vscode/settingsMap';
import { Settings } from '../../src/vscode/ids';

/** config.json as a CLI user might have written it. */
function fileConfig(): Config {
  const c = defaultConfig();
  c.proxy.api_key = 'tp-0123456789abcdef0123456789abcdef';
  c.proxy.port = 9000;
  c.upstream.project_id = 'from-file';
  c.oauth.client_id = 'file-client.apps.googleusercontent.com';
  return c;
}

void describe('settingsToConfig', () => {
  void test('no settings set: config.json values and the key survive unchanged', () => {
    assert.deepEqual(settingsToConfig({}, fileConfig()), fileConfig());
  });

  const cases: { name: string; values: Record<string, unknown>; check: (c: Config) => unknown; want: unknown }[] = [
    { name: 'port overrides the file', values: { 'proxy.port': 8046 }, check: (c) => c.proxy.port, want: 8046 },
    { name: 'host', values: { 'proxy.host': '127.0.0.2' }, check: (c) => c.proxy.host, want: '127.0.0.2' },
    { name: 'authMode → auth_mode', values: { 'proxy.authMode': 'strict' }, check: (c) => c.proxy.auth_mode, want: 'strict' },
    { name: 'kind', values: { 'upstream.kind': 'gemini' }, check: (c) => c.upstream.kind, want: 'gemini' },
    { name: 'projectId → project_id', values: { 'upstream.projectId': 'p1' }, check: (c) => c.upstream.project_id, want: 'p1' },
    { name: 'empty projectId keeps the file value', values: { 'upstream.projectId': '' }, check: (c) => c.upstream.project_id, want: 'from-file' },
    { name: 'location', values: { 'upstream.location': 'global' }, check: (c) => c.upstream.location, want: 'global' },
    { name: 'baseUrl → base_url', values: { 'upstream.baseUrl': 'http://127.0.0.1:9' }, check: (c) => c.upstream.base_url, want: 'http://127.0.0.1:9' },
    { name: 'empty baseUrl stays null', values: { 'upstream.baseUrl': '' }, check: (c) => c.upstream.base_url, want: null },
    { name: 'clientId', values: { 'oauth.clientId': 'mine' }, check: (c) => c.oauth.client_id, want: 'mine' },
    { name: 'clientSecret', values: { 'oauth.clientSecret': 's' }, check: (c) => c.oauth.client_secret, want: 's' },
    { name: 'authUrl', values: { 'oauth.authUrl': 'http://fake-google.test:1/auth' }, check: (c) => c.oauth.auth_url, want: 'http://fake-google.test:1/auth' },
    { name: 'tokenUrl', values: { 'oauth.tokenUrl': 'http://127.0.0.1:1/token' }, check: (c) => c.oauth.token_url, want: 'http://127.0.0.1:1/token' },
    { name: 'userinfoUrl', values: { 'oauth.userinfoUrl': 'http://127.0.0.1:1/ui' }, check: (c) => c.oauth.userinfo_url, want: 'http://127.0.0.1:1/ui' },
    { name: 'revokeUrl', values: { 'oauth.revokeUrl': 'http://127.0.0.1:1/rv' }, check: (c) => c.oauth.revoke_url, want: 'http://127.0.0.1:1/rv' },
    { name: 'strategy', values: { 'routing.strategy': 'fill-first' }, check: (c) => c.routing.strategy, want: 'fill-first' },
    {
      name: 'modelAliases are added to config.json\'s, the setting winning on the same name',
      values: { 'routing.modelAliases': { 'claude-*': 'gemini-2.5-pro', 'gpt-5': 'gemini-2.5-flash' } },
      check: (c) => settingsToConfig({ 'routing.modelAliases': { 'gpt-5': 'gemini-3-pro-preview' } }, c).routing.model_aliases,
      want: { 'claude-*': 'gemini-2.5-pro', 'gpt-5': 'gemini-3-pro-preview' },
    },
    {
      name: 'an empty modelAliases object keeps the file value',
      values: { 'routing.modelAliases': { 'gpt-5': 'gemini-2.5-pro' } },
      check: (c) => settingsToConfig({ 'routing.modelAliases': {} }, c).routing.model_aliases,
      want: { 'gpt-5': 'gemini-2.5-pro' },
    },
    {
      name: 'limits are added to config.json\'s, the setting winning on the same model key',
      values: { 'routing.limits': { '*': { rpm: 60 }, 'gemini-2.5-pro': { rpd: 100 } } },
      check: (c) => settingsToConfig({ 'routing.limits': { 'gemini-2.5-pro': { rpm: 5 } } }, c).routing.limits,
      want: { '*': { rpm: 60 }, 'gemini-2.5-pro': { rpm: 5 } },
    },
    { name: 'maxAttempts 0 = every account', values: { 'routing.maxAttempts': 0 }, check: (c) => c.routing.max_attempts, want: 0 },
    { name: 'the API key always comes from the file', values: { 'proxy.port': 1 }, check: (c) => c.proxy.api_key, want: 'tp-0123456789abcdef0123456789abcdef' },
    { name: 'dataDir and autoStart are not Config keys', values: { dataDir: '/x', 'proxy.autoStart': false }, check: (c) => c, want: fileConfig() },
  ];
  for (const c of cases) {
    void test(c.name, () => assert.deepEqual(c.check(settingsToConfig(c.values, fileConfig())), c.want));
  }

  void test('every setting key except dataDir and autoStart has a target', () => {
    const own = new Set<string>([Settings.dataDir, Settings.proxyAutoStart]);
    const missing = Object.values(Settings).filter((k) => !own.has(k) && !(k in settingTargets));
    assert.deepEqual(missing, []);
  });

  const bad: { values: Record<string, unknown>; message: RegExp }[] = [
    { values: { 'proxy.port': 70000 }, message: /setting tokenpool\.proxy\.port: "proxy\.port" must be an integer from 0 to 65535, got 70000/ },
    { values: { 'proxy.authMode': 'none' }, message: /setting tokenpool\.proxy\.authMode: "proxy\.auth_mode" must be one of/ },
    { values: { 'routing.maxAttempts': -1 }, message: /setting tokenpool\.routing\.maxAttempts/ },
    { values: { 'upstream.kind': 'openai' }, message: /setting tokenpool\.upstream\.kind/ },
    { values: { 'routing.modelAliases': { 'claude-*': 42 } }, message: /setting tokenpool\.routing\.modelAliases: "routing\.model_aliases" must be an object of non-empty strings/ },
    { values: { 'routing.limits': { '*': { rpm: 0 } } }, message: /setting tokenpool\.routing\.limits: "routing\.limits": "\*\.rpm" must be an integer ≥ 1, got 0/ },
    { values: { 'proxy.host': '0.0.0.0', 'proxy.authMode': 'off' }, message: /auth_mode" is "off" but "proxy\.host" 0\.0\.0\.0 is not a loopback/ },
  ];
  for (const b of bad) {
    void test(`rejects ${JSON.stringify(b.values)} naming the setting`, () => {
      assert.throws(() => settingsToConfig(b.values, fileConfig()), (err: unknown) => err instanceof ConfigError && b.message.test(err.message));
    });
  }

  void test('a non-loopback host with authentication is fine even when the file says auth off', () => {
    const base = fileConfig();
    base.proxy.auth_mode = 'off';
    const c = settingsToConfig({ 'proxy.host': '0.0.0.0', 'proxy.authMode': 'strict' }, base);
    assert.equal(c.proxy.host, '0.0.0.0');
    assert.equal(c.proxy.auth_mode, 'strict');
  });

  void describe("the editor's http.proxy", () => {
    const editor = { httpProxy: 'http://proxy.corp:3128', noProxy: ['localhost', '.corp'] };
    void test('fills network.* when nothing else names a proxy', () => {
      const c = settingsToConfig({}, fileConfig(), editor, {});
      assert.deepEqual(c.network, { https_proxy: 'http://proxy.corp:3128', no_proxy: 'localhost,.corp' });
    });
    void test('the environment wins', () => {
      const c = settingsToConfig({}, fileConfig(), editor, { HTTPS_PROXY: 'http://env:1' });
      assert.deepEqual(c.network, { https_proxy: null, no_proxy: null });
    });
    void test('config.json wins', () => {
      const base = fileConfig();
      base.network.https_proxy = 'http://file:1';
      assert.equal(settingsToConfig({}, base, editor, {}).network.https_proxy, 'http://file:1');
    });
    void test('an empty http.proxy changes nothing', () => {
      assert.deepEqual(settingsToConfig({}, fileConfig(), { httpProxy: '' }, {}).network, { https_proxy: null, no_proxy: null });
    });
  });
});
