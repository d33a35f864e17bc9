/** The real Anthropic SDK (@anthropic-ai/sdk) as a client of the running proxy, on Vertex AI. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { assertUpstreamAuthorisedByPool, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

describe('Anthropic SDK through the proxy', () => {
  let h: ProxyHarness;
  let client: Anthropic;
  before(async () => {
    h = await startProxyHarness({ accounts: 2, pace: { chunks: 4, intervalMs: 5 } });
    client = new Anthropic({ apiKey: h.apiKey, baseURL: h.url, maxRetries: 0 });
  });
  after(() => h.close());

  test('a message', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4@20250514',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Say hi from Anthropic' }],
    });
    const block = message.content[0];
    assert.equal(block.type, 'text');
    assert.equal(block.type === 'text' ? block.text : '', 'echo: Say hi from Anthropic');
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.path, '/v1/projects/harness-project/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict');
    assert.equal((seen.body as { anthropic_version: string }).anthropic_version, 'vertex-2023-10-16');
    assertUpstreamAuthorisedByPool(h);
  });

  test('a streamed message', async () => {
    const stream = client.messages.stream({
      model: 'claude-sonnet-4@20250514',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Stream a few words please' }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    assert.equal(deltas.join(''), 'echo: Stream a few words please');
    assert.equal(final.stop_reason, 'end_turn');
    assert.ok(h.upstream.requests.at(-1)!.path.endsWith(':streamRawPredict'));
    assertUpstreamAuthorisedByPool(h);
  });

  test('count_tokens', async () => {
    const count = await client.messages.countTokens({
      model: 'claude-sonnet-4@20250514',
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    assert.equal(count.input_tokens, 4);
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.route, 'vertex-anthropic-count-tokens');
    assert.equal((seen.body as { model: string }).model, 'claude-sonnet-4@20250514');
  });

  test('a wrong key is an AuthenticationError', async () => {
    const wrong = new Anthropic({ apiKey: 'tp-wrong', baseURL: h.url, maxRetries: 0 });
    await assert.rejects(
      wrong.messages.create({ model: 'claude-sonnet-4', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof Anthropic.AuthenticationError && err.status === 401,
    );
  });

  test('no account left is a 503 the SDK reports with the reason', async () => {
    for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, true);
    try {
      await assert.rejects(
        client.messages.create({ model: 'claude-sonnet-4', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
        (err: unknown) => err instanceof Anthropic.APIError && err.status === 503 && /2 proxy_disabled/.test(err.message),
      );
    } finally {
      for (const a of h.accounts) await h.pool.setProxyDisabled(a.id, false);
    }
  });
});
