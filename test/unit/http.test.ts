import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import { ConfigError } from '../../src/core/errors';
import { createDispatcher } from '../../src/core/http';

/** A tiny forward proxy: absolute-form requests are relayed, CONNECT is tunnelled. Records what it saw. */
async function startProxy(): Promise<{ url: string; hostPort: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = http.request(target, { method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${hostPort}`,
    hostPort,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('createDispatcher', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let target: http.Server;
  let targetOrigin: string;
  const noNetwork = { https_proxy: null, no_proxy: null };

  before(async () => {
    proxy = await startProxy();
    target = http.createServer((req, res) => res.end(`hello from target ${req.url}`));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetOrigin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  });
  after(async () => {
    await proxy.close();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  });

  async function fetchWith(dispatcher: Dispatcher, url: string): Promise<string> {
    try {
      const res = await request(url, { dispatcher });
      return `${res.statusCode} ${await res.body.text()}`;
    } finally {
      await dispatcher.close();
    }
  }

  test('network.https_proxy: an http:// request goes through the proxy in absolute form', async () => {
    proxy.seen.length = 0;
    const body = await fetchWith(createDispatcher({ https_proxy: proxy.url, no_proxy: null }, {}), `${targetOrigin}/via-proxy`);
    assert.equal(body, '200 hello from target /via-proxy');
    assert.deepEqual(proxy.seen, [`GET ${targetOrigin}/via-proxy`]);
  });

  test('network.https_proxy: an https:// request is tunnelled with CONNECT', async () => {
    proxy.seen.length = 0;
    const tlsOrigin = targetOrigin.replace('http:', 'https:');
    // The target speaks plain HTTP, so the TLS handshake inside the tunnel fails; what matters is the CONNECT.
    await assert.rejects(fetchWith(createDispatcher({ https_proxy: proxy.url, no_proxy: null }, {}), `${tlsOrigin}/secure`));
    assert.deepEqual(proxy.seen, [`CONNECT ${new URL(targetOrigin).host}`]);
  });

  test('network.no_proxy bypasses the proxy for matching hosts', async () => {
    proxy.seen.length = 0;
    const direct = createDispatcher({ https_proxy: proxy.url, no_proxy: 'example.com, 127.0.0.1' }, {});
    assert.equal(await fetchWith(direct, `${targetOrigin}/direct`), '200 hello from target /direct');
    assert.deepEqual(proxy.seen, []);
  });

  test('a proxy given without a scheme is read as http://', async () => {
    proxy.seen.length = 0;
    await fetchWith(createDispatcher({ https_proxy: proxy.hostPort, no_proxy: null }, {}), `${targetOrigin}/bare`);
    assert.deepEqual(proxy.seen, [`GET ${targetOrigin}/bare`]);
  });

  test('the environment: http_proxy (any case) for http:// targets, NO_PROXY respected', async () => {
    proxy.seen.length = 0;
    await fetchWith(createDispatcher(noNetwork, { http_proxy: proxy.url }), `${targetOrigin}/env-lower`);
    await fetchWith(createDispatcher(noNetwork, { Http_Proxy: proxy.url }), `${targetOrigin}/env-mixed`);
    await fetchWith(createDispatcher(noNetwork, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }), `${targetOrigin}/env-no-proxy`);
    await fetchWith(createDispatcher({ https_proxy: null, no_proxy: '127.0.0.1' }, { HTTP_PROXY: proxy.url }), `${targetOrigin}/config-no-proxy`);
    assert.deepEqual(proxy.seen, [`GET ${targetOrigin}/env-lower`, `GET ${targetOrigin}/env-mixed`]);
  });

  test('the environment: HTTPS_PROXY alone tunnels https:// and leaves http:// direct', async () => {
    proxy.seen.length = 0;
    assert.equal(await fetchWith(createDispatcher(noNetwork, { HTTPS_PROXY: proxy.url }), `${targetOrigin}/plain`), '200 hello from target /plain');
    await assert.rejects(fetchWith(createDispatcher(noNetwork, { HTTPS_PROXY: proxy.url }), `${targetOrigin.replace('http:', 'https:')}/tls`));
    assert.deepEqual(proxy.seen, [`CONNECT ${new URL(targetOrigin).host}`]);
  });

  test('no proxy anywhere: a plain keep-alive Agent, whatever process.env says', async () => {
    proxy.seen.length = 0;
    const dispatcher = createDispatcher(noNetwork, {});
    assert.ok(dispatcher instanceof Agent);
    assert.equal(await fetchWith(dispatcher, `${targetOrigin}/direct`), '200 hello from target /direct');
    assert.deepEqual(proxy.seen, []);
  });

  test('a bad proxy URL is a ConfigError that does not echo the URL (it may hold a password)', () => {
    assert.throws(() => createDispatcher({ https_proxy: 'http://user:s3cret@[bad', no_proxy: null }, {}), (e) =>
      e instanceof ConfigError && /network\.https_proxy/.test(e.message) && !e.message.includes('s3cret'));
    assert.throws(() => createDispatcher(noNetwork, { HTTPS_PROXY: 'ftp://proxy.corp:21' }), (e) => e instanceof ConfigError && /HTTPS_PROXY/.test(e.message));
  });
});
