/**
 * The local server as a web page or a careless client would meet it: Host and Origin guards, the API
 * key in every place an SDK puts it, auth modes, body limits, unknown routes, and every error in the
 * caller's own protocol shape. Plus listen/close behaviour.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { PortInUseError } from '../../src/core/errors';
import { ProxyServer } from '../../src/proxy/server';
import { assertErrorShape, sampleRequest, startProxyHarness, type ErrorShape as Shape, type ProxyHarness } from '../helpers/proxy-harness';

const PROTOCOL_ROUTES = {
  openai: sampleRequest('openai').path,
  anthropic: sampleRequest('anthropic').path,
  google: sampleRequest('google').path,
};
const VALID_BODIES = {
  openai: sampleRequest('openai').body,
  anthropic: sampleRequest('anthropic').body,
  google: sampleRequest('google').body,
};

describe('proxy server: guards and error shapes', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      accounts: 2,
      configure: (c) => {
        c.proxy.max_body_bytes = 4096;
        c.proxy.allowed_origins = ['https://allowed.example'];
      },
    });
  });
  after(() => h.close());

  for (const shape of ['openai', 'anthropic', 'google'] as const) {
    const path = PROTOCOL_ROUTES[shape];
    describe(`${shape} (${path})`, () => {
      test('no key -> 401', async () => {
        const r = await h.request(path, { body: VALID_BODIES[shape], key: null });
        assert.equal(r.status, 401);
        assert.match(assertErrorShape(shape, 401, r.json), /API key/);
      });
      test('wrong key -> 401, and nothing reached upstream', async () => {
        const before = h.upstream.requests.length;
        const r = await h.request(path, { body: VALID_BODIES[shape], key: h.apiKey + 'x' });
        assert.equal(r.status, 401);
        assertErrorShape(shape, 401, r.json);
        assert.equal(h.upstream.requests.length, before);
      });
      test('a foreign Origin -> 403', async () => {
        const r = await h.request(path, { body: VALID_BODIES[shape], headers: { origin: 'https://evil.example' } });
        assert.equal(r.status, 403);
        assert.match(assertErrorShape(shape, 403, r.json), /Origin/);
        assert.equal(r.headers['access-control-allow-origin'], undefined);
      });
      test('a Host that is not this server (DNS rebinding) -> 403, even with the key', async () => {
        const r = await h.request(path, { body: VALID_BODIES[shape], headers: { host: `rebind.evil.example:${h.server.address!.port}` } });
        assert.equal(r.status, 403);
        assert.match(assertErrorShape(shape, 403, r.json), /Host/);
      });
      test('a loopback Host with another port -> 403', async () => {
        const r = await h.request(path, { body: VALID_BODIES[shape], headers: { host: 'localhost:1' } });
        assert.equal(r.status, 403);
        assertErrorShape(shape, 403, r.json);
      });
      test('malformed JSON -> 400', async () => {
        const r = await h.request(path, { body: '{"model": ', headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 400);
        assert.match(assertErrorShape(shape, 400, r.json), /JSON/);
      });
      test('a body over max_body_bytes -> 413', async () => {
        const r = await h.request(path, { body: JSON.stringify({ model: 'm', pad: 'x'.repeat(5000) }) });
        assert.equal(r.status, 413);
        assert.match(assertErrorShape(shape, 413, r.json), /4096 bytes/);
      });
    });
  }

  const unknownRoutes: [Shape, string, string][] = [
    ['openai', 'GET', '/v1/models/gemini-2.5-flash/extra'],
    ['openai', 'GET', '/v1/chat/completions'],
    ['anthropic', 'POST', '/v1/messages/batches'],
    ['google', 'POST', '/v1beta/models/gemini-2.5-flash:embedContent'],
    ['openai', 'POST', '/v1/models/gemini-2.5-flash:embedContent'],
    ['google', 'GET', '/nothing-here'],
    ['google', 'GET', '//evil.example/v1/models'],
  ];
  for (const [shape, method, path] of unknownRoutes) {
    test(`unknown route ${method} ${path} -> 404 in ${shape} shape`, async () => {
      const r = await h.request(path, { method, body: method === 'POST' ? {} : undefined });
      assert.equal(r.status, 404);
      assert.match(assertErrorShape(shape, 404, r.json), /Unknown route/);
    });
  }

  test('the key is accepted where each SDK puts it: Bearer, x-api-key, x-goog-api-key, ?key=', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['x-api-key', { 'x-api-key': h.apiKey }, '/v1/models'],
      ['x-goog-api-key', { 'x-goog-api-key': h.apiKey }, '/v1beta/models'],
      ['?key=', {}, `/v1beta/models?key=${h.apiKey}`],
    ];
    for (const [name, headers, path] of cases) {
      const r = await h.request(path, { headers, key: null });
      assert.equal(r.status, 200, name);
    }
    assert.equal((await h.request('/v1/models')).status, 200, 'Bearer');
  });

  test('a body over the limit is not read to the end: 413 arrives while the client is still sending', async () => {
    const socket = connect(h.server.address!.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${h.server.address!.port}\r\n` +
        `Authorization: Bearer ${h.apiKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = 'x'.repeat(3000);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    // the request never ends: the server must answer and hang up on its own
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /connection: close/i);
    socket.destroy();
  });

  test('a declared Content-Length over the limit is refused before reading the body', async () => {
    const socket = connect(h.server.address!.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    socket.write(
      `POST /v1/messages HTTP/1.1\r\nHost: localhost:${h.server.address!.port}\r\n` +
        `x-api-key: ${h.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{`,
    );
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /"type":"error"/);
  });

  test('an allowed Origin gets CORS headers and its preflight answered', async () => {
    const preflight = await h.request('/v1/chat/completions', {
      method: 'OPTIONS',
      key: null,
      headers: { origin: 'https://allowed.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://allowed.example');
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    const r = await h.request('/v1/models', { headers: { origin: 'https://allowed.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://allowed.example');
  });

  test('GET /v1/models lists the configured models in OpenAI\'s list shape', async () => {
    const r = await h.request('/v1/models');
    assert.deepEqual(r.json, {
      object: 'list',
      data: h.config.upstream.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'google' })),
    });
  });

  test('GET /v1beta/models lists the configured models in Gemini\'s list shape', async () => {
    const r = await h.request('/v1beta/models');
    const models = (r.json as { models: { name: string; supportedGenerationMethods: string[] }[] }).models;
    assert.deepEqual(models.map((m) => m.name), h.config.upstream.models.map((m) => `models/${m}`));
    assert.ok(models.every((m) => m.supportedGenerationMethods.includes('generateContent')));
  });

  test('GET /v1/models asked Gemini\'s way (x-goog-api-key or ?key=) is Gemini\'s list; with a Bearer key OpenAI\'s', async () => {
    const names = h.config.upstream.models.map((m) => `models/${m}`);
    for (const [how, path, headers] of [
      ['x-goog-api-key', '/v1/models', { 'x-goog-api-key': h.apiKey }],
      ['?key=', `/v1/models?key=${h.apiKey}`, {}],
    ] as const) {
      const r = await h.request(path, { headers, key: null });
      assert.equal(r.status, 200, how);
      assert.deepEqual((r.json as { models: { name: string }[] }).models.map((m) => m.name), names, how);
    }
    const openai = await h.request('/v1/models');
    assert.equal((openai.json as { object: string }).object, 'list');
    const wrong = await h.request('/v1/models', { headers: { 'x-goog-api-key': 'tp-wrong' }, key: null });
    assert.equal(wrong.status, 401);
    assert.match(assertErrorShape('google', 401, wrong.json), /API key/);
  });

  test('503 when every account is proxy_disabled: Retry-After and a reason with the counts', async () => {
    for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, true);
    try {
      for (const shape of ['openai', 'anthropic', 'google'] as const) {
        const r = await h.request(PROTOCOL_ROUTES[shape], { body: VALID_BODIES[shape] });
        assert.equal(r.status, 503, shape);
        assert.match(String(r.headers['retry-after']), /^\d+$/);
        assert.match(assertErrorShape(shape, 503, r.json), /0 disabled, 2 proxy_disabled, 0 cooling \(of 2 accounts\)/);
      }
    } finally {
      for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, false);
    }
  });

  test('PortInUseError when the port is taken', async () => {
    const config = structuredClone(h.config);
    config.proxy.port = h.server.address!.port;
    const second = new ProxyServer({ config, pool: h.pool, log: h.log, version: 'test' });
    try {
      await assert.rejects(second.listen(), (err: unknown) => err instanceof PortInUseError && err.port === config.proxy.port);
    } finally {
      await second.close();
    }
  });
});

describe('proxy server: auth modes', () => {
  const cases: { mode: 'all_except_health' | 'strict' | 'off'; healthNoKey: number; apiNoKey: number; adminNoKey: number }[] = [
    { mode: 'all_except_health', healthNoKey: 200, apiNoKey: 401, adminNoKey: 401 },
    { mode: 'strict', healthNoKey: 401, apiNoKey: 401, adminNoKey: 401 },
    { mode: 'off', healthNoKey: 200, apiNoKey: 200, adminNoKey: 401 },
  ];
  for (const c of cases) {
    test(`auth_mode ${c.mode}: healthz ${c.healthNoKey}, api ${c.apiNoKey}, admin ${c.adminNoKey} without a key`, async () => {
      const h = await startProxyHarness({ accounts: 1, configure: (config) => (config.proxy.auth_mode = c.mode) });
      try {
        const health = await h.request('/healthz', { key: null });
        assert.equal(health.status, c.healthNoKey);
        if (health.status === 200) {
          assert.deepEqual(health.json, { service: 'tokenpool', version: 'test', status: 'ok', accounts: { total: 1, healthy: 1, cooling: 0, proxy_disabled: 0, disabled: 0 } });
        } else {
          assertErrorShape('google', 401, health.json);
        }
        assert.equal((await h.request('/v1/models', { key: null })).status, c.apiNoKey);
        assert.equal((await h.request('/admin/accounts', { key: null })).status, c.adminNoKey);
        assert.equal((await h.request('/admin/accounts')).status, 200, 'admin with the key');
        assert.equal((await h.request('/healthz')).status, 200, 'healthz with the key');
      } finally {
        await h.close();
      }
    });
  }
});

describe('proxy server: admin', () => {
  test('accounts, reload and cooldown reset, never a token', async () => {
    const h = await startProxyHarness({ accounts: 2 });
    try {
      h.upstream.fail({ kind: 'status', status: 503, times: Infinity });
      await h.request('/v1/chat/completions', { body: VALID_BODIES.openai });
      const cooled = (await h.request('/admin/accounts')).json as { accounts: { email: string; state: string }[] };
      assert.deepEqual(cooled.accounts.map((a) => a.state).sort(), ['cooling', 'cooling']);
      const text = JSON.stringify(cooled);
      for (const secret of (await h.secrets()).filter((s) => !s.includes('@'))) assert.ok(!text.includes(secret), 'no token in /admin/accounts');

      const reset = await h.request('/admin/cooldowns/reset', { method: 'POST' });
      assert.equal(reset.status, 200);
      assert.deepEqual((reset.json as { accounts: { healthy: number } }).accounts.healthy, 2);

      const reload = await h.request('/admin/reload', { method: 'POST' });
      assert.equal(reload.status, 200);
      assert.equal((reload.json as { accounts: { total: number } }).accounts.total, 2);
      assert.ok(h.log.lines.some((l) => /Reloaded account pool: 2 healthy/.test(l.message)));
    } finally {
      await h.close();
    }
  });
});

describe('proxy server: close', () => {
  test('close() lets an in-flight stream finish, then refuses new connections', async () => {
    const h = await startProxyHarness({ accounts: 1, pace: { chunks: 5, intervalMs: 100 } });
    try {
      const port = h.server.address!.port;
      const response = await request(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...VALID_BODIES.openai, stream: true }),
      });
      assert.equal(response.statusCode, 200);
      const closing = h.server.close();
      const text = await response.body.text();
      await closing;
      assert.match(text, /data: \[DONE\]/);
      await assert.rejects(request(`http://127.0.0.1:${port}/healthz`), /ECONNREFUSED/);
    } finally {
      await h.close();
    }
  });
});
