/**
 * No response header or body of the API surface ever carries an account's email or token: every
 * protocol, streamed or not, successes and each kind of failure (including an upstream error
 * message that names the account), scanned for every email, refresh token and access token known.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleRequest, startProxyHarness, type HarnessResponse } from '../helpers/proxy-harness';

test('no email or token in any response header or body', async () => {
  const h = await startProxyHarness({ accounts: 3, pace: { chunks: 3, intervalMs: 0 } });
  try {
    const [a, b, c] = h.accounts;
    const seen: { what: string; r: HarnessResponse }[] = [];
    const call = async (what: string, path: string, body?: unknown, method?: string) => {
      seen.push({ what, r: await h.request(path, { body, method }) });
    };
    for (const shape of ['openai', 'anthropic', 'google'] as const) {
      for (const stream of [false, true]) {
        const { path, body } = sampleRequest(shape, { stream, prompt: 'what is my account?' });
        await call(`${shape} stream=${stream}`, path, body);
      }
    }
    await call('anthropic count_tokens', '/v1/messages/count_tokens', sampleRequest('anthropic').body);
    await call('gemini countTokens', '/v1beta/models/gemini-2.5-flash:countTokens', sampleRequest('google').body);
    await call('models', '/v1/models');
    await call('gemini models', '/v1beta/models');
    await call('healthz', '/healthz');

    // Failures whose upstream messages name the account.
    h.upstream.fail({ email: a.email, kind: 'status', status: 403, message: `Permission denied for ${a.email}`, times: Infinity });
    h.upstream.fail({ email: b.email, kind: 'status', status: 429, message: `Quota exceeded for ${b.email}`, retryDelay: '20s', times: Infinity });
    h.upstream.fail({ email: c.email, kind: 'status', status: 400, message: `Bad request from ${c.email}`, times: Infinity });
    for (let i = 0; i < 3; i++) await call(`failure ${i}`, sampleRequest('openai').path, sampleRequest('openai').body);
    // And the 503 once nothing is left.
    h.google.revokeRefreshToken(c.refreshToken);
    h.google.expireAccessTokens(c.email);
    await call('exhausted', sampleRequest('google').path, sampleRequest('google').body);

    assert.ok(seen.some((s) => s.r.status === 400 && s.r.text.includes('<account>')), 'the redacted message is still there');
    assert.ok(seen.some((s) => s.r.status === 503));
    const secrets = await h.secrets();
    assert.ok(secrets.length >= 9, 'emails, refresh tokens and access tokens');
    for (const { what, r } of seen) {
      const raw = JSON.stringify(r.headers) + '\n' + r.text;
      for (const secret of secrets) assert.ok(!raw.includes(secret), `${what} (HTTP ${r.status}) leaks ${secret.includes('@') ? secret : 'a token'}`);
    }
  } finally {
    await h.close();
  }
});
