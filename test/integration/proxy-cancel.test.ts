/**
 * What the client going away and the timeouts cancel, and where the upstream request goes, on the
 * paths the other suites cover only in passing: a client that leaves while the proxy waits for a
 * cooldown, a stream that stalls after it started, and a base_url with a path of its own.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { sampleRequest, startProxyHarness, type ErrorShape, type ProxyHarness } from '../helpers/proxy-harness';

const open = (h: ProxyHarness, shape: ErrorShape, opts: { stream?: boolean; signal?: AbortSignal } = {}) => {
  const { path, body } = sampleRequest(shape, { stream: opts.stream ?? true, prompt: 'one two three four five six seven eight' });
  return request(h.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: opts.signal,
  });
};

/** An upstream of our own (for base_url): records each request's target and how its answer ended. */
async function startUpstream(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { url: string; closed: Promise<'finished' | 'aborted'> }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', closed: once(res, 'close').then(() => (res.writableFinished ? 'finished' : 'aborted')) });
    req.resume();
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('proxy: the client going away, timeouts, the upstream URL', () => {
  test('a client that hangs up while the proxy waits for a cooldown: nothing is sent when the cooldown ends', async () => {
    const h = await startProxyHarness({ accounts: 1, configure: (c) => (c.routing.max_wait_s = 5) });
    try {
      h.upstream.fail({ kind: 'status', status: 429, retryDelay: '2s' });
      const first = await open(h, 'openai', { stream: false });
      assert.equal(first.statusCode, 429);
      await first.body.text();
      const abort = new AbortController();
      let settled = false;
      const pending = open(h, 'openai', { stream: false, signal: abort.signal }).catch((err: Error) => err).finally(() => (settled = true));
      await sleep(300);
      assert.equal(settled, false, 'the proxy is waiting for the account, not answering 503');
      abort.abort();
      assert.ok((await pending) instanceof Error);
      await sleep(2500); // past the cooldown's end
      assert.equal(h.upstream.requests.length, 1, 'only the first request reached the upstream');
    } finally {
      await h.close();
    }
  });

  test('a stream that stalls after it started is cut after request_timeout_s, and the upstream request closed', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"one"}]}}]}\r\n\r\n');
      // and nothing more
    });
    const h = await startProxyHarness({
      accounts: 1,
      configure: (c) => {
        c.upstream.base_url = upstream.url;
        c.proxy.request_timeout_s = 1;
      },
    });
    try {
      const started = Date.now();
      const response = await open(h, 'google');
      assert.equal(response.statusCode, 200);
      await assert.rejects(response.body.text(), 'the client sees the stream cut, not a clean end');
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5000, `cut after ${took} ms`);
      assert.equal(await upstream.seen[0].closed, 'aborted');
      assert.equal(upstream.seen.length, 1, 'bytes went out: no retry');
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  test('a base_url with a path: the upstream request goes under it, with its query', async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url?.includes('alt=sse')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}\r\n\r\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}');
    });
    const h = await startProxyHarness({ accounts: 1, configure: (c) => (c.upstream.base_url = `${upstream.url}/gateway/`) });
    try {
      const whole = await open(h, 'google', { stream: false });
      assert.equal(whole.statusCode, 200);
      assert.match(await whole.body.text(), /"text":"hi"/);
      const streamed = await open(h, 'google');
      assert.equal(streamed.statusCode, 200);
      assert.match(await streamed.body.text(), /"text":"hi"/);
      assert.deepEqual(
        upstream.seen.map((s) => s.url.replace(/\/projects\/[^/]+\/locations\/[^/]+\//, '/projects/P/locations/L/')),
        [
          '/gateway/v1/projects/P/locations/L/publishers/google/models/gemini-2.5-flash:generateContent',
          '/gateway/v1/projects/P/locations/L/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
        ],
      );
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});
