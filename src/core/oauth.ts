/**
 * Google OAuth client: refresh_token grant, authorization_code grant with PKCE, userinfo, revoke.
 * Only Google's public, documented endpoints and the user's own OAuth client (or the client a
 * gcloud ADC refresh token belongs to).
 *
 * Failures are classified by `classifyOAuthFailure`; the one answer that disables an account is
 * HTTP 400 with JSON `error` = `invalid_grant`. No token ever appears in an error message: what
 * this client sent is scrubbed from anything the server echoes back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { Config } from './config';
import {
  InvalidGrantError,
  OAuthClientMismatchError,
  OAuthError,
  OAuthRequestError,
  OAuthTransientError,
} from './errors';

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  /** Unix seconds. */
  expiry_timestamp: number;
  token_type: string;
  id_token?: string;
  scope?: string;
}

export interface OAuthClientCreds {
  client_id: string;
  client_secret?: string;
}

export interface UserInfo {
  email: string;
  name?: string;
  sub?: string;
}

export interface GoogleOAuthOptions {
  dispatcher?: Dispatcher;
  /** Whole request, headers and body; default 30 s. */
  timeoutMs?: number;
  /** Milliseconds, like Date.now. */
  now?: () => number;
}

type Endpoint = 'token' | 'userinfo' | 'revoke';

export class GoogleOAuth {
  private readonly dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly config: Config['oauth'], options: GoogleOAuthOptions = {}) {
    this.dispatcher = options.dispatcher;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** A new access token for `refreshToken`; `client` overrides the configured one (ADC tokens). */
  async refresh(refreshToken: string, client?: OAuthClientCreds): Promise<TokenSet> {
    const creds = client ?? { client_id: this.config.client_id, client_secret: this.config.client_secret };
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken, ...clientFields(creds) };
    const body = await this.call('token', this.config.token_url, { form }, [refreshToken, creds.client_secret]);
    return this.tokenSet(body, [refreshToken]);
  }

  async exchangeCode(code: string, codeVerifier: string, redirectUri: string): Promise<TokenSet> {
    const creds = { client_id: this.config.client_id, client_secret: this.config.client_secret };
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: codeVerifier,
      redirect_uri: redirectUri,
      ...clientFields(creds),
    };
    const body = await this.call('token', this.config.token_url, { form }, [code, codeVerifier, creds.client_secret]);
    return this.tokenSet(body, [code, codeVerifier]);
  }

  async userinfo(accessToken: string): Promise<UserInfo> {
    const body = await this.call('userinfo', this.config.userinfo_url, { bearer: accessToken }, [accessToken]);
    if (typeof body.email !== 'string' || !body.email) {
      throw new OAuthRequestError(200, 'missing_email', 'userinfo has no email; the "email" scope was not granted');
    }
    return {
      email: body.email,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      ...(typeof body.sub === 'string' ? { sub: body.sub } : {}),
    };
  }

  /** Revokes an access or refresh token (Google revokes the pair). The token goes in the body, never the URL. */
  async revoke(token: string): Promise<void> {
    await this.call('revoke', this.config.revoke_url, { form: { token }, allowEmpty: true }, [token]);
  }

  authorizationUrl(p: { redirectUri: string; state: string; codeChallenge: string; loginHint?: string }): string {
    const url = new URL(this.config.auth_url);
    const params: Record<string, string> = {
      client_id: this.config.client_id,
      redirect_uri: p.redirectUri,
      response_type: 'code',
      scope: this.config.scopes.join(' '),
      state: p.state,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
      ...(p.loginHint ? { login_hint: p.loginHint } : {}),
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }

  private tokenSet(body: Record<string, unknown>, secrets: (string | undefined)[]): TokenSet {
    if (typeof body.access_token !== 'string' || !body.access_token) {
      throw new OAuthTransientError('token endpoint answered without an access_token');
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in);
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new OAuthTransientError(redact('token endpoint answered without a valid expires_in', secrets));
    }
    const optional = (key: 'refresh_token' | 'id_token' | 'scope') =>
      typeof body[key] === 'string' && body[key] ? { [key]: body[key] as string } : {};
    return {
      access_token: body.access_token,
      ...optional('refresh_token'),
      expires_in: expiresIn,
      expiry_timestamp: Math.floor(this.now() / 1000) + expiresIn,
      token_type: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
      ...optional('id_token'),
      ...optional('scope'),
    };
  }

  /** One request: a JSON object on 2xx, else the classified error with `secrets` scrubbed. */
  private async call(
    endpoint: Endpoint,
    url: string,
    what: { form?: Record<string, string>; bearer?: string; allowEmpty?: boolean },
    secrets: (string | undefined)[],
  ): Promise<Record<string, unknown>> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await request(url, {
        method: what.form ? 'POST' : 'GET',
        headers: {
          accept: 'application/json',
          ...(what.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(what.bearer ? { authorization: `Bearer ${what.bearer}` } : {}),
        },
        body: what.form ? new URLSearchParams(what.form).toString() : undefined,
        dispatcher: this.dispatcher,
        signal,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (err) {
      const why = signal.aborted ? `timed out after ${this.timeoutMs} ms` : `unreachable (${networkDetail(err)})`;
      throw new OAuthTransientError(redact(`${endpoint} endpoint ${why}`, secrets), undefined, { cause: err });
    }
    if (status >= 200 && status < 300) {
      if (what.allowEmpty && !text.trim()) return {};
      const json = parseJsonObject(text);
      if (!json) throw new OAuthTransientError(`${endpoint} endpoint answered HTTP ${status} with a non-JSON body`, status);
      return json;
    }
    throw scrubbed(classifyOAuthFailure(endpoint, status, text), secrets);
  }
}

/**
 * What a non-2xx answer from an OAuth endpoint means (DESIGN section 4). Pure; table-tested.
 * - 400 + JSON `invalid_grant`: InvalidGrantError (the refresh token is dead; disables the account)
 * - any 4xx + JSON `invalid_client` / `unauthorized_client`: OAuthClientMismatchError
 * - 5xx, 408, 429, 1xx/3xx, and a 400 whose body is not a JSON OAuth error (a proxy's or captive
 *   portal's page says nothing about the token): OAuthTransientError
 * - any other 4xx: OAuthRequestError
 */
export function classifyOAuthFailure(endpoint: Endpoint, status: number, text: string): OAuthError {
  const where = `${endpoint} endpoint answered HTTP ${status}`;
  if (status < 400 || status >= 500 || status === 408 || status === 429) return new OAuthTransientError(where, status);
  const json = parseJsonObject(text);
  const error = json && typeof json.error === 'string' && json.error ? json.error : undefined;
  if (!error) {
    const body = json ? 'without an OAuth error' : 'with a non-JSON body';
    if (status === 400) return new OAuthTransientError(`${where} ${body}`, status);
    return new OAuthRequestError(status, 'unexpected_answer', `${endpoint} endpoint answered ${body}`);
  }
  const description = typeof json?.error_description === 'string' ? json.error_description : '';
  if (status === 400 && error === 'invalid_grant') {
    const subtype = typeof json?.error_subtype === 'string' && json.error_subtype ? json.error_subtype : undefined;
    return new InvalidGrantError(description || 'no error_description given', subtype);
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') return new OAuthClientMismatchError(error, description);
  return new OAuthRequestError(status, error, description);
}

/** PKCE (RFC 7636) with S256: a 43-character verifier and its SHA-256 challenge, both base64url. */
export function createPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function clientFields(creds: OAuthClientCreds): Record<string, string> {
  return { client_id: creds.client_id, ...(creds.client_secret ? { client_secret: creds.client_secret } : {}) };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function networkDetail(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  return code ?? (typeof e.message === 'string' ? e.message : String(err));
}

function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 8) out = out.split(secret).join('[redacted]');
  return out;
}

/** The same error with anything this client sent (a token, a code) removed from its message and fields. */
function scrubbed(err: OAuthError, secrets: (string | undefined)[]): OAuthError {
  if (!secrets.some((s) => s && s.length >= 8 && err.message.includes(s))) return err;
  if (err instanceof InvalidGrantError) {
    return new InvalidGrantError(redact(err.description, secrets), err.subtype && redact(err.subtype, secrets));
  }
  if (err instanceof OAuthClientMismatchError) return new OAuthClientMismatchError(err.error, redact(err.description, secrets));
  if (err instanceof OAuthRequestError) {
    return new OAuthRequestError(err.status, redact(err.error, secrets), redact(err.description, secrets));
  }
  return new OAuthTransientError(redact(err.message, secrets), (err as OAuthTransientError).status);
}
