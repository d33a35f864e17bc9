/**
 * Streaming as a client feels it: the first chunk arrives while the upstream is still writing, a
 * client that hangs up cancels the upstream request, and a stream cut upstream after it started is
 * cut for the client too (no retry once bytes went out). Non-streamed answers, which the proxy reads
 * whole before answering: a large one still arrives intact, a client that hangs up meanwhile cancels
 * the upstream request, and one cut upstream is answered 502.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { assertErrorShape, sampleRequest, startProxyHarness, type ErrorShape, type ProxyHarness } from '../helpers/proxy-harness';

const open = (h: ProxyHarness, shape: ErrorShape, signal?: AbortSignal, stream = true) => {
  const { path, body } = sampleRequest(shape, { stream, prompt: 'one two three four five six seven eight' });
  return request(h.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
};

describe('proxy streaming', () => {
  for (const shape of ['openai', 'anthropic', 'google'] as const) {
    test(`${shape}: the first chunk reaches the client before the upstream has finished the stream`, async () => {
      const h = await startProxyHarness({ accounts: 1, pace: { chunks: 6, intervalMs: 250 } });
      try {
        const started = Date.now();
        const response = await open(h, shape);
        assert.equal(response.statusCode, 200);
        assert.match(String(response.headers['content-type']), /text\/event-stream/);
        assert.equal(response.headers['cache-control'], 'no-cache');
        const iterator = response.body[Symbol.asyncIterator]();
        const first = await iterator.next();
        const firstAt = Date.now() - started;
        const upstream = h.upstream.requests[0];
        assert.equal(upstream.outcome, 'pending', 'the upstream is still streaming');
        assert.match(Buffer.from(first.value as Buffer).toString('utf8'), /^(event: |data: )/);
        assert.ok(firstAt < 1000, `first chunk after ${firstAt} ms`);
        let rest = Buffer.from(first.value as Buffer).toString('utf8');
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest += Buffer.from(next.value as Buffer).toString('utf8');
        assert.equal(await upstream.settled, 'finished');
        assert.ok(Date.now() - started >= 1200, 'the whole stream took the upstream\'s time');
        assert.ok(rest.length > 0);
      } finally {
        await h.close();
      }
    });
  }

  // openai on a Gemini model is translated; google is passed through byte for byte.
  for (const shape of ['openai', 'google'] as const) {
    test(`${shape}: a client that hangs up mid-stream cancels the upstream request`, async () => {
      const h = await startProxyHarness({ accounts: 1, pace: { chunks: 50, intervalMs: 100 } });
      try {
        const abort = new AbortController();
        const response = await open(h, shape, abort.signal);
        const iterator = response.body[Symbol.asyncIterator]();
        await iterator.next();
        abort.abort();
        await iterator.next().catch(() => undefined);
        const started = Date.now();
        assert.equal(await h.upstream.requests[0].settled, 'aborted');
        assert.ok(Date.now() - started < 1000, 'cancelled at once, not when the upstream finished');
        // The proxy is fine afterwards, and the account was not blamed.
        h.upstream.pace({ chunks: 2, intervalMs: 0 });
        const again = await open(h, shape);
        assert.equal(again.statusCode, 200);
        await again.body.text();
        const accounts = (await h.request('/admin/accounts')).json as { accounts: { cooldowns: unknown[] }[] };
        assert.deepEqual(accounts.accounts[0].cooldowns, []);
      } finally {
        await h.close();
      }
    });
  }

  test('a client that hangs up while the upstream has not answered yet cancels it too', async () => {
    const h = await startProxyHarness({ accounts: 1 });
    try {
      h.upstream.fail({ kind: 'hang' });
      const abort = new AbortController();
      const pending = open(h, 'anthropic', abort.signal).catch((err: Error) => err);
      const upstream = await h.upstream.waitForRequest(() => true);
      abort.abort();
      assert.ok((await pending) instanceof Error);
      assert.equal(await upstream.settled, 'aborted');
    } finally {
      await h.close();
    }
  });

  test('an upstream reset after the stream started cuts the client response: no retry, the account cools', async () => {
    const h = await startProxyHarness({ accounts: 2, pace: { chunks: 6, intervalMs: 20 } });
    try {
      h.upstream.fail({ kind: 'reset-mid-stream', afterChunks: 2 });
      const response = await open(h, 'google');
      assert.equal(response.statusCode, 200);
      await assert.rejects(response.body.text());
      assert.equal(h.upstream.requests.length, 1, 'bytes went out: no second account');
      const email = h.upstream.requests[0].email;
      const accounts = (await h.request('/admin/accounts')).json as { accounts: { email: string; state: string }[] };
      assert.equal(accounts.accounts.find((a) => a.email === email)?.state, 'cooling');
    } finally {
      await h.close();
    }
  });
});

describe('proxy non-streamed answers', () => {
  test('an answer larger than the proxy reads at once arrives whole', async () => {
    const h = await startProxyHarness({ accounts: 1 });
    try {
      const prompt = 'abcdefghij'.repeat(150_000); // 1.5 MB, echoed back in the answer
      const { path, body } = sampleRequest('openai', { prompt });
      const r = await h.request(path, { body });
      assert.equal(r.status, 200);
      const answer = r.json as { choices: { message: { content: string } }[] };
      assert.equal(answer.choices[0].message.content, `echo: ${prompt}`);
    } finally {
      await h.close();
    }
  });

  test('a client that hangs up while the answer is on its way cancels the upstream request', async () => {
    let upstreamClosed: Promise<'finished' | 'aborted'> | undefined;
    const upstream = await startPartialUpstream((res) => {
      upstreamClosed = once(res, 'close').then(() => (res.writableFinished ? 'finished' : 'aborted'));
    });
    const h = await startProxyHarness({ accounts: 1, configure: (c) => (c.upstream.base_url = upstream.url) });
    try {
      const abort = new AbortController();
      const pending = open(h, 'openai', abort.signal, false).catch((err: Error) => err);
      await committed(h);
      abort.abort();
      assert.ok((await pending) instanceof Error);
      const started = Date.now();
      assert.equal(await upstreamClosed, 'aborted');
      assert.ok(Date.now() - started < 1000, 'cancelled at once');
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  test('an upstream that cuts the answer short: 502 in the caller\'s shape, no retry, the account cools', async () => {
    const upstream = await startPartialUpstream((res) => setTimeout(() => res.destroy(), 50));
    const h = await startProxyHarness({ accounts: 2, configure: (c) => (c.upstream.base_url = upstream.url) });
    try {
      const { path, body } = sampleRequest('anthropic');
      const r = await h.request(path, { body });
      assert.equal(r.status, 502);
      assert.match(assertErrorShape('anthropic', 502, r.json), /cut short/);
      assert.equal(upstream.requests(), 1, 'the account had answered: no second account');
      const accounts = (await h.request('/admin/accounts')).json as { accounts: { email: string; state: string }[] };
      assert.deepEqual(accounts.accounts.map((a) => a.state).sort(), ['cooling', 'healthy']);
      assert.ok(!h.accounts.some((a) => r.text.includes(a.email)), 'no account is named');
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});

/** An upstream that answers 200 with the start of a JSON body and then leaves the rest to `then`. */
async function startPartialUpstream(then: (res: ServerResponse) => void) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"chatcmpl-1","choices":[');
    then(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Until the proxy has had the upstream's headers: its attempt committed. */
async function committed(h: ProxyHarness): Promise<void> {
  while (!h.log.lines.some((l) => l.message.includes('-> 200 via'))) await new Promise((r) => setTimeout(r, 10));
}
