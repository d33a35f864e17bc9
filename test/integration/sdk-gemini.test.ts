/**
 * The real Gemini SDK (@google/genai) as a client of the running proxy, on both upstream kinds, in
 * both majors users have: 3.x (the current release, devDependency alias `@google/genai-3`), which
 * calls the stable `/v1` Gemini API by default, and 2.x (`@google/genai`), which calls `/v1beta`.
 * Each is set up as the README shows it: `httpOptions.baseUrl` only. The SDK is an ES module:
 * imported dynamically from this CommonJS-compiled test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertUpstreamAuthorisedByPool, startProxyHarness } from '../helpers/proxy-harness';

const loadV2 = () => import('@google/genai');
type GenAiModule = Awaited<ReturnType<typeof loadV2>>;

const SDKS: { major: string; apiVersion: 'v1' | 'v1beta'; load: () => Promise<GenAiModule> }[] = [
  // The two majors' classes differ only in what these tests do not touch.
  { major: '3.x', apiVersion: 'v1', load: async () => (await import('@google/genai-3')) as unknown as GenAiModule },
  { major: '2.x', apiVersion: 'v1beta', load: loadV2 },
];

for (const sdk of SDKS) {
  for (const kind of ['vertex', 'gemini'] as const) {
    describe(`Gemini SDK ${sdk.major} through the proxy (upstream ${kind})`, () => {
      test(`generateContent, generateContentStream, countTokens and models.list on /${sdk.apiVersion}, and a wrong key`, async () => {
        const h = await startProxyHarness({ accounts: 2, pace: { chunks: 4, intervalMs: 5 }, configure: (c) => (c.upstream.kind = kind) });
        try {
          const { ApiError, GoogleGenAI } = await sdk.load();
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

          const listed: string[] = [];
          for await (const model of await ai.models.list()) listed.push(model.name ?? '');
          assert.deepEqual(listed, h.config.upstream.models.map((m) => `models/${m}`));

          assert.deepEqual(
            h.upstream.requests.map((r) => r.route),
            Array(3).fill(kind === 'vertex' ? 'vertex-gemini' : 'gemini-api'),
          );
          if (kind === 'gemini') {
            // The Gemini API gets the version the client called.
            assert.ok(h.upstream.requests.every((r) => r.path.startsWith(`/${sdk.apiVersion}/models/gemini-2.5-flash:`)), h.upstream.requests.map((r) => r.path).join(', '));
          }
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
}
