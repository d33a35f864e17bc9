/**
 * Typed errors with stable codes (after undici's lib/core/errors.js). A message never carries a
 * token; it says what went wrong and, where there is one, what the user can do.
 */
export class TokenpoolError extends Error {
  readonly code: string = 'TOKENPOOL_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config.json value of the wrong type or shape. The file is never overwritten. */
export class ConfigError extends TokenpoolError {
  override readonly code = 'CONFIG_INVALID';
}

/** An account file that does not parse or validate. It is skipped, never rewritten or deleted. */
export class AccountFileError extends TokenpoolError {
  override readonly code = 'ACCOUNT_FILE_INVALID';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

/** No account with that email (or id) in the data directory. */
export class AccountNotFoundError extends TokenpoolError {
  override readonly code = 'ACCOUNT_NOT_FOUND';
  constructor(readonly key: string) {
    super(`no account "${key}" in the data directory (see: tokenpool accounts list)`);
  }
}

/** The data directory cannot be created, read or written. */
export class DataDirError extends TokenpoolError {
  override readonly code = 'DATA_DIR_UNUSABLE';
}

/** Base of everything the OAuth client throws. */
export class OAuthError extends TokenpoolError {
  override readonly code: string = 'OAUTH_ERROR';
}

/**
 * The refresh token is dead: HTTP 400 with JSON `error` = `invalid_grant`. The only answer that
 * disables an account. `reason` is the text for `disabled_reason`.
 */
export class InvalidGrantError extends OAuthError {
  override readonly code = 'OAUTH_INVALID_GRANT';
  constructor(readonly description: string, readonly subtype?: string) {
    super(`invalid_grant: ${description}${subtype ? ` (${subtype})` : ''}`);
  }
  get reason(): string {
    return this.message;
  }
}

/** `invalid_client` / `unauthorized_client`: the refresh token belongs to another OAuth client. */
export class OAuthClientMismatchError extends OAuthError {
  override readonly code = 'OAUTH_CLIENT_MISMATCH';
  constructor(readonly error: string, readonly description: string) {
    super(`${error}: ${description || 'the OAuth client does not match the one this refresh token was issued to'}`);
  }
}

/** 5xx, timeouts, network errors, unparseable answers: try again later, never disable. */
export class OAuthTransientError extends OAuthError {
  override readonly code = 'OAUTH_TRANSIENT';
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Any other 4xx from an OAuth endpoint (bad request, bad code, PKCE mismatch). */
export class OAuthRequestError extends OAuthError {
  override readonly code = 'OAUTH_REQUEST_REJECTED';
  constructor(readonly status: number, readonly error: string, readonly description: string) {
    super(`${error}${description ? `: ${description}` : ''} (HTTP ${status})`);
  }
}

/** The user cancelled (closed the browser flow, pressed Cancel). Not a failure: no toast. */
export class CancelledError extends TokenpoolError {
  override readonly code = 'CANCELLED';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** A listener could not bind its port. */
export class PortInUseError extends TokenpoolError {
  override readonly code = 'PORT_IN_USE';
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use (is another tokenpool running? try --port 0 or another port)`);
  }
}

/** An account-store lock could not be taken in time, or was lost while held (nothing was written). */
export class StoreLockError extends TokenpoolError {
  override readonly code = 'STORE_LOCK_FAILED';
}

/**
 * A JSON.parse failure described without quoting the text: V8's message quotes a piece of it
 * (`Unexpected token 'y', "ya29.abc"... is not valid JSON`), and files here hold tokens and keys.
 */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position) return `syntax error at position ${position}`;
  return /end of JSON input/.test(message) ? 'unexpected end of input' : 'syntax error';
}
