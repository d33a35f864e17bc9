import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig, type Config } from '../../src/core/config';
import { HttpError } from '../../src/proxy/errors';
import { createUpstream } from '../../src/proxy/upstream/create';
import { checkModel, type UpstreamAccount, type UpstreamOp } from '../../src/proxy/upstream/target';

const upstream = (overrides: Partial<Config['upstream']> = {}): Config['upstream'] => ({
  ...defaultConfig().upstream,
  project_id: 'cfg-proj',
  ...overrides,
});
const noAccountOverrides: UpstreamAccount = { projectId: null, location: null };
const V = 'https://us-central1-aiplatform.googleapis.com/v1/projects/cfg-proj/locations/us-central1';

interface Row {
  name: string;
  config: Config['upstream'];
  account?: UpstreamAccount;
  op: UpstreamOp;
  body: Record<string, unknown>;
  url: string;
  sentBody?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const table: Row[] = [
  {
    name: 'vertex: OpenAI model gets the google/ publisher',
    config: upstream(),
    op: { api: 'openai-chat', model: 'gemini-2.5-flash', stream: false },
    body: { model: 'gemini-2.5-flash', messages: [] },
    url: `${V}/endpoints/openapi/chat/completions`,
    sentBody: { model: 'google/gemini-2.5-flash', messages: [] },
    headers: {},
  },
  {
    name: 'vertex: OpenAI model that names its publisher is kept',
    config: upstream(),
    op: { api: 'openai-chat', model: 'meta/llama-3.1', stream: true },
    body: { model: 'meta/llama-3.1', stream: true },
    url: `${V}/endpoints/openapi/chat/completions`,
    sentBody: { model: 'meta/llama-3.1', stream: true },
  },
  {
    name: 'vertex: the account project and location override the config',
    config: upstream(),
    account: { projectId: 'acct-proj', location: 'europe-west4' },
    op: { api: 'gemini', model: 'gemini-2.5-pro', method: 'generateContent', stream: false },
    body: { contents: [] },
    url: 'https://europe-west4-aiplatform.googleapis.com/v1/projects/acct-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent',
    sentBody: { contents: [] },
  },
  {
    name: 'vertex: global location uses the bare host',
    config: upstream({ location: 'global' }),
    op: { api: 'gemini', model: 'gemini-2.5-pro', method: 'countTokens', stream: false },
    body: { contents: [] },
    url: 'https://aiplatform.googleapis.com/v1/projects/cfg-proj/locations/global/publishers/google/models/gemini-2.5-pro:countTokens',
  },
  {
    name: 'vertex: streaming Gemini adds alt=sse',
    config: upstream(),
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: 'streamGenerateContent', stream: true },
    body: { contents: [] },
    url: `${V}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
  },
  {
    name: 'vertex: streaming Gemini keeps an alt the client chose',
    config: upstream(),
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: 'streamGenerateContent', stream: true, alt: 'json' },
    body: { contents: [] },
    url: `${V}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=json`,
  },
  {
    name: 'vertex: Anthropic messages -> rawPredict, body without model, with the vertex anthropic_version',
    config: upstream(),
    op: { api: 'anthropic-messages', model: 'claude-sonnet-4@20250514', stream: false },
    body: { model: 'claude-sonnet-4@20250514', max_tokens: 10, messages: [] },
    url: `${V}/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict`,
    sentBody: { max_tokens: 10, messages: [], anthropic_version: 'vertex-2023-10-16' },
  },
  {
    name: 'vertex: Anthropic streaming -> streamRawPredict',
    config: upstream(),
    op: { api: 'anthropic-messages', model: 'claude-opus-4', stream: true },
    body: { model: 'claude-opus-4', stream: true, messages: [] },
    url: `${V}/publishers/anthropic/models/claude-opus-4:streamRawPredict`,
    sentBody: { stream: true, messages: [], anthropic_version: 'vertex-2023-10-16' },
  },
  {
    name: 'vertex: Anthropic count_tokens keeps the model in the body',
    config: upstream(),
    op: { api: 'anthropic-count-tokens', model: 'claude-opus-4', stream: false },
    body: { model: 'claude-opus-4', messages: [] },
    url: `${V}/publishers/anthropic/models/count-tokens:rawPredict`,
    sentBody: { model: 'claude-opus-4', messages: [], anthropic_version: 'vertex-2023-10-16' },
  },
  {
    name: 'vertex: base_url replaces the Google host',
    config: upstream({ base_url: 'http://127.0.0.1:9999/' }),
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: 'generateContent', stream: false },
    body: {},
    url: 'http://127.0.0.1:9999/v1/projects/cfg-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent',
  },
  {
    name: 'gemini: Gemini paths pass through, with the project as x-goog-user-project',
    config: upstream({ kind: 'gemini' }),
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: 'generateContent', stream: false },
    body: { contents: [] },
    url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    sentBody: { contents: [] },
    headers: { 'x-goog-user-project': 'cfg-proj' },
  },
  {
    name: 'gemini: streaming adds alt=sse; the account project wins',
    config: upstream({ kind: 'gemini' }),
    account: { projectId: 'acct-proj', location: null },
    op: { api: 'gemini', model: 'gemini-2.5-flash', method: 'streamGenerateContent', stream: true },
    body: {},
    url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    headers: { 'x-goog-user-project': 'acct-proj' },
  },
  {
    name: 'gemini: OpenAI -> the OpenAI-compatible endpoint, model unchanged',
    config: upstream({ kind: 'gemini', base_url: 'http://127.0.0.1:9999' }),
    op: { api: 'openai-chat', model: 'gemini-2.5-flash', stream: false },
    body: { model: 'gemini-2.5-flash' },
    url: 'http://127.0.0.1:9999/v1beta/openai/chat/completions',
    sentBody: { model: 'gemini-2.5-flash' },
    headers: { 'x-goog-user-project': 'cfg-proj' },
  },
  {
    name: 'gemini: no project anywhere -> no x-goog-user-project',
    config: upstream({ kind: 'gemini', project_id: '' }),
    op: { api: 'openai-chat', model: 'gemini-2.5-flash', stream: false },
    body: { model: 'gemini-2.5-flash' },
    url: 'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
    headers: {},
  },
];

describe('upstream mapping (DESIGN section 6)', () => {
  for (const row of table) {
    test(row.name, () => {
      const target = createUpstream(row.config).target(row.op, row.body, row.account ?? noAccountOverrides);
      assert.equal(target.url, row.url);
      if (row.sentBody) assert.deepEqual(JSON.parse(target.body.toString('utf8')), row.sentBody);
      if (row.headers) assert.deepEqual(target.headers, row.headers);
    });
  }
});

describe('what an upstream cannot serve', () => {
  const anthropic: UpstreamOp = { api: 'anthropic-messages', model: 'claude-opus-4', stream: false };
  const count: UpstreamOp = { api: 'anthropic-count-tokens', model: 'claude-opus-4', stream: false };
  const gemini: UpstreamOp = { api: 'gemini', model: 'gemini-2.5-flash', method: 'generateContent', stream: false };

  test('the Gemini API has no Anthropic route', () => {
    const api = createUpstream(upstream({ kind: 'gemini' }));
    assert.match(api.unsupported(anthropic) ?? '', /not served by the Gemini API/);
    assert.match(api.unsupported(count) ?? '', /not served by the Gemini API/);
    assert.equal(api.unsupported(gemini), undefined);
    assert.throws(() => api.target(anthropic, {}, noAccountOverrides), (e: HttpError) => e.status === 404);
  });

  test('Vertex serves every protocol', () => {
    const vertex = createUpstream(upstream());
    for (const op of [anthropic, count, gemini]) assert.equal(vertex.unsupported(op), undefined);
  });

  test('Vertex without any project is a clear error, not a broken URL', () => {
    assert.throws(
      () => createUpstream(upstream({ project_id: '' })).target(gemini, {}, noAccountOverrides),
      (e: HttpError) => e.status === 500 && /upstream\.project_id/.test(e.message),
    );
  });

  for (const model of ['../../v1/projects/x', 'gemini?alt=x', 'a/b', 'a:b', '', 'model#frag']) {
    test(`a model name that would walk the upstream path is refused: ${JSON.stringify(model)}`, () => {
      for (const kind of ['vertex', 'gemini'] as const) {
        assert.throws(
          () => createUpstream(upstream({ kind })).target({ ...gemini, model }, {}, noAccountOverrides),
          (e: HttpError) => e.status === 400,
        );
      }
    });
  }
});

describe('checkModel: refused before an account is spent', () => {
  const table: [UpstreamOp, boolean][] = [
    [{ api: 'gemini', model: '../x', method: 'generateContent', stream: false }, false],
    [{ api: 'anthropic-messages', model: 'claude?x', stream: false }, false],
    [{ api: 'anthropic-messages', model: 'claude-sonnet-4@20250514', stream: false }, true],
    // the model only goes into the body here: any string the upstream accepts
    [{ api: 'openai-chat', model: 'meta/llama-3.1-405b-instruct-maas', stream: false }, true],
    [{ api: 'anthropic-count-tokens', model: 'claude-sonnet-4@20250514', stream: false }, true],
  ];
  for (const [op, ok] of table) {
    test(`${op.api} ${op.model} -> ${ok ? 'ok' : '400'}`, () => {
      if (ok) assert.doesNotThrow(() => checkModel(op));
      else assert.throws(() => checkModel(op), (e: HttpError) => e.status === 400);
    });
  }
});
