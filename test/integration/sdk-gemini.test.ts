/**
 * The real Gemini SDK (@google/genai) as a client of the running proxy, on both upstream kinds.
 * The SDK is an ES module: imported dynamically from this CommonJS-compiled test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertUpstreamAuthorisedByPool, startProxyHarness } from '../helpers/proxy-harness';

for (const kind of ['vertex', 'gemini'] as const) {
  describe(`Gemini SDK through the proxy (upstream ${kind})`, () => {
    test('generateContent, generateContentStream, countTokens and a wrong key', async () => {
      const h = await startProxyHarness({ accounts: 2, pace: { chunks: 4, intervalMs: 5 }, configure: (c) => (c.upstream.kind = kind) });
      try {
        const { ApiError, GoogleGenAI } = await import('@google/genai');
        const ai = new GoogleGenAI({ apiKey: h.apiKey, httpOptions: { baseUrl: h.url } });

        const answer = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Say hi from Gemini' });
        assert.equal(answer.text, 'echo: Say hi from Gemini');

        let text = '';
        for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Stream a few words please' })) {
          text += chunk.text ?? '';
        }
        assert.equal(text, 'echo: Stream a few words please');
        assert.equal(h.upstream.requests.at(-1)!.query.get('alt'), 'sse');

        const count = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'one two three' });
        assert.equal(count.totalTokens, 3);

        assert.deepEqual(
          h.upstream.requests.map((r) => r.route),
          Array(3).fill(kind === 'vertex' ? 'vertex-gemini' : 'gemini-api'),
        );
        assertUpstreamAuthorisedByPool(h);

        const wrong = new GoogleGenAI({ apiKey: 'tp-wrong', httpOptions: { baseUrl: h.url } });
        await assert.rejects(
          wrong.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }),
          (err: unknown) => err instanceof ApiError && err.status === 401 && /API key/.test(err.message),
        );
      } finally {
        await h.close();
      }
    });
  });
}
