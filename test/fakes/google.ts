/**
 * FakeGoogle: a small hand-written node:http server speaking Google's documented OAuth wire formats
 * (token, OpenID userinfo, revoke, consent), for every test tier, the demo and the benchmarks.
 * Dependency-free (node:http only) so esbuild can bundle it into the CLI's `demo` command.
 *
 * - POST /token: grant_type refresh_token | authorization_code (form-encoded; client credentials in
 *   the body or HTTP Basic). Verifies the client against its own and any registered one, the
 *   refresh token against the client it was issued to, and the PKCE verifier against the challenge.
 *   Errors are Google's JSON `{error, error_description, error_subtype?}` with Google's statuses.
 * - GET /v1/userinfo (also /oauth2/v3/userinfo): Bearer access token -> `{sub, email, email_verified, name}`.
 * - POST /revoke: `token=` an access or refresh token; like Google, revoking one revokes the pair.
 * - GET /auth: a consent page that approves at once (302 to redirect_uri with code and state).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig, type Config } from '../../src/core/config';

export type FakeFailureKind = 'invalid_grant' | 'invalid_client' | 'unauthorized_client' | 'server_error' | 'slow';

/**
 * A scripted answer of the token endpoint. Matches calls for `refreshToken` and/or `email` (neither:
 * every call) `times` times (default: until the fake is closed). `slow` answers normally after
 * `delayMs` (default 1000); the others answer with Google's error (optionally `description`,
 * `subtype`, and for unauthorized_client `status` 400 instead of 401).
 */
export interface FakeFailure {
  refreshToken?: string;
  email?: string;
  times?: number;
  kind: FakeFailureKind;
  description?: string;
  subtype?: string;
  delayMs?: number;
  status?: number;
}

/** One request to the token endpoint, as recorded in `calls`. */
export interface FakeGoogleCall {
  path: string;
  grantType?: string;
  email?: string;
}

interface User { email: string; name: string; sub: string }
interface RefreshGrant { email: string; clientId: string; scope: string; revoked: boolean }
interface AccessGrant { email: string; clientId: string; expiresAt: number; refreshToken?: string }
interface CodeGrant {
  email: string; clientId: string; redirectUri: string; scope: string;
  challenge?: string; challengeMethod: string; used: boolean;
}
type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

const random = (bytes: number): string => randomBytes(bytes).toString('base64url');
const googleError = (status: number, error: string, description: string, subtype?: string): Answer => ({
  status,
  body: { error, error_description: description, ...(subtype ? { error_subtype: subtype } : {}) },
});
const failures: Record<Exclude<FakeFailureKind, 'slow'>, { status: number; description: string }> = {
  invalid_grant: { status: 400, description: 'Token has been expired or revoked.' },
  invalid_client: { status: 401, description: 'The OAuth client was not found.' },
  unauthorized_client: { status: 401, description: 'Unauthorized' },
  server_error: { status: 500, description: 'Internal error encountered.' },
};

export class FakeGoogle {
  readonly clientId = `${randomBytes(6).toString('hex')}-fake.apps.googleusercontent.com`;
  readonly clientSecret = `GOCSPX-fake-${random(18)}`;
  /** Token endpoint calls, in order. */
  readonly calls: FakeGoogleCall[] = [];

  private readonly clients = new Map<string, string>([[this.clientId, this.clientSecret]]);
  private readonly users = new Map<string, User>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly codes = new Map<string, CodeGrant>();
  private readonly scripts: (FakeFailure & { remaining: number })[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly issued = new Set<string>();
  private consentAs: string | undefined;
  private consentDenials = 0;
  private server!: http.Server;
  private accessTokenTtlS = 3599;
  private baseUrl = '';

  private constructor() {}

  static async start(opts: { host?: string; port?: number; accessTokenTtlS?: number } = {}): Promise<FakeGoogle> {
    const fake = new FakeGoogle();
    fake.accessTokenTtlS = opts.accessTokenTtlS ?? 3599;
    fake.server = http.createServer((req, res) => void fake.handle(req, res));
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(opts.port ?? 0, host, () => resolve());
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return fake;
  }

  /** http://HOST:PORT */
  get url(): string {
    return this.baseUrl;
  }

  /** The oauth config section pointing here, with this fake's client. */
  oauthConfig(overrides: Partial<Config['oauth']> = {}): Config['oauth'] {
    return {
      ...defaultConfig().oauth,
      client_id: this.clientId,
      client_secret: this.clientSecret,
      auth_url: `${this.url}/auth`,
      token_url: `${this.url}/token`,
      userinfo_url: `${this.url}/v1/userinfo`,
      revoke_url: `${this.url}/revoke`,
      ...overrides,
    };
  }

  /** Another OAuth client the token endpoint accepts (a gcloud-like client for ADC refresh tokens). */
  registerClient(clientId: string, clientSecret: string): void {
    this.clients.set(clientId, clientSecret);
  }

  /** Adds the user (if new) and issues a refresh token for this fake's client. */
  addUser(email: string, opts: { name?: string } = {}): { email: string; refreshToken: string } {
    if (!this.users.has(email.toLowerCase())) {
      const sub = String(100_000_000_000_000_000_000n + BigInt(`0x${randomBytes(8).toString('hex')}`));
      this.users.set(email.toLowerCase(), { email, name: opts.name ?? email.split('@')[0], sub });
    }
    return { email, refreshToken: this.issueRefreshToken(email) };
  }

  /** Another refresh token for a known user, for this fake's client or a registered one. */
  issueRefreshToken(email: string, opts: { clientId?: string } = {}): string {
    const user = this.user(email);
    const clientId = opts.clientId ?? this.clientId;
    if (!this.clients.has(clientId)) throw new Error(`FakeGoogle: unknown client ${clientId} (registerClient first)`);
    const token = `1//fake-${random(32)}`;
    this.refreshTokens.set(token, { email: user.email, clientId, scope: defaultConfig().oauth.scopes.join(' '), revoked: false });
    this.issued.add(token);
    return token;
  }

  /**
   * The next refresh with this token answers 400 invalid_grant "Token has been expired or revoked.".
   * Access tokens already issued keep working until they expire (use expireAccessTokens too to
   * model a revocation that Google has already propagated).
   */
  revokeRefreshToken(token: string): void {
    const grant = this.refreshTokens.get(token);
    if (!grant) throw new Error('FakeGoogle: unknown refresh token');
    grant.revoked = true;
  }

  expireAccessTokens(email?: string): void {
    for (const grant of this.accessTokens.values()) {
      if (!email || sameEmail(grant.email, email)) grant.expiresAt = 0;
    }
  }

  /** The email the access token belongs to, if it is known and not expired (for a fake upstream). */
  isAccessTokenValid(token: string): string | undefined {
    const grant = this.accessTokens.get(token);
    return grant && grant.expiresAt > Date.now() ? grant.email : undefined;
  }

  script(failure: FakeFailure): void {
    this.scripts.push({ ...failure, remaining: failure.times ?? Infinity });
  }

  /** Every refresh and access token this fake has issued, revoked ones included (for leak scans). */
  issuedTokens(): string[] {
    return [...this.issued];
  }

  tokenCalls(email?: string): number {
    return this.calls.filter((c) => !email || (c.email !== undefined && sameEmail(c.email, email))).length;
  }

  /** Who the consent page signs in from now on (default: the login_hint user if known, else the first user). */
  approveAs(email: string): void {
    this.consentAs = this.user(email).email;
  }

  /** The next `times` consent pages answer as if the user pressed Cancel (error=access_denied). */
  denyConsent(times = 1): void {
    this.consentDenials = times;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://fake-google');
      const body = await readBody(req);
      const route = `${req.method} ${url.pathname}`;
      if (route === 'POST /token') return send(res, await this.token(req, new URLSearchParams(body), url.pathname));
      if (route === 'GET /v1/userinfo' || route === 'GET /oauth2/v3/userinfo') return send(res, this.userinfo(req));
      if (route === 'POST /revoke') return send(res, this.revoke(new URLSearchParams(body).get('token') ?? url.searchParams.get('token')));
      if (route === 'GET /auth') return this.consent(url.searchParams, res);
      send(res, { status: 404, body: { error: { code: 404, message: `Not found: ${route}`, status: 'NOT_FOUND' } } });
    } catch (err) {
      if (!res.headersSent) send(res, googleError(500, 'server_error', (err as Error).message));
    }
  }

  private async token(req: http.IncomingMessage, form: URLSearchParams, path: string): Promise<Answer> {
    const grantType = form.get('grant_type') ?? undefined;
    const refreshToken = form.get('refresh_token') ?? undefined;
    const code = form.get('code') ?? undefined;
    const email = (refreshToken && this.refreshTokens.get(refreshToken)?.email) || (code && this.codes.get(code)?.email) || undefined;
    this.calls.push({ path, ...(grantType ? { grantType } : {}), ...(email ? { email } : {}) });

    const failure = this.takeScript(refreshToken, email);
    if (failure?.kind === 'slow') await this.delay(failure.delayMs ?? 1000);
    else if (failure) {
      const { status, description } = failures[failure.kind];
      return googleError(failure.status ?? status, failure.kind, failure.description ?? description, failure.subtype);
    }

    const client = this.authenticateClient(req, form);
    if ('status' in client) return client;
    if (grantType === 'refresh_token') return this.refreshGrant(client.clientId, refreshToken);
    if (grantType === 'authorization_code') return this.codeGrant(client.clientId, form);
    return googleError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  }

  private authenticateClient(req: http.IncomingMessage, form: URLSearchParams): { clientId: string } | Answer {
    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, ...rest] = Buffer.from(basic[1], 'base64').toString().split(':');
      clientId = decodeURIComponent(id);
      secret = decodeURIComponent(rest.join(':'));
    }
    if (!clientId) return googleError(400, 'invalid_request', 'Could not determine client ID from request.');
    const expected = this.clients.get(clientId);
    if (expected === undefined) return googleError(401, 'invalid_client', 'The OAuth client was not found.');
    if (secret !== expected) return googleError(401, 'invalid_client', 'Unauthorized');
    return { clientId };
  }

  private refreshGrant(clientId: string, refreshToken: string | undefined): Answer {
    if (!refreshToken) return googleError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.revoked) return googleError(400, 'invalid_grant', 'Token has been expired or revoked.');
    if (grant.clientId !== clientId) return googleError(401, 'unauthorized_client', 'Unauthorized');
    return { status: 200, body: this.issueTokens(grant.email, clientId, grant.scope, refreshToken) };
  }

  private codeGrant(clientId: string, form: URLSearchParams): Answer {
    const code = form.get('code');
    if (!code) return googleError(400, 'invalid_request', 'Missing required parameter: code');
    const grant = this.codes.get(code);
    if (!grant) return googleError(400, 'invalid_grant', 'Malformed auth code.');
    if (grant.used) return googleError(400, 'invalid_grant', 'Bad Request');
    if (grant.clientId !== clientId) return googleError(401, 'unauthorized_client', 'Unauthorized');
    if (form.get('redirect_uri') !== grant.redirectUri) return googleError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (grant.challenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return googleError(400, 'invalid_grant', 'Missing code verifier.');
      const computed = grant.challengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== grant.challenge) return googleError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    grant.used = true;
    const refreshToken = `1//fake-${random(32)}`;
    this.refreshTokens.set(refreshToken, { email: grant.email, clientId, scope: grant.scope, revoked: false });
    this.issued.add(refreshToken);
    return { status: 200, body: { ...this.issueTokens(grant.email, clientId, grant.scope, refreshToken), refresh_token: refreshToken } };
  }

  private issueTokens(email: string, clientId: string, scope: string, refreshToken: string): Record<string, unknown> {
    const accessToken = `ya29.fake-${random(32)}`;
    this.issued.add(accessToken);
    this.accessTokens.set(accessToken, { email, clientId, refreshToken, expiresAt: Date.now() + this.accessTokenTtlS * 1000 });
    return {
      access_token: accessToken,
      expires_in: this.accessTokenTtlS,
      scope,
      token_type: 'Bearer',
      ...(scope.split(' ').includes('openid') ? { id_token: this.idToken(this.user(email), clientId) } : {}),
    };
  }

  /** An unsigned stand-in with the claims of Google's ID token (nobody here verifies it). */
  private idToken(user: User, clientId: string): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = { iss: this.url, aud: clientId, sub: user.sub, email: user.email, email_verified: true, iat: now, exp: now + this.accessTokenTtlS };
    return `${part({ alg: 'RS256', kid: 'fake', typ: 'JWT' })}.${part(claims)}.${random(16)}`;
  }

  private userinfo(req: http.IncomingMessage): Answer {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const email = bearer ? this.isAccessTokenValid(bearer) : undefined;
    if (!email) {
      return {
        ...googleError(401, 'invalid_request', 'Invalid Credentials'),
        headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      };
    }
    const user = this.user(email);
    return { status: 200, body: { sub: user.sub, email: user.email, email_verified: true, name: user.name } };
  }

  private revoke(token: string | null): Answer {
    const access = token ? this.accessTokens.get(token) : undefined;
    if (token && access && access.expiresAt > Date.now()) {
      this.accessTokens.delete(token);
      if (access.refreshToken) this.revokeGrant(access.refreshToken);
      return { status: 200, body: {} };
    }
    const grant = token ? this.refreshTokens.get(token) : undefined;
    if (!token || !grant || grant.revoked) return googleError(400, 'invalid_token', 'Token expired or revoked');
    this.revokeGrant(token);
    return { status: 200, body: {} };
  }

  /** The refresh token and every access token issued from it stop working. */
  private revokeGrant(refreshToken: string): void {
    const grant = this.refreshTokens.get(refreshToken);
    if (grant) grant.revoked = true;
    for (const [token, access] of this.accessTokens) if (access.refreshToken === refreshToken) this.accessTokens.delete(token);
  }

  private consent(params: URLSearchParams, res: http.ServerResponse): void {
    const clientId = params.get('client_id') ?? '';
    if (!this.clients.has(clientId)) return page(res, 401, 'Error 401: invalid_client', 'The OAuth client was not found.');
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!isLoopbackRedirect(redirectUri)) {
      return page(res, 400, 'Error 400: redirect_uri_mismatch', 'A desktop client may only redirect to a loopback http:// address.');
    }
    const method = params.get('code_challenge_method') ?? 'plain';
    const challenge = params.get('code_challenge') ?? undefined;
    if (!['S256', 'plain'].includes(method) || (params.has('code_challenge_method') && !challenge)) {
      return page(res, 400, 'Error 400: invalid_request', 'Invalid code_challenge_method or missing code_challenge.');
    }
    const target = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    const user = this.consentUser(params.get('login_hint'));
    if (params.get('response_type') !== 'code') {
      target.searchParams.set('error', 'unsupported_response_type');
    } else if (this.consentDenials > 0) {
      this.consentDenials -= 1;
      target.searchParams.set('error', 'access_denied');
    } else if (!user) {
      return page(res, 400, 'No account', 'FakeGoogle has no user to sign in (addUser first).');
    } else {
      const code = `4/0fake-${random(32)}`;
      const scope = params.get('scope') ?? '';
      this.codes.set(code, { email: user.email, clientId, redirectUri, scope, challenge, challengeMethod: method, used: false });
      target.searchParams.set('code', code);
      target.searchParams.set('scope', scope);
    }
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' }).end();
  }

  private consentUser(loginHint: string | null): User | undefined {
    if (this.consentAs) return this.users.get(this.consentAs.toLowerCase());
    return (loginHint && this.users.get(loginHint.toLowerCase())) || this.users.values().next().value;
  }

  private takeScript(refreshToken: string | undefined, email: string | undefined): FakeFailure | undefined {
    const found = this.scripts.find(
      (s) =>
        s.remaining > 0 &&
        (s.refreshToken === undefined || s.refreshToken === refreshToken) &&
        (s.email === undefined || (email !== undefined && sameEmail(s.email, email))),
    );
    if (found) found.remaining -= 1;
    return found;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private user(email: string): User {
    const user = this.users.get(email.toLowerCase());
    if (!user) throw new Error(`FakeGoogle: unknown user ${email} (addUser first)`);
    return user;
  }
}

const sameEmail = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  } catch {
    return false;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
    ...answer.headers,
  });
  res.end(text);
}

function page(res: http.ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(text)}</p>`);
}
