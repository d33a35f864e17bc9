/**
 * Codex's WebSocket upgrade on GET /v1/responses: 426 (Codex then posts at once, where a 404 costs
 * it six reconnects), behind the same key and Host/Origin guard as the HTTP routes.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const UPGRADE = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

/** An upgrade request through node:http (fetch refuses Upgrade headers): status and parsed error message. */
function upgrade(h: ProxyHarness, headers: Record<string, string> = {}, key = h.apiKey): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.url}/v1/responses`, { headers: { ...UPGRADE, authorization: `Bearer ${key}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: (JSON.parse(text) as { error: { message: string } }).error.message }));
    });
    req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
    req.on('error', reject);
    req.end();
  });
}

describe('GET /v1/responses (WebSocket upgrade)', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ accounts: 1 });
  });
  after(() => h.close());

  test('with the key: 426 Upgrade Required naming POST /v1/responses, nothing sent upstream', async () => {
    const r = await upgrade(h);
    assert.equal(r.status, 426);
    assert.match(r.message, /POST \/v1\/responses/);
    assert.equal(h.upstream.requests.length, 0);
  });

  test('a wrong key -> 401', async () => {
    const r = await upgrade(h, {}, h.apiKey + 'x');
    assert.equal(r.status, 401);
    assert.match(r.message, /API key/);
  });

  test('a foreign Origin -> 403', async () => {
    const r = await upgrade(h, { origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    assert.match(r.message, /Origin/);
  });

  test('a Host that is not this server -> 403', async () => {
    const r = await upgrade(h, { host: `rebind.evil.example:${h.server.address!.port}` });
    assert.equal(r.status, 403);
    assert.match(r.message, /Host/);
  });
});
