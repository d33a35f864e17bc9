import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidGrantError, OAuthClientMismatchError, OAuthRequestError, OAuthTransientError } from '../../src/core/errors';
import { decide, parseGoogleError, parseRetryDelay, type DecideContext, type Decision, type GoogleErrorBody, type Outcome } from '../../src/core/failover';
import type { RateLimitHit } from '../../src/core/quota';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({ consecutiveFailures: 0, already401: false, now: NOW, ...over });
const google = (message: string, details: unknown[] = []): GoogleErrorBody => ({ code: null, message, status: null, details });
const retryInfo = (retryDelay: unknown) => google('Resource exhausted.', [
  { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED' },
  { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
]);
const PER_DAY = {
  quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
  quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
  quotaDimensions: { location: 'global', model: 'gemini-2.5-pro' },
  quotaValue: '50',
};
const PER_MINUTE = { ...PER_DAY, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: '2' };
const PER_DAY_HIT = { quotaId: PER_DAY.quotaId, quotaMetric: PER_DAY.quotaMetric, window: 'per-day' as const };
/** The Gemini API's quota 429: QuotaFailure, Help, then RetryInfo (when given). */
const quotaFailure = (retryDelay: string | undefined, ...violations: object[]) =>
  google('You exceeded your current quota.', [
    { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    ...(retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] : []),
  ]);
const http = (status: number, extra: Partial<Extract<Outcome, { kind: 'http' }>> = {}): Outcome => ({ kind: 'http', status, ...extra });
const rotate = (scope: 'account' | 'model', seconds: number, reason: string): Decision => ({
  action: 'rotate',
  cooldown: { scope, seconds, reason },
});
/** A 429's decision: a model cooldown that keeps what Google said (the delay it asked for, unclamped; the quota it named). */
const limited = (seconds: number, reason: string, retryDelayS: number | null, quota: Partial<RateLimitHit> = {}): Decision => ({
  action: 'rotate',
  cooldown: {
    scope: 'model',
    seconds,
    reason,
    rateLimit: { at: NOW, retryDelayS, quotaId: null, quotaMetric: null, window: null, ...quota },
  },
});

describe('decide: the failover table', () => {
  const rows: { name: string; outcome: Outcome; ctx?: Partial<DecideContext>; want: Decision }[] = [
    { name: '200 commits and clears failures', outcome: http(200), want: { action: 'commit', clearFailures: true } },
    { name: '204 commits', outcome: http(204), ctx: { consecutiveFailures: 4 }, want: { action: 'commit', clearFailures: true } },
    { name: '400 is the client\'s mistake', outcome: http(400, { googleError: google('Invalid JSON payload') }), want: { action: 'return' } },
    { name: '404 without modelNotFound is the client\'s mistake', outcome: http(404), want: { action: 'return' } },
    { name: '413 is returned as it is', outcome: http(413), want: { action: 'return' } },
    { name: '501 is returned as it is', outcome: http(501), want: { action: 'return' } },
    { name: 'first 401 retries the same account', outcome: http(401), want: { action: 'retry_same' } },
    {
      name: 'second 401 rotates, account 10 min',
      outcome: http(401, { googleError: google('Request had invalid authentication credentials.') }),
      ctx: { already401: true },
      want: rotate('account', 600, '401 Unauthorized: Request had invalid authentication credentials.'),
    },
    {
      name: '403 rotates, account+model 30 min with Google\'s message',
      outcome: http(403, { googleError: google('Vertex AI API has not been used in project p before or it is disabled.') }),
      want: rotate('model', 1800, '403 Forbidden: Vertex AI API has not been used in project p before or it is disabled.'),
    },
    { name: '403 without a body', outcome: http(403), want: rotate('model', 1800, '403 Forbidden') },
    {
      name: '404 for a model the project lacks: account+model 1 h',
      outcome: http(404, { modelNotFound: true, googleError: google('Publisher Model `gemini-9` was not found') }),
      want: {
        action: 'rotate',
        cooldown: {
          scope: 'model',
          seconds: 3600,
          reason: '404 Not Found: Publisher Model `gemini-9` was not found',
          modelNotFound: { message: 'Publisher Model `gemini-9` was not found' },
        },
      },
    },
    { name: '429 without a hint: 5 s', outcome: http(429), want: limited(5, '429 Too Many Requests', null) },
    { name: '429 doubles per model failure: 10 s', outcome: http(429), ctx: { modelFailures: 1 }, want: limited(10, '429 Too Many Requests', null) },
    { name: '429 doubling: 320 s after 6', outcome: http(429), ctx: { modelFailures: 6 }, want: limited(320, '429 Too Many Requests', null) },
    { name: '429 doubling caps at 10 min after 7', outcome: http(429), ctx: { modelFailures: 7 }, want: limited(600, '429 Too Many Requests', null) },
    { name: '429 doubling stays capped after 50', outcome: http(429), ctx: { modelFailures: 50 }, want: limited(600, '429 Too Many Requests', null) },
    {
      name: '429 ignores account-wide failures (quotas are per model)',
      outcome: http(429),
      ctx: { consecutiveFailures: 3 },
      want: limited(5, '429 Too Many Requests', null),
    },
    {
      name: '429 with RetryInfo 30s',
      outcome: http(429, { googleError: retryInfo('30s') }),
      ctx: { modelFailures: 5 },
      want: limited(30, '429 Too Many Requests: Resource exhausted.', 30),
    },
    {
      name: '429 with RetryInfo wins over Retry-After',
      outcome: http(429, { googleError: retryInfo('1.5s'), retryAfterHeader: '120' }),
      want: limited(1.5, '429 Too Many Requests: Resource exhausted.', 1.5),
    },
    { name: '429 with Retry-After seconds', outcome: http(429, { retryAfterHeader: '42' }), want: limited(42, '429 Too Many Requests', 42) },
    {
      name: '429 just under 1 h: cooldown only',
      outcome: http(429, { retryAfterHeader: '3599' }),
      want: limited(3599, '429 Too Many Requests', 3599),
    },
    {
      name: '429 of exactly 1 h: quota protection',
      outcome: http(429, { retryAfterHeader: '3600' }),
      want: { ...limited(3600, '429 Too Many Requests', 3600), quotaProtectUntilSeconds: 3600 },
    },
    {
      name: '429 of 2 h (RetryInfo 7200s): quota protection',
      outcome: http(429, { googleError: retryInfo('7200s') }),
      want: { ...limited(7200, '429 Too Many Requests: Resource exhausted.', 7200), quotaProtectUntilSeconds: 7200 },
    },
    {
      name: '429 of a day is clamped to 6 h',
      outcome: http(429, { retryAfterHeader: '86400' }),
      want: { ...limited(21600, '429 Too Many Requests', 86400), quotaProtectUntilSeconds: 21600 },
    },
    {
      name: '429 for a per-day quota: until the reset at midnight Pacific (20 h away), not its 12 s retryDelay; no quota protection',
      outcome: http(429, { googleError: quotaFailure('12s', PER_DAY) }),
      want: limited(20 * 3600, '429 Too Many Requests: You exceeded your current quota.', 12, PER_DAY_HIT),
    },
    {
      name: '429 for a per-day quota without RetryInfo: until the reset all the same',
      outcome: http(429, { googleError: quotaFailure(undefined, PER_DAY) }),
      want: limited(20 * 3600, '429 Too Many Requests: You exceeded your current quota.', null, PER_DAY_HIT),
    },
    {
      name: '429 naming a per-minute and a per-day quota: the per-day one decides',
      outcome: http(429, { googleError: quotaFailure('30s', PER_MINUTE, PER_DAY) }),
      want: limited(20 * 3600, '429 Too Many Requests: You exceeded your current quota.', 30, PER_DAY_HIT),
    },
    {
      name: '429 for a per-minute quota follows RetryInfo',
      outcome: http(429, { googleError: quotaFailure('41.5s', PER_MINUTE) }),
      want: limited(41.5, '429 Too Many Requests: You exceeded your current quota.', 41.5, {
        quotaId: PER_MINUTE.quotaId,
        quotaMetric: PER_MINUTE.quotaMetric,
        window: 'per-minute',
      }),
    },
    { name: '429 with retryDelay 0s is clamped to 1 s', outcome: http(429, { googleError: retryInfo('0s') }), want: limited(1, '429 Too Many Requests: Resource exhausted.', 0) },
    { name: '500: account 10 s', outcome: http(500), want: rotate('account', 10, '500 Internal Server Error') },
    { name: '502: account 10 s', outcome: http(502), want: rotate('account', 10, '502 Bad Gateway') },
    {
      name: '503 after one failure: 20 s',
      outcome: http(503, { googleError: google('The service is currently unavailable.') }),
      ctx: { consecutiveFailures: 1 },
      want: rotate('account', 20, '503 Service Unavailable: The service is currently unavailable.'),
    },
    { name: '504 after 3 failures: 80 s', outcome: http(504), ctx: { consecutiveFailures: 3 }, want: rotate('account', 80, '504 Gateway Timeout') },
    { name: '500 after 4 failures: capped at 2 min', outcome: http(500), ctx: { consecutiveFailures: 4 }, want: rotate('account', 120, '500 Internal Server Error') },
    {
      name: '5xx ignores per-model failures',
      outcome: http(500),
      ctx: { modelFailures: 4 },
      want: rotate('account', 10, '500 Internal Server Error'),
    },
    {
      name: 'network error: account 10 s doubling',
      outcome: { kind: 'network', detail: 'ECONNRESET' },
      ctx: { consecutiveFailures: 2 },
      want: rotate('account', 40, 'network error: ECONNRESET'),
    },
    {
      name: 'refresh invalid_grant: disable, rotate',
      outcome: { kind: 'refresh', error: new InvalidGrantError('Token has been expired or revoked.') },
      want: { action: 'rotate', disable: { reason: 'invalid_grant: Token has been expired or revoked.' } },
    },
    {
      name: 'refresh invalid_grant with a subtype',
      outcome: { kind: 'refresh', error: new InvalidGrantError('Account has been deleted', 'invalid_rapt') },
      want: { action: 'rotate', disable: { reason: 'invalid_grant: Account has been deleted (invalid_rapt)' } },
    },
    {
      name: 'refresh invalid_client: account 1 h, never disabled',
      outcome: { kind: 'refresh', error: new OAuthClientMismatchError('invalid_client', 'The OAuth client was not found.') },
      want: rotate('account', 3600, 'token refresh failed: invalid_client: The OAuth client was not found.'),
    },
    {
      name: 'refresh unauthorized_client: account 1 h',
      outcome: { kind: 'refresh', error: new OAuthClientMismatchError('unauthorized_client', 'Unauthorized') },
      ctx: { consecutiveFailures: 3 },
      want: rotate('account', 3600, 'token refresh failed: unauthorized_client: Unauthorized'),
    },
    {
      name: 'refresh other 4xx: account 1 h',
      outcome: { kind: 'refresh', error: new OAuthRequestError(400, 'invalid_request', 'Bad Request') },
      want: rotate('account', 3600, 'token refresh failed: invalid_request: Bad Request (HTTP 400)'),
    },
    {
      name: 'refresh transient: account 10 s',
      outcome: { kind: 'refresh', error: new OAuthTransientError('token endpoint answered HTTP 500', 500) },
      want: rotate('account', 10, 'token refresh failed: token endpoint answered HTTP 500'),
    },
    {
      name: 'refresh transient doubles to 2 min',
      outcome: { kind: 'refresh', error: new OAuthTransientError('token endpoint timed out after 30000 ms') },
      ctx: { consecutiveFailures: 9 },
      want: rotate('account', 120, 'token refresh failed: token endpoint timed out after 30000 ms'),
    },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(decide(row.outcome, ctx(row.ctx)), row.want));
  }
});

describe('parseRetryDelay', () => {
  const rows: { name: string; googleError?: GoogleErrorBody | null; header?: string | null; want: number | undefined }[] = [
    { name: 'nothing', want: undefined },
    { name: 'RetryInfo "30s"', googleError: retryInfo('30s'), want: 30 },
    { name: 'RetryInfo "1.5s"', googleError: retryInfo('1.5s'), want: 1.5 },
    { name: 'RetryInfo as {seconds, nanos}', googleError: retryInfo({ seconds: '2', nanos: 500_000_000 }), want: 2.5 },
    { name: 'RetryInfo "0.2s" clamps to 1 s', googleError: retryInfo('0.2s'), want: 1 },
    { name: 'RetryInfo of exactly 6 h', googleError: retryInfo('21600s'), want: 21600 },
    { name: 'RetryInfo over 6 h clamps', googleError: retryInfo('21601s'), want: 21600 },
    { name: 'RetryInfo malformed falls back to Retry-After', googleError: retryInfo('soon'), header: '7', want: 7 },
    { name: 'other detail types are ignored', googleError: google('x', [{ '@type': 'type.googleapis.com/google.rpc.Help', retryDelay: '9s' }]), want: undefined },
    { name: 'Retry-After seconds', header: '120', want: 120 },
    { name: 'Retry-After 0 clamps to 1 s', header: '0', want: 1 },
    { name: 'Retry-After huge clamps to 6 h', header: '999999', want: 21600 },
    { name: 'Retry-After HTTP-date 90 s ahead', header: new Date(NOW + 90_000).toUTCString(), want: 90 },
    { name: 'Retry-After HTTP-date in the past clamps to 1 s', header: new Date(NOW - 90_000).toUTCString(), want: 1 },
    { name: 'Retry-After negative is ignored', header: '-5', want: undefined },
    { name: 'Retry-After fractional is ignored', header: '1.5', want: undefined },
    { name: 'Retry-After garbage is ignored', header: 'later', want: undefined },
    { name: 'Retry-After empty is ignored', header: '', want: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(parseRetryDelay(row.googleError, row.header, NOW), row.want));
  }
});

describe('parseGoogleError', () => {
  test('reads code, message, status and details', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: 'Resource exhausted.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }],
      },
    });
    const parsed = parseGoogleError(body);
    assert.deepEqual(parsed, {
      code: 429,
      message: 'Resource exhausted.',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }],
    });
    assert.equal(parseRetryDelay(parsed, null), 30);
  });

  test('accepts the array a streaming endpoint answers with', () => {
    const parsed = parseGoogleError('[{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}]');
    assert.deepEqual(parsed, { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED', details: [] });
  });

  test('missing fields get neutral values', () => {
    assert.deepEqual(parseGoogleError('{"error":{}}'), { code: null, message: '', status: null, details: [] });
  });

  for (const text of ['', 'not json', '<html>502 Bad Gateway</html>', '{"error":"invalid_grant"}', '[]', 'null', '{"message":"x"}']) {
    test(`not a Google error: ${JSON.stringify(text)}`, () => assert.equal(parseGoogleError(text), null));
  }
});
