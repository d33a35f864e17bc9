/** The real OpenAI SDK (openai@6) as a client of the running proxy. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { assertUpstreamAuthorisedByPool, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

describe('OpenAI SDK through the proxy', () => {
  let h: ProxyHarness;
  let client: OpenAI;
  before(async () => {
    h = await startProxyHarness({ accounts: 2, pace: { chunks: 4, intervalMs: 5 } });
    client = new OpenAI({ apiKey: h.apiKey, baseURL: `${h.url}/v1`, maxRetries: 0 });
  });
  after(() => h.close());

  test('a chat completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Say hi from OpenAI' }],
    });
    assert.equal(completion.choices[0].message.content, 'echo: Say hi from OpenAI');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    // Gemini models go through the codec to generateContent (DESIGN section 10), not Vertex's OpenAI endpoint.
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.route, 'vertex-gemini');
    assert.ok(seen.path.endsWith('/publishers/google/models/gemini-2.5-flash:generateContent'));
    assert.deepEqual((seen.body as { contents: unknown }).contents, [{ role: 'user', parts: [{ text: 'Say hi from OpenAI' }] }]);
    assertUpstreamAuthorisedByPool(h);
  });

  test('a Vertex MaaS model (publisher/model) passes through to the OpenAI-compatible endpoint', async () => {
    const completion = await client.chat.completions.create({
      model: 'meta/llama-4-maverick-17b-128e-instruct-maas',
      messages: [{ role: 'user', content: 'Say hi from Llama' }],
    });
    assert.equal(completion.choices[0].message.content, 'echo: Say hi from Llama');
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.route, 'vertex-openai');
    assert.equal((seen.body as { model: string }).model, 'meta/llama-4-maverick-17b-128e-instruct-maas');
  });

  test('a streamed chat completion', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Stream a few words please' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'echo: Stream a few words please');
    assert.ok(chunks >= 4);
    assertUpstreamAuthorisedByPool(h);
  });

  test('the model list', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, h.config.upstream.models);
  });

  test('a wrong key is an AuthenticationError', async () => {
    const wrong = new OpenAI({ apiKey: 'tp-wrong', baseURL: `${h.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      wrong.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.AuthenticationError && err.status === 401 && /API key/.test(err.message),
    );
  });

  test('an upstream 429 on every account is a RateLimitError with Google\'s message', async () => {
    h.upstream.fail({ kind: 'status', status: 429, retryDelay: '7s', times: Infinity });
    try {
      await assert.rejects(
        client.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }),
        (err: unknown) =>
          err instanceof OpenAI.RateLimitError && err.headers.get('retry-after') === '7' && /Resource exhausted/.test(err.message),
      );
    } finally {
      h.upstream.clearFailures();
    }
  });
});
