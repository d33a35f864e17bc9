/**
 * The chat provider's decisions (DESIGN section 12), as tables: which models are listed with which
 * limits, what sentence and LanguageModelError code a failure becomes, and the token estimate.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CancelledError } from '../../src/core/errors';
import type { Availability } from '../../src/core/pool';
import { UntranslatableError, type ConversationRequest } from '../../src/protocols/conversation';
import { HttpError } from '../../src/proxy/errors';
import { ChatAnswerError } from '../../src/vscode/chat/answer';
import { chatFailure, noAccountFailure } from '../../src/vscode/chat/errors';
import { chatModelInfo, chatModels, displayName, modelLimits, UNKNOWN_MODEL_LIMITS } from '../../src/vscode/chat/modelTable';
import { CHARS_PER_TOKEN, estimateTokens, TokenCountCache, TOKENS_PER_IMAGE } from '../../src/vscode/chat/tokenCount';

test('model table: limits by the longest matching prefix; unknown models get the conservative ones', () => {
  const rows: [string, { input: number; output: number }][] = [
    ['gemini-2.5-flash', { input: 1_048_576, output: 65_536 }],
    ['gemini-2.5-pro', { input: 1_048_576, output: 65_536 }],
    ['gemini-3-pro-preview', { input: 1_048_576, output: 65_536 }],
    ['gemini-2.0-flash-001', { input: 1_048_576, output: 8_192 }],
    ['claude-sonnet-4-5@20250929', { input: 200_000, output: 64_000 }],
    ['claude-opus-4-1@20250805', { input: 200_000, output: 32_000 }],
    ['claude-opus-4@20250514', { input: 200_000, output: 32_000 }],
    ['claude-opus-4-5@20251101', { input: 200_000, output: 64_000 }],
    ['claude-3-5-haiku@20241022', { input: 200_000, output: 8_192 }],
    ['gemma-3-27b-it', { ...UNKNOWN_MODEL_LIMITS }],
  ];
  for (const [model, limits] of rows) assert.deepEqual(modelLimits(model), limits, model);
});

test('model table: names for the picker', () => {
  const rows: [string, string][] = [
    ['gemini-2.5-flash', 'Gemini 2.5 Flash'],
    ['gemini-3-pro-preview', 'Gemini 3 Pro Preview'],
    ['claude-sonnet-4-5@20250929', 'Claude Sonnet 4.5'],
    ['claude-opus-4@20250514', 'Claude Opus 4'],
    ['claude-3-5-haiku@20241022', 'Claude 3.5 Haiku'],
  ];
  for (const [model, name] of rows) assert.equal(displayName(model), name, model);
  assert.deepEqual(chatModelInfo('claude-sonnet-4-5@20250929'), {
    id: 'claude-sonnet-4-5@20250929',
    name: 'Claude Sonnet 4.5',
    family: 'claude-sonnet-4-5',
    version: '20250929',
    tooltip: 'claude-sonnet-4-5@20250929 through your Token Pool accounts',
    detail: 'Token Pool',
    maxInputTokens: 200_000,
    maxOutputTokens: 64_000,
    capabilities: { toolCalling: true, imageInput: true },
  });
});

test('model table: upstream.models the chat can serve, in order, once: Claude on Vertex only, MaaS never', () => {
  const models = ['gemini-2.5-flash', 'claude-sonnet-4-5@20250929', 'meta/llama-4-maverick', 'gemini-2.5-flash', 'gemini-3-pro-preview'];
  assert.deepEqual(chatModels(models, 'vertex').map((m) => m.id), ['gemini-2.5-flash', 'claude-sonnet-4-5@20250929', 'gemini-3-pro-preview']);
  assert.deepEqual(chatModels(models, 'gemini').map((m) => m.id), ['gemini-2.5-flash', 'gemini-3-pro-preview']);
  assert.deepEqual(chatModels([], 'vertex'), []);
});

const availability = (over: Partial<Availability>): Availability => ({
  total: 3, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 0, eligibleForModel: 0, limited: 0, earliestCooldownEnd: null, ...over,
});
const at = (unixS: number): string => `T${unixS}`;

test('no account can serve: one sentence that says why, and the code that fits', () => {
  const rows: { name: string; a: Availability; message: RegExp; code?: string }[] = [
    { name: 'no accounts', a: availability({ total: 0 }), message: /^There are no Google accounts in Token Pool yet: add one in the Token Pool view\.$/, code: 'NoPermissions' },
    { name: 'every account disabled names Re-authenticate', a: availability({ disabled: 3 }), message: /^All 3 Token Pool accounts are disabled \(the sign-in expired or was revoked\): run "Token Pool: Re-authenticate" on each in the Token Pool view\.$/, code: 'NoPermissions' },
    { name: 'the only account disabled', a: availability({ total: 1, disabled: 1 }), message: /^The only Token Pool account is disabled .* on it in the Token Pool view\.$/, code: 'NoPermissions' },
    { name: 'disabled and turned off', a: availability({ disabled: 1, proxy_disabled: 2 }), message: /^No Token Pool account may be used: 1 disabled \(Re-authenticate in the Token Pool view\) and 2 turned off \(Enable for Proxy/, code: 'NoPermissions' },
    { name: 'cooling: when the earliest cooldown ends', a: availability({ cooling: 2, disabled: 1, earliestCooldownEnd: 1_800_000_000 }), message: /^No Token Pool account can serve gemini-2\.5-flash right now \(2 cooling down, the first until T1800000000; 1 disabled\): try again after T1800000000\.$/ },
  ];
  for (const row of rows) {
    const failure = noAccountFailure('gemini-2.5-flash', row.a, at);
    assert.match(failure.message, row.message, row.name);
    assert.equal(failure.code, row.code, row.name);
  }
});

test('chat failures: each error becomes one sentence with Google\'s message; a cancel is not a failure', () => {
  const none = availability({ disabled: 3 });
  const rows: { name: string; err: unknown; message: RegExp; code?: string }[] = [
    { name: 'the pool\'s 503 asks the pool why', err: new HttpError(503, 'No account can serve', { reason: 'no_account_available' }), message: /^All 3 Token Pool accounts are disabled/, code: 'NoPermissions' },
    { name: 'model not in the project', err: new HttpError(404, 'Publisher Model `gemini-9` was not found or your project does not have access to it.', { reason: 'upstream_error' }), message: /^gemini-2\.5-flash is not enabled in the Google Cloud project of the Token Pool accounts that tried it\. Google said: Publisher Model `gemini-9` was not found/, code: 'NotFound' },
    { name: 'a request Google refused, with Google\'s message', err: new HttpError(400, 'Function call is missing a thought_signature in functionCall parts', { reason: 'upstream_error' }), message: /^Google refused the request to gemini-2\.5-flash\. Google said: Function call is missing a thought_signature in functionCall parts\.$/ },
    { name: '403', err: new HttpError(403, 'Permission denied on resource project p.', { reason: 'upstream_error' }), message: /^Google refused access to gemini-2\.5-flash\. Google said: Permission denied/, code: 'NoPermissions' },
    { name: '429', err: new HttpError(429, 'Quota exceeded', { reason: 'upstream_error' }), message: /^Google's quota for gemini-2\.5-flash is used up on the Token Pool accounts that tried it\. Google said: Quota exceeded\.$/ },
    { name: 'unreachable', err: new HttpError(502, 'Upstream request failed: ECONNRESET', { reason: 'upstream_error' }), message: /^Google could not be reached for gemini-2\.5-flash: Upstream request failed: ECONNRESET\.$/ },
    { name: 'blocked', err: new ChatAnswerError('Google blocked the answer (SAFETY).', 'content-filter'), message: /^Google blocked the answer \(SAFETY\)\.$/, code: 'Blocked' },
    { name: 'untranslatable', err: new UntranslatableError('messages[0].content[0]', 'a tool call in a user message'), message: /^Token Pool cannot send this request to gemini-2\.5-flash: messages\[0\]\.content\[0\]: a tool call in a user message\.$/ },
    { name: 'anything else', err: new Error('boom'), message: /^Token Pool could not answer: boom\.$/ },
  ];
  for (const row of rows) {
    const failure = chatFailure(row.err, 'gemini-2.5-flash', () => none, at);
    assert.ok(failure, row.name);
    assert.match(failure.message, row.message, row.name);
    assert.equal(failure.code, row.code, row.name);
  }
  assert.equal(chatFailure(new CancelledError('client closed the connection'), 'm', () => none, at), undefined);
});

test('token estimate: four characters a token, 258 an image, tool calls and results counted', () => {
  const request: ConversationRequest = {
    model: 'gemini-2.5-flash',
    stream: false,
    tools: [],
    messages: [
      { role: 'system', text: 'abcd' },
      { role: 'user', parts: [{ type: 'text', text: 'abcdefgh' }, { type: 'file', mediaType: 'image/png', data: { base64: '' } }] },
      { role: 'assistant', parts: [{ type: 'tool-call', id: 'c', name: 'ab', input: {} }] },
      { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c', toolName: 'ab', output: [{ type: 'text', text: 'abc' }] }] },
    ],
  };
  // 4 + 8 + ('ab' + '{}') 4 + 3 = 19 characters
  assert.equal(estimateTokens(request), Math.ceil(19 / CHARS_PER_TOKEN) + TOKENS_PER_IMAGE);
  assert.equal(estimateTokens({ ...request, messages: [] }), 0);
});

test('token count cache: keeps the most recently used, drops the oldest', () => {
  const cache = new TokenCountCache(2);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1);
  cache.set('c', 3);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('c'), 3);
});
