/**
 * Errors to clients in the calling protocol's own shape (DESIGN section 5): OpenAI
 * `{error:{message,type,code}}`, Anthropic `{type:"error",error:{type,message}}`, Google
 * `{error:{code,message,status}}`. Every answer the proxy makes up itself is an HttpError thrown by a
 * pipeline step and rendered here by the server's one error handler.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { TokenpoolError } from '../core/errors';
import { googleErrorJson } from '../core/failover';

export type Protocol = 'openai' | 'anthropic' | 'google';

/** A Gemini API method path, under `v1beta` or the stable `v1` (`@google/genai` 3 defaults to `v1`). */
export const GEMINI_METHOD_PATH = /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

/**
 * A request the way Gemini clients send it: the key in `x-goog-api-key` or `?key=`. Tells the Gemini
 * API's `GET /v1/models` from OpenAI's, which shares the path (DESIGN section 6).
 */
export function isGeminiShaped(headers: IncomingHttpHeaders, query: URLSearchParams): boolean {
  return headers['x-goog-api-key'] !== undefined || query.has('key');
}

/**
 * The error shape a caller expects: OpenAI and Anthropic routes by path, Google for the Gemini
 * paths (`/v1/models/{m}:method`, and `/v1/models` when asked Gemini's way) and everything else.
 */
export function protocolFor(pathname: string, headers: IncomingHttpHeaders = {}, query: URLSearchParams = new URLSearchParams()): Protocol {
  if (GEMINI_METHOD_PATH.test(pathname)) return 'google';
  if (pathname === '/v1/models' && isGeminiShaped(headers, query)) return 'google';
  if (
    pathname === '/v1/chat/completions' ||
    pathname === '/v1/responses' ||
    pathname.startsWith('/v1/responses/') ||
    pathname === '/v1/models' ||
    pathname.startsWith('/v1/models/')
  ) {
    return 'openai';
  }
  if (pathname === '/v1/messages' || pathname.startsWith('/v1/messages/')) return 'anthropic';
  return 'google';
}

export interface HttpErrorOptions {
  /** A short stable code, e.g. `invalid_api_key`; OpenAI's `code`, and `reason` elsewhere. */
  reason?: string;
  headers?: Record<string, string>;
  /** Extra fields inside `error` (the 503 carries the pool's availability). */
  details?: Record<string, unknown>;
  /** A JSON body sent as it is instead of one in the protocol's shape: Google's own error on a native Gemini route. */
  body?: string;
}

/** An answer the proxy gives instead of (or after) forwarding: a status and a message for a person. */
export class HttpError extends TokenpoolError {
  override readonly code = 'PROXY_HTTP_ERROR';
  constructor(
    readonly status: number,
    message: string,
    readonly options: HttpErrorOptions = {},
  ) {
    super(message);
  }
}

const openaiType = (status: number): string => {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
};

const anthropicType = (status: number): string => {
  switch (status) {
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503:
    case 529: return 'overloaded_error';
  }
  return status >= 500 ? 'api_error' : 'invalid_request_error';
};

const googleStatus = (status: number): string => {
  switch (status) {
    case 400:
    case 413: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 409: return 'ABORTED';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 499: return 'CANCELLED';
    case 501: return 'UNIMPLEMENTED';
    case 502:
    case 503: return 'UNAVAILABLE';
    case 504: return 'DEADLINE_EXCEEDED';
  }
  return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
};

/** The JSON body of an error answer in `protocol`'s shape. */
export function errorBody(protocol: Protocol, status: number, message: string, options: HttpErrorOptions = {}): object {
  const details = options.details ?? {};
  switch (protocol) {
    case 'openai':
      return { error: { message, type: openaiType(status), code: options.reason ?? null, ...details } };
    case 'anthropic':
      return { type: 'error', error: { type: anthropicType(status), message, ...details } };
    case 'google':
      return { error: { code: status, message, status: googleStatus(status), ...details } };
  }
}

const MAX_MESSAGE_CHARS = 2000;

/** `text` with each `[secret, stand-in]` replaced: an account's email and project id never reach a client. */
export function redact(text: string, names: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [secret, standIn] of names) if (secret) out = out.split(secret).join(standIn);
  return out;
}

/**
 * Google's error object from an upstream body, whole (`details` and all), as the JSON text Google
 * wrote (SSE framing removed), with the account's names replaced; undefined when the body is not
 * Google's error (a gateway's HTML page): then the proxy's own Google-shaped error is answered.
 */
export function redactedGoogleError(text: string, names: readonly (readonly [string, string])[]): string | undefined {
  const json = googleErrorJson(text);
  return json === undefined ? undefined : redact(json, names);
}

/**
 * The human message in an upstream error body, whatever its shape: Google's `{error:{message}}`,
 * Vertex's OpenAI endpoint's `[{error:{message}}]`, OpenAI's and Anthropic's `{error:{message}}`, or
 * plain text. `names` lists what must not reach the client (the account's email and project id) and its stand-in.
 */
export function upstreamMessage(text: string, status: number, names: readonly (readonly [string, string])[] = []): string {
  let message = text.trim();
  try {
    const parsed: unknown = JSON.parse(googleErrorJson(text) ?? text);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    const error = (first as { error?: unknown } | null)?.error;
    const candidate = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message
      : typeof error === 'string' ? error
      : (first as { message?: unknown } | null)?.message;
    if (typeof candidate === 'string' && candidate) message = candidate;
  } catch {
    // not JSON: the text itself is the message
  }
  if (!message) message = `upstream answered HTTP ${status}`;
  message = redact(message, names);
  return Array.from(message).length > MAX_MESSAGE_CHARS ? Array.from(message).slice(0, MAX_MESSAGE_CHARS - 3).join('') + '...' : message;
}
