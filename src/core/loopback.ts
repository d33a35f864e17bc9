/**
 * The loopback OAuth flow (after VS Code's github-authentication LoopbackAuthServer), shared by
 * `tokenpool login` and the VS Code AuthenticationProvider: listen on 127.0.0.1 port 0, random
 * state, PKCE S256, open Google's consent page, wait for `/callback`, exchange the code and ask
 * userinfo for the email. One deferred result, raced against the timeout and the AbortSignal; the
 * listener is always closed.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from './config';
import { CancelledError, OAuthError, TokenpoolError } from './errors';
import { createPkce, type GoogleOAuth, type TokenSet, type UserInfo } from './oauth';

export interface LoopbackFlowOptions {
  oauth: GoogleOAuth;
  /** Shows the consent page to the user (system browser, `env.openExternal`). */
  openUrl(url: string): Promise<void> | void;
  /** Default 5 minutes. */
  timeoutMs?: number;
  /** Aborting rejects the flow with CancelledError. */
  signal?: AbortSignal;
  /** The account to re-authenticate. */
  loginHint?: string;
  /** Loopback address to listen on and redirect to; default 127.0.0.1. */
  redirectHost?: string;
  /**
   * Maps the redirect URI for a remote window (`env.asExternalUri`). The result is used only if it
   * is still a loopback http URL ending in /callback; anything else (a code-server proxy URL) is
   * ignored and the plain 127.0.0.1 URI kept.
   */
  toExternalRedirect?(uri: string): Promise<string> | string;
}

export interface LoopbackResult {
  /** The flow rejects when Google sends no refresh token, so there always is one. */
  tokens: TokenSet & { refresh_token: string };
  user: UserInfo;
}

export async function runLoopbackFlow(options: LoopbackFlowOptions): Promise<LoopbackResult> {
  const { oauth, signal, loginHint, timeoutMs = 300_000, redirectHost = '127.0.0.1' } = options;
  if (!isLoopbackHost(redirectHost)) throw new TokenpoolError(`redirect host ${redirectHost} is not a loopback address`);
  if (signal?.aborted) throw new CancelledError('sign-in cancelled');

  const state = randomBytes(16).toString('base64url');
  const pkce = createPkce();
  const done = deferred<LoopbackResult>();
  let redirectUri = '';
  let callbackSeen = false;

  type Step = { page: Page; outcome: () => void };
  const fail = (status: number, title: string, err: Error, text = err.message): Step => ({
    page: { status, title, text },
    outcome: () => done.reject(err),
  });

  /** The browser's request to /callback: check state, exchange the code, say what happened. */
  const callback = async (params: URLSearchParams): Promise<Step> => {
    if (params.get('state') !== state) {
      const err = new OAuthError('sign-in failed: the browser answer does not belong to this sign-in (state mismatch); try again');
      return fail(400, 'Sign-in failed', err, 'This answer does not belong to the running sign-in. Start again.');
    }
    const error = params.get('error');
    if (error === 'access_denied') {
      return fail(200, 'Sign-in cancelled', new CancelledError('sign-in cancelled in the browser'), 'Sign-in cancelled, you can close this tab.');
    }
    const code = params.get('code');
    if (error || !code) {
      const description = params.get('error_description');
      const err = new OAuthError(`Google refused the sign-in: ${error ?? 'no authorization code'}${description ? `: ${description}` : ''}`);
      return fail(400, 'Sign-in failed', err);
    }
    try {
      const tokens = await oauth.exchangeCode(code, pkce.verifier, redirectUri);
      const refreshToken = tokens.refresh_token;
      if (!refreshToken) throw new OAuthError('Google returned no refresh token (access_type=offline was not honoured); try again');
      const user = await oauth.userinfo(tokens.access_token);
      const text = `Signed in as ${user.email}, you can close this tab.`;
      const result = { tokens: { ...tokens, refresh_token: refreshToken }, user };
      return { page: { status: 200, title: 'Signed in', text }, outcome: () => done.resolve(result) };
    } catch (err) {
      return fail(500, 'Sign-in failed', err as Error);
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    if (callbackSeen) {
      answer(res, { status: 400, title: 'Sign-in finished', text: 'This sign-in has already finished, you can close this tab.' }, () => {});
      return;
    }
    callbackSeen = true;
    void callback(url.searchParams).then(({ page, outcome }) => answer(res, page, outcome));
  });
  const port = await listen(server, redirectHost);

  const waited = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  const timedOut = new TokenpoolError(`sign-in timed out after ${waited} without an answer from the browser`);
  const timer = setTimeout(() => done.reject(timedOut), timeoutMs);
  const onAbort = () => done.reject(new CancelledError('sign-in cancelled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const start = async () => {
      const plain = `http://${redirectHost.includes(':') ? `[${redirectHost}]` : redirectHost}:${port}/callback`;
      redirectUri = chooseRedirectUri(plain, options.toExternalRedirect ? await options.toExternalRedirect(plain) : undefined);
      await options.openUrl(oauth.authorizationUrl({ redirectUri, state, codeChallenge: pkce.challenge, loginHint }));
    };
    start().catch(done.reject);
    return await done.promise;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The redirect URI to send: the external one when it is still a loopback http URL of /callback
 * (remote port forwarding), else the plain one (code-server turns it into a proxy URL that
 * Google refuses; see E2E.md).
 */
export function chooseRedirectUri(plain: string, external: string | undefined): string {
  if (!external) return plain;
  try {
    const url = new URL(external);
    const usable = url.protocol === 'http:' && isLoopbackHost(url.hostname) && url.pathname === '/callback' && !url.search && !url.hash;
    return usable ? external : plain;
  } catch {
    return plain;
  }
}

interface Page {
  status: number;
  title: string;
  text: string;
}

/** Answers the browser; `then` runs once the page is handed to the socket, before the listener closes. */
function answer(res: http.ServerResponse, page: Page, then: () => void): void {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>Token Pool</title></head>' +
    '<body style="font-family:system-ui,sans-serif;margin:4em auto;max-width:36em">' +
    `<h1>${escape(page.title)}</h1><p>${escape(page.text)}</p></body></html>`;
  res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(html, then);
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new TokenpoolError(`cannot listen on ${host} for the sign-in: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
