import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { configPath, defaultConfig, isLoopbackHost, loadConfig, parseConfig, resolveDataDir } from '../../src/core/config';
import { ConfigError } from '../../src/core/errors';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length) await fsp.rm(dirs.pop()!, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'tokenpool-config-'));
  dirs.push(dir);
  return dir;
}

/** A data dir whose config.json holds `text`. */
async function withConfigFile(text: string): Promise<{ dataDir: string; file: string }> {
  const dataDir = await tempDir();
  const file = configPath(dataDir);
  await fsp.writeFile(file, text, { mode: 0o600 });
  return { dataDir, file };
}

/** loadConfig must reject with a ConfigError matching `message` and leave the file byte-identical. */
async function assertRejectedUntouched(text: string, message: RegExp): Promise<void> {
  const { dataDir, file } = await withConfigFile(text);
  const before = await fsp.readFile(file);
  await assert.rejects(loadConfig(dataDir), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  assert.deepEqual(await fsp.readFile(file), before);
}

describe('defaults', () => {
  test('are the values DESIGN section 7 lists', () => {
    const config = defaultConfig();
    assert.deepEqual(config.proxy, {
      host: '127.0.0.1',
      port: 8046,
      api_key: '',
      auth_mode: 'all_except_health',
      allowed_hosts: [],
      allowed_origins: [],
      max_body_bytes: 33554432,
      request_timeout_s: 300,
    });
    assert.equal(config.oauth.token_url, 'https://oauth2.googleapis.com/token');
    assert.deepEqual(config.oauth.scopes, ['openid', 'email', 'https://www.googleapis.com/auth/cloud-platform']);
    assert.deepEqual(config.upstream, { kind: 'vertex', base_url: null, project_id: '', location: 'us-central1', models: ['gemini-2.5-pro', 'gemini-2.5-flash'] });
    assert.deepEqual(config.routing, { strategy: 'round-robin', max_attempts: 3, max_wait_s: 5, refresh_skew_s: 300, model_aliases: {}, limits: {} });
    assert.deepEqual(config.network, { https_proxy: null, no_proxy: null });
  });

  test('an empty object is the defaults; a set key overrides only itself', () => {
    assert.deepEqual(parseConfig({}, 'test'), defaultConfig());
    const config = parseConfig({ routing: { strategy: 'fill-first' } }, 'test');
    assert.equal(config.routing.strategy, 'fill-first');
    assert.equal(config.routing.max_attempts, 3);
  });
});

describe('loadConfig', () => {
  test('first run creates the data dir 0700 and config.json 0600 with a tp- + 32 hex API key', async () => {
    const dataDir = join(await tempDir(), 'fresh');
    const config = await loadConfig(dataDir);
    assert.match(config.proxy.api_key, /^tp-[0-9a-f]{32}$/);
    assert.equal((await fsp.stat(dataDir)).mode & 0o777, 0o700);
    const file = configPath(dataDir);
    assert.equal((await fsp.stat(file)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await fsp.readFile(file, 'utf8')).proxy.api_key, config.proxy.api_key);
    assert.deepEqual({ ...config, proxy: { ...config.proxy, api_key: '' } }, defaultConfig());

    const again = await loadConfig(dataDir);
    assert.equal(again.proxy.api_key, config.proxy.api_key, 'the key is stable across runs');
  });

  test('a file without an API key gets one added, everything else kept', async () => {
    const { dataDir, file } = await withConfigFile(JSON.stringify({ proxy: { port: 9000 }, upstream: { project_id: 'p' } }));
    const config = await loadConfig(dataDir);
    assert.match(config.proxy.api_key, /^tp-[0-9a-f]{32}$/);
    assert.equal(config.proxy.port, 9000);
    assert.deepEqual(JSON.parse(await fsp.readFile(file, 'utf8')), {
      proxy: { port: 9000, api_key: config.proxy.api_key },
      upstream: { project_id: 'p' },
    });
  });

  test('a bad type names the key and the expected type, and leaves the file byte-identical', async () => {
    await assertRejectedUntouched('{ "proxy": { "port": "8046" } }\n', /"proxy\.port" must be an integer from 0 to 65535, got "8046"/);
    await assertRejectedUntouched('{"routing": {"strategy": "random"}}', /"routing\.strategy" must be one of "round-robin", "fill-first"/);
    await assertRejectedUntouched('{"upstream": {"models": ["a", 1]}}', /"upstream\.models" must be an array of strings/);
    await assertRejectedUntouched('{"routing": {"max_attempts": -1}}', /"routing\.max_attempts" must be an integer ≥ 0/);
    await assertRejectedUntouched('{"proxy": "127.0.0.1"}', /"proxy" must be an object/);
  });

  test('the message names the file', async () => {
    const { dataDir, file } = await withConfigFile('{"proxy": {"port": true}}');
    await assert.rejects(loadConfig(dataDir), (err: Error) => err.message.startsWith(file));
  });

  test('a file that is not JSON is an error and is left as it is', async () => {
    await assertRejectedUntouched('{"proxy": {', /not valid JSON/);
  });

  test('the JSON error never quotes the file (it holds the API key and client secret)', async () => {
    const { dataDir } = await withConfigFile('{"proxy": {"api_key": tp-5ecret5ecret5ecret5ecret5ecret55}}');
    await assert.rejects(loadConfig(dataDir), (err: Error) => /not valid JSON \(syntax error/.test(err.message) && !err.message.includes('5ecret'));
  });

  test('an unknown key or section is an error', async () => {
    await assertRejectedUntouched('{"proxy": {"prot": 8046}}', /unknown key "proxy\.prot"/);
    await assertRejectedUntouched('{"routes": {}}', /unknown section "routes"/);
  });

  test('a non-loopback host with auth_mode off is an error', async () => {
    await assertRejectedUntouched('{"proxy": {"host": "0.0.0.0", "auth_mode": "off"}}', /"proxy\.auth_mode" is "off" but "proxy\.host" 0\.0\.0\.0 is not a loopback address/);
    assert.equal(parseConfig({ proxy: { host: '127.0.0.1', auth_mode: 'off' } }, 'test').proxy.auth_mode, 'off');
    assert.equal(parseConfig({ proxy: { host: '0.0.0.0', auth_mode: 'strict' } }, 'test').proxy.host, '0.0.0.0');
  });
});

describe('isLoopbackHost', () => {
  const rows: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['192.168.1.10', false],
    ['::', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
  ];
  for (const [host, want] of rows) test(`${host} -> ${want}`, () => assert.equal(isLoopbackHost(host), want));
});

describe('resolveDataDir', () => {
  const env = { TOKENPOOL_DATA_DIR: '/from/env' };
  test('--data-dir beats the environment beats the setting beats ~/.tokenpool', () => {
    assert.equal(resolveDataDir('/from/flag', env, '/from/setting'), '/from/flag');
    assert.equal(resolveDataDir(undefined, env, '/from/setting'), '/from/env');
    assert.equal(resolveDataDir(null, {}, '/from/setting'), '/from/setting');
    assert.equal(resolveDataDir(undefined, {}, undefined), join(homedir(), '.tokenpool'));
  });

  test('empty values do not count; ~ expands; relative paths become absolute', () => {
    assert.equal(resolveDataDir('', { TOKENPOOL_DATA_DIR: '' }, '/from/setting'), '/from/setting');
    assert.equal(resolveDataDir('~/pool', {}), join(homedir(), 'pool'));
    assert.equal(resolveDataDir('relative/pool', {}), resolve('relative/pool'));
  });
});
