import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  InvalidGrantError,
  OAuthClientMismatchError,
  OAuthError,
  OAuthRequestError,
  OAuthTransientError,
} from '../../src/core/errors';
import { classifyOAuthFailure, createPkce, GoogleOAuth } from '../../src/core/oauth';
import { FakeGoogle } from '../fakes/google';

type ErrorClass = new (...args: never[]) => OAuthError;
const json = (v: unknown) => JSON.stringify(v);

describe('classifyOAuthFailure (status x body -> error)', () => {
  const cases: { status: number; body: string; want: ErrorClass; code: string; message?: RegExp }[] = [
    { status: 400, body: json({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }), want: InvalidGrantError, code: 'OAUTH_INVALID_GRANT', message: /^invalid_grant: Token has been expired or revoked\.$/ },
    { status: 400, body: json({ error: 'invalid_grant', error_description: 'reauth related error (invalid_rapt)', error_subtype: 'invalid_rapt' }), want: InvalidGrantError, code: 'OAUTH_INVALID_GRANT', message: /^invalid_grant: reauth related error \(invalid_rapt\) \(invalid_rapt\)$/ },
    // invalid_grant only counts on a 400 with a JSON body
    { status: 401, body: json({ error: 'invalid_grant', error_description: 'x' }), want: OAuthRequestError, code: 'OAUTH_REQUEST_REJECTED' },
    { status: 500, body: json({ error: 'invalid_grant' }), want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: 'invalid_grant', want: OAuthTransientError, code: 'OAUTH_TRANSIENT', message: /non-JSON/ },
    { status: 400, body: '<html><body>Bad Request</body></html>', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: '', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: '{"error":"invalid_grant"', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: json(['invalid_grant']), want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: json({ message: 'no error field' }), want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 401, body: json({ error: 'invalid_client', error_description: 'The OAuth client was not found.' }), want: OAuthClientMismatchError, code: 'OAUTH_CLIENT_MISMATCH' },
    { status: 400, body: json({ error: 'invalid_client', error_description: 'Unauthorized' }), want: OAuthClientMismatchError, code: 'OAUTH_CLIENT_MISMATCH' },
    { status: 401, body: json({ error: 'unauthorized_client', error_description: 'Unauthorized' }), want: OAuthClientMismatchError, code: 'OAUTH_CLIENT_MISMATCH' },
    { status: 400, body: json({ error: 'unauthorized_client' }), want: OAuthClientMismatchError, code: 'OAUTH_CLIENT_MISMATCH' },
    { status: 500, body: json({ error: 'server_error' }), want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 502, body: '<html>Bad Gateway</html>', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 503, body: '', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 429, body: json({ error: 'rate_limit_exceeded' }), want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 408, body: '', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 302, body: '', want: OAuthTransientError, code: 'OAUTH_TRANSIENT' },
    { status: 400, body: json({ error: 'invalid_request', error_description: 'Missing required parameter: refresh_token' }), want: OAuthRequestError, code: 'OAUTH_REQUEST_REJECTED', message: /^invalid_request: Missing required parameter: refresh_token \(HTTP 400\)$/ },
    { status: 400, body: json({ error: 'redirect_uri_mismatch', error_description: 'Bad Request' }), want: OAuthRequestError, code: 'OAUTH_REQUEST_REJECTED' },
    { status: 403, body: json({ error: 'access_denied' }), want: OAuthRequestError, code: 'OAUTH_REQUEST_REJECTED' },
    { status: 404, body: '<html>Not Found</html>', want: OAuthRequestError, code: 'OAUTH_REQUEST_REJECTED', message: /HTTP 404/ },
  ];
  for (const c of cases) {
    test(`${c.status} ${c.body.slice(0, 60) || '(empty)'} -> ${c.want.name}`, () => {
      const err = classifyOAuthFailure('token', c.status, c.body);
      assert.ok(err instanceof c.want, `got ${err.constructor.name}: ${err.message}`);
      assert.equal(err.code, c.code);
      if (c.message) assert.match(err.message, c.message);
    });
  }
});

describe('GoogleOAuth against FakeGoogle', () => {
  let fake: FakeGoogle;
  let oauth: GoogleOAuth;
  const now = 1_700_000_000_000;

  before(async () => {
    fake = await FakeGoogle.start({ accessTokenTtlS: 3599 });
    oauth = new GoogleOAuth(fake.oauthConfig(), { now: () => now, timeoutMs: 2000 });
  });
  after(() => fake.close());

  test('refresh returns a token set whose expiry is now + expires_in', async () => {
    const { email, refreshToken } = fake.addUser('ada@example.com', { name: 'Ada' });
    const tokens = await oauth.refresh(refreshToken);
    assert.match(tokens.access_token, /^ya29\.fake-/);
    assert.equal(tokens.expires_in, 3599);
    assert.equal(tokens.expiry_timestamp, now / 1000 + 3599);
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.id_token, 'openid scope gives an id_token');
    assert.equal(tokens.refresh_token, undefined, 'a refresh grant does not rotate the refresh token');
    assert.equal(fake.isAccessTokenValid(tokens.access_token), email);
    assert.deepEqual(fake.calls.at(-1), { path: '/token', grantType: 'refresh_token', email });
    const info = await oauth.userinfo(tokens.access_token);
    assert.equal(info.email, email);
    assert.equal(info.name, 'Ada');
    assert.match(info.sub ?? '', /^\d{21}$/);
  });

  test('an ADC refresh token works with its own client and is refused with the configured one', async () => {
    fake.addUser('adc@example.com');
    fake.registerClient('764086051850-gcloud-like.apps.googleusercontent.com', 'd-FL95Q19q7MQmFpd7hHD0Ty');
    const adcToken = fake.issueRefreshToken('adc@example.com', { clientId: '764086051850-gcloud-like.apps.googleusercontent.com' });
    const tokens = await oauth.refresh(adcToken, {
      client_id: '764086051850-gcloud-like.apps.googleusercontent.com',
      client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
    });
    assert.equal(fake.isAccessTokenValid(tokens.access_token), 'adc@example.com');
    await assert.rejects(oauth.refresh(adcToken), (err) => err instanceof OAuthClientMismatchError && err.error === 'unauthorized_client');
  });

  test('the fake answers each failure kind with Google\'s JSON and the client classifies it', async () => {
    const { refreshToken } = fake.addUser('table@example.com');
    const accessToken = (await oauth.refresh(refreshToken)).access_token;
    const wrongSecret = new GoogleOAuth(fake.oauthConfig({ client_secret: 'GOCSPX-wrong-secret' }));
    const unknownClient = new GoogleOAuth(fake.oauthConfig({ client_id: 'nobody.apps.googleusercontent.com' }));
    const noClient = new GoogleOAuth(fake.oauthConfig({ client_id: '', client_secret: '' }));
    const rows: { name: string; run: () => Promise<unknown>; want: ErrorClass; check?: (e: OAuthError) => void }[] = [
      { name: 'scripted invalid_grant', run: scripted('invalid_grant'), want: InvalidGrantError, check: (e) => assert.equal((e as InvalidGrantError).reason, 'invalid_grant: Token has been expired or revoked.') },
      { name: 'scripted invalid_client', run: scripted('invalid_client'), want: OAuthClientMismatchError },
      { name: 'scripted unauthorized_client (401)', run: scripted('unauthorized_client'), want: OAuthClientMismatchError },
      { name: 'scripted unauthorized_client (400)', run: scripted('unauthorized_client', { status: 400 }), want: OAuthClientMismatchError },
      { name: 'scripted server_error', run: scripted('server_error'), want: OAuthTransientError, check: (e) => assert.equal((e as OAuthTransientError).status, 500) },
      { name: 'scripted slow beyond the timeout', run: () => { fake.script({ refreshToken, kind: 'slow', delayMs: 2000, times: 1 }); return new GoogleOAuth(fake.oauthConfig(), { timeoutMs: 100 }).refresh(refreshToken); }, want: OAuthTransientError, check: (e) => assert.match(e.message, /timed out after 100 ms/) },
      { name: 'wrong client secret', run: () => wrongSecret.refresh(refreshToken), want: OAuthClientMismatchError, check: (e) => assert.equal((e as OAuthClientMismatchError).error, 'invalid_client') },
      { name: 'unknown client', run: () => unknownClient.refresh(refreshToken), want: OAuthClientMismatchError },
      { name: 'no client id', run: () => noClient.refresh(refreshToken), want: OAuthRequestError },
      { name: 'unknown refresh token', run: () => oauth.refresh('1//fake-never-issued-token'), want: InvalidGrantError },
      { name: 'userinfo with an unknown token', run: () => oauth.userinfo('ya29.fake-never-issued-token'), want: OAuthRequestError, check: (e) => assert.equal((e as OAuthRequestError).status, 401) },
      { name: 'revoke an unknown token', run: () => oauth.revoke('1//fake-never-issued-token'), want: OAuthRequestError, check: (e) => assert.equal((e as OAuthRequestError).error, 'invalid_token') },
    ];
    for (const row of rows) {
      const err = await row.run().then(() => assert.fail(`${row.name}: resolved`), (e: unknown) => e as OAuthError);
      assert.ok(err instanceof row.want, `${row.name}: got ${err.constructor.name}: ${err.message}`);
      assertNoSecret(err, [refreshToken, accessToken, fake.clientSecret]);
      row.check?.(err);
    }
    // the scripted rows were used up (times: 1): the token works again
    assert.ok((await oauth.refresh(refreshToken)).access_token);

    function scripted(kind: 'invalid_grant' | 'invalid_client' | 'unauthorized_client' | 'server_error', extra: { status?: number } = {}) {
      return () => {
        fake.script({ refreshToken, kind, times: 1, ...extra });
        return oauth.refresh(refreshToken);
      };
    }
  });

  test('a scripted failure by email with a subtype, limited by times', async () => {
    const { refreshToken } = fake.addUser('rapt@example.com');
    fake.script({ email: 'RAPT@example.com', kind: 'invalid_grant', times: 2, description: 'reauth related error (invalid_rapt)', subtype: 'invalid_rapt' });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(oauth.refresh(refreshToken), (err) =>
        err instanceof InvalidGrantError && err.subtype === 'invalid_rapt' && err.reason === 'invalid_grant: reauth related error (invalid_rapt) (invalid_rapt)');
    }
    assert.ok((await oauth.refresh(refreshToken)).access_token);
    assert.equal(fake.tokenCalls('rapt@example.com'), 3);
  });

  test('revoke then refresh -> invalid_grant with Google\'s description', async () => {
    const { refreshToken } = fake.addUser('revoked@example.com');
    const { access_token } = await oauth.refresh(refreshToken);
    await oauth.revoke(refreshToken);
    assert.equal(fake.isAccessTokenValid(access_token), undefined, 'revoking the refresh token revokes its access tokens');
    const err = await oauth.refresh(refreshToken).then(() => assert.fail('refresh after revoke resolved'), (e: unknown) => e);
    assert.ok(err instanceof InvalidGrantError);
    assert.equal(err.reason, 'invalid_grant: Token has been expired or revoked.');
    assertNoSecret(err, [refreshToken, access_token]);
    await assert.rejects(oauth.revoke(refreshToken), OAuthRequestError);
  });

  test('revoking an access token revokes its refresh token too; revokeRefreshToken only the refresh token', async () => {
    const { refreshToken } = fake.addUser('pair@example.com');
    await oauth.revoke((await oauth.refresh(refreshToken)).access_token);
    await assert.rejects(oauth.refresh(refreshToken), InvalidGrantError);

    const second = fake.issueRefreshToken('pair@example.com');
    const { access_token } = await oauth.refresh(second);
    fake.revokeRefreshToken(second);
    assert.equal(fake.isAccessTokenValid(access_token), 'pair@example.com');
    await assert.rejects(oauth.refresh(second), InvalidGrantError);
    fake.expireAccessTokens('pair@example.com');
    assert.equal(fake.isAccessTokenValid(access_token), undefined);
  });

  test('code exchange verifies the PKCE verifier; a wrong one is invalid_grant', async () => {
    fake.addUser('pkce@example.com');
    fake.approveAs('pkce@example.com');
    const redirectUri = 'http://127.0.0.1:9/callback';
    const pkce = createPkce();
    const code = await consentCode(oauth.authorizationUrl({ redirectUri, state: 's1', codeChallenge: pkce.challenge }));

    const wrong = await oauth.exchangeCode(code, createPkce().verifier, redirectUri).then(() => assert.fail('wrong verifier accepted'), (e: unknown) => e);
    assert.ok(wrong instanceof InvalidGrantError);
    assert.equal(wrong.description, 'Invalid code verifier.');
    assertNoSecret(wrong, [code, pkce.verifier]);
    await assert.rejects(oauth.exchangeCode(code, pkce.verifier, 'http://127.0.0.1:10/callback'), (e) => e instanceof OAuthRequestError && e.error === 'redirect_uri_mismatch');

    const tokens = await oauth.exchangeCode(code, pkce.verifier, redirectUri);
    assert.match(tokens.refresh_token ?? '', /^1\/\/fake-/);
    assert.equal((await oauth.userinfo(tokens.access_token)).email, 'pkce@example.com');
    assert.ok((await oauth.refresh(tokens.refresh_token ?? '')).access_token, 'the new refresh token works');
    await assert.rejects(oauth.exchangeCode(code, pkce.verifier, redirectUri), InvalidGrantError, 'a code is single-use');
  });

  test('the fake consent page refuses a bad client or a non-loopback redirect', async () => {
    const url = new URL(oauth.authorizationUrl({ redirectUri: 'http://127.0.0.1:9/callback', state: 's', codeChallenge: 'c' }));
    url.searchParams.set('client_id', 'nobody.apps.googleusercontent.com');
    assert.equal((await get(url.toString())).status, 401);
    url.searchParams.set('client_id', fake.clientId);
    url.searchParams.set('redirect_uri', 'https://attacker.example/callback');
    assert.equal((await get(url.toString())).status, 400);
  });

  async function consentCode(authUrl: string): Promise<string> {
    const answer = await get(authUrl);
    assert.equal(answer.status, 302);
    const code = new URL(answer.location ?? '').searchParams.get('code');
    assert.ok(code);
    return code;
  }
});

describe('GoogleOAuth against crafted answers', () => {
  const refreshToken = '1//crafted-refresh-token-0123456789';
  let server: http.Server;
  let base: string;
  let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  before(async () => {
    server = http.createServer((req, res) => answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const oauthAt = (timeoutMs = 2000, tokenUrl = `${base}/token`) =>
    new GoogleOAuth(
      { client_id: 'c', client_secret: 's', auth_url: `${base}/auth`, token_url: tokenUrl, userinfo_url: `${base}/userinfo`, revoke_url: `${base}/revoke`, scopes: ['openid'] },
      { timeoutMs },
    );
  const reply = (status: number, body: string, type = 'application/json') => (_req: http.IncomingMessage, res: http.ServerResponse) =>
    res.writeHead(status, { 'content-type': type }).end(body);

  const rows: { name: string; answer: typeof answer; want: ErrorClass; message?: RegExp; timeoutMs?: number }[] = [
    { name: 'JSON 400 invalid_grant', answer: reply(400, json({ error: 'invalid_grant', error_description: 'Bad Request' })), want: InvalidGrantError },
    { name: 'non-JSON 400 that says invalid_grant', answer: reply(400, 'invalid_grant', 'text/plain'), want: OAuthTransientError, message: /HTTP 400 with a non-JSON body/ },
    { name: 'HTML 400 from a proxy', answer: reply(400, '<html>invalid_grant</html>', 'text/html'), want: OAuthTransientError },
    { name: '503', answer: reply(503, 'Service Unavailable', 'text/plain'), want: OAuthTransientError, message: /HTTP 503/ },
    { name: '200 that is not JSON', answer: reply(200, '<html>captive portal</html>', 'text/html'), want: OAuthTransientError },
    { name: '200 without an access token', answer: reply(200, json({ token_type: 'Bearer' })), want: OAuthTransientError },
    { name: '401 invalid_client', answer: reply(401, json({ error: 'invalid_client', error_description: 'Unauthorized' })), want: OAuthClientMismatchError },
    { name: '403 JSON error', answer: reply(403, json({ error: 'access_denied', error_description: 'Forbidden' })), want: OAuthRequestError },
    { name: 'no answer (timeout)', answer: () => {}, want: OAuthTransientError, message: /timed out after 150 ms/, timeoutMs: 150 },
    { name: 'headers then a stalled body (timeout)', answer: (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"access'), want: OAuthTransientError, message: /timed out/, timeoutMs: 150 },
    { name: 'connection reset', answer: (req) => req.socket.destroy(), want: OAuthTransientError, message: /unreachable/ },
    {
      name: 'an error that echoes the token back',
      answer: reply(400, json({ error: 'invalid_grant', error_description: `Token ${refreshToken} has been expired or revoked.`, error_subtype: refreshToken })),
      want: InvalidGrantError,
      message: /^invalid_grant: Token \[redacted\] has been expired or revoked\. \(\[redacted\]\)$/,
    },
    { name: 'a client error that echoes the token back', answer: reply(400, json({ error: 'invalid_request', error_description: `bad ${refreshToken}` })), want: OAuthRequestError, message: /bad \[redacted\]/ },
  ];
  for (const row of rows) {
    test(`${row.name} -> ${row.want.name}`, async () => {
      answer = row.answer;
      const err = await oauthAt(row.timeoutMs).refresh(refreshToken).then(() => assert.fail('resolved'), (e: unknown) => e as OAuthError);
      assert.ok(err instanceof row.want, `got ${err.constructor.name}: ${err.message}`);
      if (row.message) assert.match(err.message, row.message);
      assertNoSecret(err, [refreshToken]);
    });
  }

  test('a refused connection is transient', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(oauthAt(2000, `http://127.0.0.1:${port}/token`).refresh(refreshToken), (e) => e instanceof OAuthTransientError && /ECONNREFUSED/.test(e.message));
  });

  test('the request is what Google documents: form body, client credentials, token in the body', async () => {
    const seen: { method?: string; url?: string; type?: string; auth?: string; body: string }[] = [];
    answer = (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(json({ access_token: 'ya29.x', expires_in: 3599, token_type: 'Bearer', email: 'e@x' }));
      });
    };
    const oauth = oauthAt();
    await oauth.refresh(refreshToken);
    await oauth.refresh(refreshToken, { client_id: 'adc-client' });
    await oauth.userinfo('ya29.the-access-token');
    await oauth.revoke(refreshToken);
    assert.deepEqual(seen, [
      { method: 'POST', url: '/token', type: 'application/x-www-form-urlencoded', auth: undefined, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}&client_id=c&client_secret=s` },
      { method: 'POST', url: '/token', type: 'application/x-www-form-urlencoded', auth: undefined, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}&client_id=adc-client` },
      { method: 'GET', url: '/userinfo', type: undefined, auth: 'Bearer ya29.the-access-token', body: '' },
      { method: 'POST', url: '/revoke', type: 'application/x-www-form-urlencoded', auth: undefined, body: `token=${encodeURIComponent(refreshToken)}` },
    ]);
  });
});

test('authorizationUrl asks for offline access with consent, PKCE S256 and the scopes', () => {
  const oauth = new GoogleOAuth({
    client_id: 'id.apps.googleusercontent.com', client_secret: 's', auth_url: 'https://accounts.google.com/o/oauth2/v2/auth',
    token_url: '', userinfo_url: '', revoke_url: '', scopes: ['openid', 'email', 'https://www.googleapis.com/auth/cloud-platform'],
  });
  const url = new URL(oauth.authorizationUrl({ redirectUri: 'http://127.0.0.1:5000/callback', state: 'st', codeChallenge: 'ch', loginHint: 'ada@example.com' }));
  assert.equal(url.origin + url.pathname, 'https://accounts.google.com/o/oauth2/v2/auth');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    client_id: 'id.apps.googleusercontent.com',
    redirect_uri: 'http://127.0.0.1:5000/callback',
    response_type: 'code',
    scope: 'openid email https://www.googleapis.com/auth/cloud-platform',
    state: 'st',
    code_challenge: 'ch',
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
    login_hint: 'ada@example.com',
  });
  assert.equal(new URL(oauth.authorizationUrl({ redirectUri: 'r', state: 's', codeChallenge: 'c' })).searchParams.has('login_hint'), false);
});

test('createPkce gives a fresh 43-character verifier and its S256 challenge', () => {
  const a = createPkce();
  const b = createPkce();
  assert.match(a.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(a.challenge, createHash('sha256').update(a.verifier).digest('base64url'));
  assert.notEqual(a.verifier, b.verifier);
});

function assertNoSecret(err: unknown, secrets: string[]): void {
  const e = err as OAuthError & Record<string, unknown>;
  const visible = [e.message, String(e), e.stack ?? '', JSON.stringify({ ...e })];
  for (const secret of secrets) {
    for (const text of visible) assert.ok(!text.includes(secret), `error ${e.constructor.name} exposes a token: ${e.message}`);
  }
}

function get(url: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    }).on('error', reject);
  });
}
