/**
 * Google's errors on the native Gemini routes come back whole: the status line, and the error
 * object with every `details` entry (RetryInfo, QuotaFailure, ErrorInfo, BadRequest, DebugInfo),
 * also when Google served it as `text/event-stream` on streamGenerateContent; only the account's
 * email and project id are replaced. Translated routes carry the retry hint in `retry-after`. Real
 * HTTP against the fake Google, and the real @google/genai 3.x as a client.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UpstreamFailure } from '../fakes/upstream';
import { assertErrorShape, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const PROJECT = 'harness-project';
const EMAIL = 'user1@example.com';

/** Google's documented detail shapes (google/rpc/error_details.proto), mentioning the account where Google does. */
const BAD_REQUEST = {
  '@type': 'type.googleapis.com/google.rpc.BadRequest',
  fieldViolations: [{ field: 'contents[0].parts[0].inline_data.mime_type', description: 'Unsupported MIME type: image/x-nope' }],
};
const DEBUG_INFO = {
  '@type': 'type.googleapis.com/google.rpc.DebugInfo',
  detail: `[ORIGINAL ERROR] generic::not_found: Publisher model not found in projects/${PROJECT} [google.rpc.error_details_ext] { message: "not found" }`,
};
const ERROR_INFO = {
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: 'IAM_PERMISSION_DENIED',
  domain: 'aiplatform.googleapis.com',
  metadata: { permission: 'aiplatform.endpoints.predict', resource: `projects/${PROJECT}/locations/us-central1/publishers/google/models/gemini-2.5-flash` },
};

interface Case {
  name: string;
  kind: 'vertex' | 'gemini';
  path: string;
  failure: UpstreamFailure;
  /** The `details` @types the client must see, in Google's order. */
  types: string[];
  retryAfter?: string;
}

const CASES: Case[] = [
  {
    name: '400 with BadRequest field violations and DebugInfo (generateContent)',
    kind: 'vertex',
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    failure: { kind: 'status', status: 400, message: `Unsupported MIME type for ${EMAIL} in project ${PROJECT}`, details: [BAD_REQUEST, DEBUG_INFO] },
    types: ['BadRequest', 'DebugInfo'],
  },
  {
    name: '429 per-minute quota: QuotaFailure, Help, RetryInfo (Gemini API, v1 path)',
    kind: 'gemini',
    path: '/v1/models/gemini-2.5-flash:generateContent',
    failure: { kind: 'status', status: 429, quota: 'requests-per-minute', retryDelay: '41s' },
    types: ['QuotaFailure', 'Help', 'RetryInfo'],
    retryAfter: '41',
  },
  {
    name: '403 with ErrorInfo naming the project (countTokens)',
    kind: 'vertex',
    path: '/v1beta/models/gemini-2.5-flash:countTokens',
    failure: { kind: 'status', status: 403, message: `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${PROJECT}' for ${EMAIL}`, details: [ERROR_INFO] },
    types: ['ErrorInfo'],
  },
  {
    name: '404 served as text/event-stream on streamGenerateContent?alt=sse, with DebugInfo',
    kind: 'vertex',
    path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    failure: { kind: 'status', status: 404, details: [DEBUG_INFO] },
    types: ['DebugInfo'],
  },
  {
    name: '400 in a JSON list on streamGenerateContent without alt=sse',
    kind: 'gemini',
    path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
    failure: { kind: 'status', status: 400, message: 'Request contains an invalid argument.', details: [BAD_REQUEST] },
    types: ['BadRequest'],
  },
];

/** What Google sent, as the client should see it: the project id and the email replaced, nothing else. */
function expectedError(sent: string): unknown {
  const json = JSON.parse(sent.split(PROJECT).join('<project>').split(EMAIL).join('<account>')) as unknown;
  return Array.isArray(json) ? json[0] : json;
}

async function withHarness(kind: 'vertex' | 'gemini', body: (h: ProxyHarness) => Promise<void>): Promise<void> {
  const h = await startProxyHarness({ accounts: [{ email: EMAIL }], configure: (c) => (c.upstream.kind = kind) });
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

describe('native Gemini routes: Google\'s error whole', () => {
  for (const c of CASES) {
    test(c.name, () =>
      withHarness(c.kind, async (h) => {
        h.upstream.fail(c.failure);
        const r = await h.request(c.path, { body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
        assert.equal(r.status, c.failure.kind === 'status' ? c.failure.status : 0);
        assert.match(String(r.headers['content-type']), /^application\/json/);
        const answered = Array.isArray(r.json) ? (r.json as unknown[])[0] : r.json;
        assert.deepEqual(answered, expectedError(h.upstream.lastRequest()!.errorBody!));
        const details = (answered as { error: { details: { '@type': string }[] } }).error.details;
        assert.deepEqual(details.map((d) => d['@type'].replace('type.googleapis.com/google.rpc.', '')), c.types);
        assert.ok(!r.text.includes(EMAIL) && !r.text.includes(PROJECT), r.text);
        if (c.retryAfter) assert.equal(r.headers['retry-after'], c.retryAfter);
      }),
    );
  }

  test('a body that is not Google\'s error (a gateway\'s HTML page) gets the proxy\'s own Google-shaped error', () =>
    withHarness('vertex', async (h) => {
      h.upstream.fail({ kind: 'status', status: 400, html: '<html><body>400 Bad Request</body></html>' });
      const r = await h.request('/v1beta/models/gemini-2.5-flash:generateContent', { body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
      assert.equal(r.status, 400);
      assert.match(assertErrorShape('google', 400, r.json), /400 Bad Request/);
    }));

  test('@google/genai 3.x reads the details (QuotaFailure, RetryInfo) from the error it raises', () =>
    withHarness('gemini', async (h) => {
      h.upstream.fail({ kind: 'status', status: 429, quota: 'requests-per-day', retryDelay: '12s' });
      const { ApiError, GoogleGenAI } = await import('@google/genai-3');
      const ai = new GoogleGenAI({ apiKey: h.apiKey, httpOptions: { baseUrl: h.url } });
      const err = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.status, 429);
      const details = (JSON.parse(err.message) as { error: { details: Record<string, unknown>[] } }).error.details;
      const quota = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure') as { violations: { quotaId: string }[] };
      assert.equal(quota.violations[0].quotaId, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier');
      assert.ok(details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo' && d.retryDelay === '12s'));
    }));
});

describe('translated routes: Google\'s retry hint in retry-after', () => {
  for (const [name, path, body] of [
    ['OpenAI Chat', '/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }],
    ['Anthropic Messages', '/v1/messages', { model: 'gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }],
    ['Responses', '/v1/responses', { model: 'gemini-2.5-flash', input: 'hi' }],
  ] as const) {
    test(`${name}: a per-minute 429 with RetryInfo 41s answers retry-after: 41 in the client's shape`, () =>
      withHarness('gemini', async (h) => {
        h.upstream.fail({ kind: 'status', status: 429, quota: 'requests-per-minute', retryDelay: '41s' });
        const r = await h.request(path, { body });
        assert.equal(r.status, 429);
        assert.equal(r.headers['retry-after'], '41');
        assert.match(assertErrorShape(path === '/v1/messages' ? 'anthropic' : 'openai', 429, r.json), /You exceeded your current quota/);
      }));
  }
});
