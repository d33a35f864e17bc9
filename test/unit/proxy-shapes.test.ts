import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorBody, protocolFor, redactedGoogleError, upstreamMessage, type Protocol } from '../../src/proxy/errors';
import { clientHeaders, upstreamHeaders } from '../../src/proxy/headers';
import { sessionKey } from '../../src/proxy/session';

describe('protocolFor: which error shape a caller expects', () => {
  const gemini = { 'x-goog-api-key': 'k' };
  const table: [string, Record<string, string>, Protocol][] = [
    ['/v1/chat/completions', {}, 'openai'],
    ['/v1/models', {}, 'openai'],
    ['/v1/models', { authorization: 'Bearer k' }, 'openai'],
    ['/v1/models', gemini, 'google'],
    ['/v1/models?key=k', {}, 'google'],
    ['/v1/models/gpt-4o', {}, 'openai'],
    ['/v1/models/gemini-2.5-flash:generateContent', {}, 'google'],
    ['/v1/models/gemini-2.5-flash:streamGenerateContent', {}, 'google'],
    ['/v1/models/gemini-2.5-flash:countTokens', {}, 'google'],
    ['/v1/messages', {}, 'anthropic'],
    ['/v1/messages/count_tokens', {}, 'anthropic'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', {}, 'google'],
    ['/v1beta/models', {}, 'google'],
    ['/healthz', {}, 'google'],
    ['/admin/accounts', {}, 'google'],
    ['/nope', {}, 'google'],
  ];
  for (const [target, headers, protocol] of table) {
    test(`${target} ${JSON.stringify(headers)} -> ${protocol}`, () => {
      const url = new URL(target, 'http://localhost');
      assert.equal(protocolFor(url.pathname, headers, url.searchParams), protocol);
    });
  }
});

describe('errorBody: each protocol in its own shape', () => {
  const table: [Protocol, number, object][] = [
    ['openai', 401, { error: { message: 'm', type: 'authentication_error', code: 'invalid_api_key' } }],
    ['openai', 429, { error: { message: 'm', type: 'rate_limit_error', code: 'invalid_api_key' } }],
    ['openai', 503, { error: { message: 'm', type: 'api_error', code: 'invalid_api_key' } }],
    ['anthropic', 404, { type: 'error', error: { type: 'not_found_error', message: 'm' } }],
    ['anthropic', 413, { type: 'error', error: { type: 'request_too_large', message: 'm' } }],
    ['anthropic', 503, { type: 'error', error: { type: 'overloaded_error', message: 'm' } }],
    ['google', 400, { error: { code: 400, message: 'm', status: 'INVALID_ARGUMENT' } }],
    ['google', 403, { error: { code: 403, message: 'm', status: 'PERMISSION_DENIED' } }],
    ['google', 429, { error: { code: 429, message: 'm', status: 'RESOURCE_EXHAUSTED' } }],
    ['google', 503, { error: { code: 503, message: 'm', status: 'UNAVAILABLE' } }],
  ];
  for (const [protocol, status, expected] of table) {
    test(`${protocol} ${status}`, () => assert.deepEqual(errorBody(protocol, status, 'm', { reason: 'invalid_api_key' }), expected));
  }
  test('details go inside error', () => {
    assert.deepEqual(errorBody('google', 503, 'm', { details: { availability: { total: 1 } } }), {
      error: { code: 503, message: 'm', status: 'UNAVAILABLE', availability: { total: 1 } },
    });
  });
});

describe('upstreamMessage: Google\'s message kept, whatever the shape; the account never named', () => {
  const account: [string, string][] = [['ada@example.com', '<account>'], ['ada-project', '<project>']];
  const table: [string, string, number, [string, string][], string][] = [
    ['Google', '{"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}', 429, [], 'Resource exhausted.'],
    ['Vertex OpenAI list', '[{"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT"}}]', 400, [], 'bad field'],
    ['Anthropic', '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}', 400, [], 'max_tokens: required'],
    ['plain text', 'upstream connect error', 502, [], 'upstream connect error'],
    ['empty', '', 500, [], 'upstream answered HTTP 500'],
    ['redacted', '{"error":{"message":"caller ada@example.com lacks permission on projects/ada-project"}}', 403, account, 'caller <account> lacks permission on projects/<project>'],
    ['SSE-framed Google error', 'data: {"error":{"code":404,"message":"Model not found for ada-project","status":"NOT_FOUND"}}\n\n', 404, account, 'Model not found for <project>'],
  ];
  for (const [name, text, status, redact, expected] of table) {
    test(name, () => assert.equal(upstreamMessage(text, status, redact), expected));
  }
});

describe('redactedGoogleError: Google\'s error whole, only the account\'s names replaced', () => {
  const account: [string, string][] = [['ada@example.com', '<account>'], ['ada-project', '<project>']];
  const error = {
    error: {
      code: 403,
      message: 'Permission denied on projects/ada-project for ada@example.com',
      status: 'PERMISSION_DENIED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'aiplatform.googleapis.com', metadata: { resource: 'projects/ada-project' } }],
    },
  };
  const expected = JSON.parse(JSON.stringify(error).split('ada-project').join('<project>').split('ada@example.com').join('<account>')) as unknown;
  const table: [string, string][] = [
    ['JSON', JSON.stringify(error, null, 2)],
    ['in a list (streamGenerateContent without alt=sse)', JSON.stringify([error])],
    ['framed as an event (alt=sse)', `data: ${JSON.stringify(error)}\r\n\r\n`],
  ];
  for (const [name, text] of table) {
    test(name, () => {
      const out = JSON.parse(redactedGoogleError(text, account)!) as unknown;
      assert.deepEqual(Array.isArray(out) ? out[0] : out, expected);
    });
  }
  for (const text of ['<html>502 Bad Gateway</html>', '', '{"message":"x"}']) {
    test(`not Google's error: ${JSON.stringify(text)} -> undefined`, () => assert.equal(redactedGoogleError(text, account), undefined));
  }
});

describe('upstreamHeaders: the client\'s credentials never reach Google', () => {
  test('client auth, cookies, hop-by-hop and proxy-owned headers are dropped; the account token is set', () => {
    const out = upstreamHeaders(
      {
        host: '127.0.0.1:8046',
        authorization: 'Bearer tp-client-key',
        'x-api-key': 'tp-client-key',
        'x-goog-api-key': 'tp-client-key',
        cookie: 'session=1',
        connection: 'keep-alive, x-custom-hop',
        'x-custom-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'content-length': '12',
        'accept-encoding': 'gzip, br',
        'x-tokenpool-session': 's1',
        'x-goog-user-project': 'someone-elses-project',
        origin: 'http://localhost:3000',
        'anthropic-version': '2023-06-01',
        'user-agent': 'sdk/1.0',
      },
      'ya29.account-token',
      { 'x-goog-user-project': 'acct-proj' },
    );
    assert.deepEqual(out, {
      'anthropic-version': '2023-06-01',
      'user-agent': 'sdk/1.0',
      'x-goog-user-project': 'acct-proj',
      authorization: 'Bearer ya29.account-token',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
  });
});

describe('clientHeaders: only an allowlist comes back', () => {
  test('JSON answer', () => {
    assert.deepEqual(
      clientHeaders({ 'content-type': 'application/json', 'content-length': '10', 'x-goog-request-params': 'p', 'set-cookie': ['a=1'], server: 'ESF' }, false),
      { 'content-type': 'application/json', 'content-length': '10' },
    );
  });
  test('a stream is never cached or buffered by a reverse proxy, and has no length', () => {
    assert.deepEqual(clientHeaders({ 'content-type': 'text/event-stream', 'content-length': '10' }, true), {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  });
});

describe('sessionKey', () => {
  const table: [string, Record<string, string>, unknown, string | undefined][] = [
    ['header wins', { 'x-tokenpool-session': 'h' }, 'body-user', 'h'],
    ['body user id', {}, 'body-user', 'body-user'],
    ['non-string body ignored', {}, 42, undefined],
    ['none', {}, undefined, undefined],
  ];
  for (const [name, headers, body, expected] of table) test(name, () => assert.equal(sessionKey(headers, body), expected));
});
