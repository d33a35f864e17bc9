/**
 * The translation layer under hostile input (issue 17), over a real server and the fake upstream:
 * JSON nested too deep is a 400 in the caller's shape on every route; the native Gemini route
 * forwards the client's bytes; a $ref graph that would inline to a million copies is answered
 * without holding up a neighbour; and a failure to translate a good answer is our logged 500, not
 * the account's fault.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { geminiAnswerDecoder } from '../../src/protocols/gemini';
import { ClientSignal } from '../../src/proxy/clientSignal';
import { HttpError } from '../../src/proxy/errors';
import { forward, type ForwardCall } from '../../src/proxy/forward';
import { httpSink } from '../../src/proxy/httpSink';
import { createUpstream } from '../../src/proxy/upstream/create';
import { assertErrorShape, sampleRequest, startProxyHarness, type ErrorShape, type ProxyHarness } from '../helpers/proxy-harness';
import { doublingRefGraph } from '../helpers/hostile-input';

const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('hostile input over HTTP', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ accounts: 2 });
  });
  after(() => h.close());

  const routes: [string, string, ErrorShape, string][] = [
    ['chat', '/v1/chat/completions', 'openai', `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],"metadata":{"a":${deep(100_000)}}}`],
    ['responses', '/v1/responses', 'openai', `{"model":"gemini-2.5-flash","input":"hi","metadata":{"a":${deep(100_000)}}}`],
    ['messages', '/v1/messages', 'anthropic', `{"model":"gemini-2.5-flash","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"t","input":{"a":${deep(100_000)}}}]}]}`],
    ['gemini', '/v1beta/models/gemini-2.5-flash:generateContent', 'google', `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"x":${deep(100_000)}}`],
  ];
  for (const [name, path, shape, body] of routes) {
    test(`${name}: JSON nested 100,000 deep is a 400 in the caller's shape naming where, and the server still serves`, async () => {
      const before = h.upstream.requests.length;
      const answer = await h.request(path, { body });
      assert.equal(answer.status, 400, answer.text.slice(0, 200));
      assert.match(assertErrorShape(shape, 400, answer.json), /deeper than 128 levels, at (metadata\.a|messages\[0\]\.content\[0\]\.input\.a|x)\[0\]/);
      assert.equal(h.upstream.requests.length, before, 'nothing went upstream');
      assert.equal(h.log.lines.filter((l) => l.level === 'error').length, 0, 'no internal error');
      const next = sampleRequest(shape === 'anthropic' ? 'anthropic' : shape, { model: 'gemini-2.5-flash' });
      assert.equal((await h.request(next.path, { body: next.body })).status, 200);
    });
  }

  test('the native Gemini route forwards the bytes the client sent, unchanged', async () => {
    const text = '{ "contents" : [ {"parts":[{"text":"hi \\u00e9"}], "role":"user"} ],\n  "generationConfig": {"temperature": 1.0, "topK": 40.00} }';
    const answer = await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: text });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(h.upstream.lastRequest('vertex-gemini')?.text, text);
  });

  test('a 2 KB $ref graph: answered, the upstream body small, and a neighbour request not held up', async () => {
    const schema = doublingRefGraph();
    const neighbour = sampleRequest('google');
    const alone = await timed(() => h.request(neighbour.path, { body: neighbour.body }));
    const graph = h.request('/v1/messages', {
      body: { model: 'gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'graph', input_schema: schema }] },
    });
    const during = await timed(() => h.request(neighbour.path, { body: neighbour.body }));
    const answer = await graph;
    assert.equal(answer.status, 200, answer.text.slice(0, 300));
    const upstream = h.upstream.requests.find((r) => r.text.includes('"graph"'));
    assert.ok(upstream && upstream.text.length < 512 * 1024, `the upstream body is ${upstream?.text.length} bytes (unbounded: 62 MB)`);
    assert.ok(h.log.lines.some((l) => l.level === 'info' && /tool graph.*cut/.test(l.message)), 'one log line says the schema was cut');
    assert.ok(during.ms < alone.ms + 1000, `the neighbour took ${during.ms.toFixed(0)} ms beside it (${alone.ms.toFixed(0)} ms alone)`);
  });
});

describe('a failure to translate a good answer', () => {
  let h: ProxyHarness;
  let server: Server;
  let url: string;
  const dispatcher = new Agent();
  /** A call whose client side throws while encoding, the way a bug in an encoder would. */
  const broken = (stream: boolean): ForwardCall => ({
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: stream ? 'streamGenerateContent' : 'generateContent', stream, alt: stream ? 'sse' : undefined },
    body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    answer: {
      kind: 'events',
      decoder: (s) => geminiAnswerDecoder({ stream: s, model: 'gemini-2.5-flash' }),
      encoder: () => ({
        push: () => {
          throw new RangeError('Maximum call stack size exceeded');
        },
        end: () => '',
      }),
      render: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    },
  });

  before(async () => {
    h = await startProxyHarness({ accounts: 1, pace: { chunks: 3, intervalMs: 1 } });
    const deps = { config: h.config, pool: h.pool, log: h.log, dispatcher, upstream: createUpstream(h.config.upstream) };
    server = createServer((req, res) => {
      const stream = req.url === '/stream';
      forward(deps, { headers: req.headers, body: {}, sink: httpSink(res), signal: new ClientSignal() }, broken(stream)).catch((err: unknown) => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(err instanceof HttpError ? err.status : 599).end(err instanceof Error ? err.message : String(err));
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await dispatcher.close();
    await h.close();
  });

  test('whole: our 500, logged as an internal error, the account neither blamed nor cooled', async () => {
    const logged = h.log.lines.length;
    const answer = await request(`${url}/whole`, { method: 'POST', dispatcher });
    assert.equal(answer.statusCode, 500);
    assert.match(await answer.body.text(), /Internal proxy error while translating the answer/);
    const lines = h.log.lines.slice(logged);
    assert.ok(lines.some((l) => l.level === 'error' && /translating the gemini-2.5-flash answer failed \(an internal error, not the account's\): RangeError/.test(l.message)));
    assert.ok(!lines.some((l) => l.level === 'warn' && l.message.includes(h.accounts[0].email)), 'no warning names the account');
    const a = h.pool.availability('gemini-2.5-flash');
    assert.equal(a.cooling, 0);
    assert.equal(a.healthy, 1);
  });

  test('streamed: the response is cut, logged as ours, the account not cooled', async () => {
    const logged = h.log.lines.length;
    const answer = await request(`${url}/stream`, { method: 'POST', dispatcher });
    assert.equal(answer.statusCode, 200, 'the stream had started');
    await assert.rejects(answer.body.text(), 'the stream is cut, not ended as if complete');
    const lines = h.log.lines.slice(logged);
    assert.ok(lines.some((l) => l.level === 'error' && /an internal error, not the account's/.test(l.message)));
    assert.equal(h.pool.availability('gemini-2.5-flash').cooling, 0);
  });
});

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}
