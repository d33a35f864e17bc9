import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CancelledError, OAuthError, TokenpoolError } from '../../src/core/errors';
import { chooseRedirectUri, runLoopbackFlow } from '../../src/core/loopback';
import { GoogleOAuth } from '../../src/core/oauth';
import { FakeGoogle } from '../fakes/google';

interface Page { status: number; location?: string; body: string }

/** One GET without following redirects, on a fresh connection (as a browser tab would). */
function get(url: string): Promise<Page> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    }).on('error', reject);
  });
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const portOf = (authUrl: string) => Number(new URL(new URL(authUrl).searchParams.get('redirect_uri') ?? '').port);

describe('runLoopbackFlow against FakeGoogle', () => {
  let fake: FakeGoogle;
  let oauth: GoogleOAuth;

  before(async () => {
    fake = await FakeGoogle.start();
    fake.addUser('ada@example.com', { name: 'Ada' });
    fake.addUser('bob@example.com', { name: 'Bob' });
    oauth = new GoogleOAuth(fake.oauthConfig(), { timeoutMs: 5000 });
  });
  after(() => fake.close());

  /** What a browser does: the consent page (302), a stray favicon request, then the callback. */
  async function browse(authUrl: string, rewrite?: (callback: URL) => void): Promise<{ favicon: Page; callback: Page }> {
    const consent = await get(authUrl);
    assert.equal(consent.status, 302, consent.body);
    const callbackUrl = new URL(consent.location ?? '');
    const favicon = await get(`${callbackUrl.origin}/favicon.ico`);
    rewrite?.(callbackUrl);
    return { favicon, callback: await get(callbackUrl.toString()) };
  }

  test('signs in: tokens and email come back, the browser is told, stray requests get 404, the listener closes', async () => {
    let authUrl = '';
    let pages: { favicon: Page; callback: Page } | undefined;
    const result = await runLoopbackFlow({
      oauth,
      openUrl: async (url) => {
        authUrl = url;
        pages = await browse(url);
      },
    });
    assert.equal(result.user.email, 'ada@example.com');
    assert.equal(result.user.name, 'Ada');
    assert.equal(fake.isAccessTokenValid(result.tokens.access_token), 'ada@example.com');
    assert.ok((await oauth.refresh(result.tokens.refresh_token ?? '')).access_token, 'the refresh token works');

    const params = new URL(authUrl).searchParams;
    assert.match(params.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.match(params.get('state') ?? '', /^[A-Za-z0-9_-]{22,}$/);
    assert.equal(params.get('access_type'), 'offline');
    assert.equal(params.get('prompt'), 'consent');
    assert.equal(params.has('login_hint'), false);

    assert.equal(pages?.favicon.status, 404);
    assert.equal(pages?.callback.status, 200);
    assert.match(pages?.callback.body ?? '', /Signed in as ada@example\.com, you can close this tab/);
    assert.equal(await connectRefused(portOf(authUrl)), true);
  });

  test('login_hint picks the account to re-authenticate', async () => {
    const result = await runLoopbackFlow({ oauth, loginHint: 'bob@example.com', openUrl: (url) => browse(url).then(() => {}) });
    assert.equal(result.user.email, 'bob@example.com');
  });

  test('a callback with another state is refused and rejects the flow', async () => {
    let browsing: Promise<{ callback: Page }> | undefined;
    const flow = runLoopbackFlow({
      oauth,
      openUrl: async (url) => {
        browsing = browse(url, (cb) => cb.searchParams.set('state', 'forged-state'));
        await browsing;
      },
    });
    await assert.rejects(flow, (err) => err instanceof OAuthError && /state mismatch/.test(err.message));
    assert.equal((await browsing)?.callback.status, 400);
  });

  test('the user denies consent (access_denied) -> CancelledError', async () => {
    fake.denyConsent();
    let browsing: Promise<{ callback: Page }> | undefined;
    const flow = runLoopbackFlow({ oauth, openUrl: (url) => void (browsing = browse(url)) });
    await assert.rejects(flow, CancelledError);
    assert.match((await browsing)?.callback.body ?? '', /Sign-in cancelled/);
  });

  test('no answer from the browser: rejects after the timeout and the port is closed', async () => {
    let authUrl = '';
    const flow = runLoopbackFlow({ oauth, timeoutMs: 100, openUrl: (url) => void (authUrl = url) });
    await assert.rejects(flow, (err) => err instanceof TokenpoolError && !(err instanceof CancelledError) && /timed out/.test(err.message));
    assert.equal(await connectRefused(portOf(authUrl)), true);
  });

  test('an abort rejects with CancelledError and closes the port', async () => {
    const controller = new AbortController();
    let authUrl = '';
    const flow = runLoopbackFlow({
      oauth,
      signal: controller.signal,
      openUrl: (url) => {
        authUrl = url;
        controller.abort();
      },
    });
    await assert.rejects(flow, CancelledError);
    assert.equal(await connectRefused(portOf(authUrl)), true);
    await assert.rejects(runLoopbackFlow({ oauth, signal: AbortSignal.abort(), openUrl: () => assert.fail('opened') }), CancelledError);
  });

  test('a failing openUrl rejects the flow with its error', async () => {
    await assert.rejects(runLoopbackFlow({ oauth, openUrl: () => Promise.reject(new Error('no browser')) }), /no browser/);
  });

  test('toExternalRedirect: a code-server proxy URL is ignored and the plain loopback URI is used', async () => {
    let authUrl = '';
    const result = await runLoopbackFlow({
      oauth,
      toExternalRedirect: (uri) => `http://127.0.0.1:8080/proxy/${new URL(uri).port}/`,
      openUrl: async (url) => {
        authUrl = url;
        await browse(url);
      },
    });
    assert.equal(result.user.email, 'ada@example.com');
    assert.match(new URL(authUrl).searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  });
});

describe('chooseRedirectUri', () => {
  const plain = 'http://127.0.0.1:41234/callback';
  const cases: [string | undefined, string][] = [
    [undefined, plain],
    [plain, plain],
    ['http://localhost:51000/callback', 'http://localhost:51000/callback'], // remote port forwarding
    ['http://127.0.0.1:8080/proxy/41234/', plain], // code-server: path dropped
    ['https://vscode.dev/proxy/41234/callback', plain],
    ['http://dev.example.com:41234/callback', plain],
    ['https://localhost:41234/callback', plain],
    ['http://localhost:51000/callback?x=1', plain],
    ['not a url', plain],
  ];
  for (const [external, want] of cases) {
    test(`${external ?? '(none)'} -> ${want}`, () => assert.equal(chooseRedirectUri(plain, external), want));
  }
});
