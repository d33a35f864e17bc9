/**
 * What an upstream answer (or a failed token refresh) does to the account that got it: the
 * failover table of DESIGN section 5 as one pure function, `decide`, plus the parsers it needs for
 * Google's error bodies and retry hints. No state and no clock here; the pool applies the result.
 */
import { InvalidGrantError, OAuthClientMismatchError, OAuthRequestError, type OAuthError } from './errors';
import { nextQuotaReset, violatedQuota, type RateLimitHit } from './quota';

/** Google's `{"error":{"code","message","status","details"}}`. */
export interface GoogleErrorBody {
  code: number | null;
  message: string;
  status: string | null;
  details: unknown[];
}

export type Outcome =
  | {
      kind: 'http';
      status: number;
      retryAfterHeader?: string | null;
      googleError?: GoogleErrorBody | null;
      /** 404 because the account's project lacks the model, as opposed to a client mistake. */
      modelNotFound?: boolean;
    }
  /** Connection error, reset, or timeout before the response headers. */
  | { kind: 'network'; detail: string }
  /** The token refresh failed while preparing the attempt. */
  | { kind: 'refresh'; error: OAuthError };

export interface Decision {
  action: 'commit' | 'return' | 'retry_same' | 'rotate';
  /** `invalid_grant`: disable the account persistently with this reason. */
  disable?: { reason: string };
  /**
   * `account`: the whole account cools; `model`: only this account for this model. A 429 carries
   * what Google said about it (`rateLimit`), kept on the cooldown for the views.
   */
  cooldown?: {
    scope: 'account' | 'model';
    seconds: number;
    reason: string;
    rateLimit?: RateLimitHit;
    /** A 404 for a model the account's project lacks: Google's message, answered to later requests for it. */
    modelNotFound?: { message: string };
  };
  /** A 429 asking to wait an hour or more: set `proxy_disabled` = `quota_protection` this many seconds. */
  quotaProtectUntilSeconds?: number;
  /** 2xx: forget the failures counted against the account (and this model on it). */
  clearFailures?: boolean;
}

export interface DecideContext {
  /** Account-wide failures in a row before this one (5xx, network, refresh trouble, repeated 401). */
  consecutiveFailures: number;
  /** Failures in a row of this account for this model before this one (the 429 doubling); default 0. */
  modelFailures?: number;
  /** This attempt is already the retry after a 401 and a forced refresh. */
  already401: boolean;
  /** Unix ms, to read a Retry-After given as an HTTP-date; default Date.now(). */
  now?: number;
}

const MIN_RETRY_DELAY_S = 1;
const MAX_RETRY_DELAY_S = 6 * 3600;
/** A 429 asking for at least this long turns into quota protection. */
const QUOTA_PROTECT_THRESHOLD_S = 3600;

const UNAUTHORIZED_COOLDOWN_S = 10 * 60;
const FORBIDDEN_COOLDOWN_S = 30 * 60;
const MODEL_NOT_FOUND_COOLDOWN_S = 3600;
const CLIENT_MISMATCH_COOLDOWN_S = 3600;
const RATE_LIMIT_BACKOFF = { firstS: 5, maxS: 10 * 60 };
const TRANSIENT_BACKOFF = { firstS: 10, maxS: 2 * 60 };

/** `firstS` doubled once per earlier failure in a row, capped at `maxS`. */
function backoffSeconds(failuresBefore: number, backoff: { firstS: number; maxS: number }): number {
  const doublings = Math.min(Math.max(0, failuresBefore), 30);
  return Math.min(backoff.maxS, backoff.firstS * 2 ** doublings);
}

/**
 * The failover table (DESIGN section 5), one row per branch:
 *
 * | outcome                                   | action     | effect                                        |
 * |-------------------------------------------|------------|-----------------------------------------------|
 * | 2xx                                       | commit     | clear failures                                |
 * | 400, 404 (client's mistake), other status | return     | none                                          |
 * | 401, first                                | retry_same | none (the caller forces a refresh)            |
 * | 401 after the forced refresh              | rotate     | account 10 min                                |
 * | 403                                       | rotate     | account+model 30 min, Google's message        |
 * | 404 for a model the project lacks         | rotate     | account+model 1 h                             |
 * | 429, QuotaFailure naming a per-day quota  | rotate     | account+model until the quota's reset         |
 * |                                           |            | (midnight America/Los_Angeles)                |
 * | 429, any other                            | rotate     | account+model: RetryInfo / Retry-After        |
 * |                                           |            | (1 s..6 h), else 5 s doubling to 10 min;      |
 * |                                           |            | a delay >= 1 h also sets quota protection     |
 * | 500, 502, 503, 504, network               | rotate     | account 10 s doubling to 2 min                |
 * | refresh invalid_grant                     | rotate     | disable                                       |
 * | refresh invalid_client / unauthorized     | rotate     | account 1 h                                   |
 * | refresh, any other 4xx                    | rotate     | account 1 h (retrying soon is refused again)  |
 * | refresh transient (5xx, timeout, network) | rotate     | account 10 s doubling to 2 min                |
 *
 * A 429 cools the account for that model only: Google's quotas are per model (and project), so a
 * rate-limited gemini-2.5-pro says nothing about gemini-2.5-flash on the same account.
 */
export function decide(outcome: Outcome, ctx: DecideContext): Decision {
  switch (outcome.kind) {
    case 'http':
      return decideHttp(outcome, ctx);
    case 'network':
      return rotate('account', backoffSeconds(ctx.consecutiveFailures, TRANSIENT_BACKOFF), `network error: ${outcome.detail}`);
    case 'refresh':
      return decideRefresh(outcome.error, ctx);
  }
}

function decideHttp(outcome: Extract<Outcome, { kind: 'http' }>, ctx: DecideContext): Decision {
  const { status } = outcome;
  if (status >= 200 && status < 300) return { action: 'commit', clearFailures: true };
  const reason = httpReason(status, outcome.googleError);
  switch (status) {
    case 401:
      return ctx.already401 ? rotate('account', UNAUTHORIZED_COOLDOWN_S, reason) : { action: 'retry_same' };
    case 403:
      return rotate('model', FORBIDDEN_COOLDOWN_S, reason);
    case 404:
      if (!outcome.modelNotFound) return { action: 'return' };
      return {
        action: 'rotate',
        cooldown: { scope: 'model', seconds: MODEL_NOT_FOUND_COOLDOWN_S, reason, modelNotFound: { message: outcome.googleError?.message || reason } },
      };
    case 429:
      return decideRateLimit(outcome, ctx, reason);
    case 500:
    case 502:
    case 503:
    case 504:
      return rotate('account', backoffSeconds(ctx.consecutiveFailures, TRANSIENT_BACKOFF), reason);
    default:
      return { action: 'return' };
  }
}

/**
 * A 429. A per-day quota (QuotaFailure `quotaId` with `PerDay`) cools this account+model until the
 * quota resets, midnight Pacific time, whatever short retryDelay comes with it; it does not set quota
 * protection, which would stop the account's other models too. Otherwise Google's RetryInfo or
 * Retry-After (1 s..6 h), else 5 s doubling to 10 min; a delay of an hour or more also sets quota
 * protection.
 */
function decideRateLimit(outcome: Extract<Outcome, { kind: 'http' }>, ctx: DecideContext, reason: string): Decision {
  const now = ctx.now ?? Date.now();
  const quota = violatedQuota(outcome.googleError?.details ?? []);
  const delay = rawRetryDelay(outcome.googleError, outcome.retryAfterHeader, now);
  const rateLimit: RateLimitHit = {
    at: now,
    retryDelayS: delay ?? null,
    quotaId: quota?.quotaId ?? null,
    quotaMetric: quota?.quotaMetric ?? null,
    window: quota?.window ?? null,
  };
  if (quota?.window === 'per-day') {
    const seconds = Math.max(MIN_RETRY_DELAY_S, (nextQuotaReset(now) - now) / 1000);
    return { action: 'rotate', cooldown: { scope: 'model', seconds, reason, rateLimit } };
  }
  const seconds = delay !== undefined ? clampRetryDelay(delay) : backoffSeconds(ctx.modelFailures ?? 0, RATE_LIMIT_BACKOFF);
  const decision: Decision = { action: 'rotate', cooldown: { scope: 'model', seconds, reason, rateLimit } };
  return seconds >= QUOTA_PROTECT_THRESHOLD_S ? { ...decision, quotaProtectUntilSeconds: seconds } : decision;
}

function decideRefresh(error: OAuthError, ctx: DecideContext): Decision {
  if (error instanceof InvalidGrantError) return { action: 'rotate', disable: { reason: error.reason } };
  if (error instanceof OAuthClientMismatchError || error instanceof OAuthRequestError) {
    return rotate('account', CLIENT_MISMATCH_COOLDOWN_S, `token refresh failed: ${error.message}`);
  }
  return rotate('account', backoffSeconds(ctx.consecutiveFailures, TRANSIENT_BACKOFF), `token refresh failed: ${error.message}`);
}

const rotate = (scope: 'account' | 'model', seconds: number, reason: string): Decision => ({
  action: 'rotate',
  cooldown: { scope, seconds, reason },
});

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `429 Too Many Requests: <Google's message>`; the leading status is what the tree shows. */
function httpReason(status: number, googleError: GoogleErrorBody | null | undefined): string {
  const head = `${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
  return googleError?.message ? `${head}: ${googleError.message}` : head;
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * How long Google asks us to wait, in seconds, clamped to 1 s..6 h: `RetryInfo.retryDelay` in
 * the error's details (a protobuf Duration: "30s", "1.5s", or `{seconds, nanos}`), else the
 * Retry-After header (delta-seconds or an HTTP-date, read against `now`). undefined when neither
 * says anything usable.
 */
export function parseRetryDelay(
  googleError: GoogleErrorBody | null | undefined,
  retryAfterHeader: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const seconds = rawRetryDelay(googleError, retryAfterHeader, now);
  return seconds === undefined ? undefined : clampRetryDelay(seconds);
}

/** The delay Google asks for, unclamped: RetryInfo, else Retry-After. */
function rawRetryDelay(googleError: GoogleErrorBody | null | undefined, retryAfterHeader: string | null | undefined, now: number): number | undefined {
  return retryInfoSeconds(googleError) ?? retryAfterSeconds(retryAfterHeader, now);
}

const clampRetryDelay = (seconds: number): number => Math.min(MAX_RETRY_DELAY_S, Math.max(MIN_RETRY_DELAY_S, seconds));

function retryInfoSeconds(googleError: GoogleErrorBody | null | undefined): number | undefined {
  for (const detail of googleError?.details ?? []) {
    if (!isObject(detail) || detail['@type'] !== RETRY_INFO_TYPE) continue;
    const delay = detail.retryDelay;
    if (typeof delay === 'string') {
      const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(delay);
      if (match) return Number(match[1]);
    } else if (isObject(delay)) {
      const seconds = Number(delay.seconds ?? 0);
      const nanos = Number(delay.nanos ?? 0);
      if (Number.isFinite(seconds) && Number.isFinite(nanos)) return seconds + nanos / 1e9;
    }
  }
  return undefined;
}

function retryAfterSeconds(header: string | null | undefined, now: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP-date starts with the day's name; anything else numeric ("-5", "1.5") is malformed.
  if (/^[-+.\d]/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : (at - now) / 1000;
}

/**
 * Google's error body, or null when the text is not one. Streaming endpoints wrap it in an array
 * (`[{"error":{…}}]`), and an error on an `?alt=sse` stream may come framed as events
 * (`data: {"error":{…}}`); both are accepted too.
 */
export function parseGoogleError(bodyText: string): GoogleErrorBody | null {
  const raw = googleErrorValue(bodyText);
  if (raw === undefined) return null;
  const { code, message, status, details } = raw.error as Record<string, unknown>;
  return {
    code: typeof code === 'number' ? code : null,
    message: typeof message === 'string' ? message : '',
    status: typeof status === 'string' ? status : null,
    details: Array.isArray(details) ? details : [],
  };
}

/**
 * The JSON text of Google's error in an upstream body, exactly as Google wrote it (an array
 * wrapper kept), SSE framing removed; undefined when the body is not a Google error.
 */
export function googleErrorJson(bodyText: string): string | undefined {
  const json = unframeEvents(bodyText);
  return googleErrorValue(json) === undefined ? undefined : json.trim();
}

function googleErrorValue(bodyText: string): { error: Record<string, unknown> } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(unframeEvents(bodyText));
  } catch {
    return undefined;
  }
  if (Array.isArray(raw) && raw.length > 0) raw = raw[0];
  return isObject(raw) && isObject(raw.error) ? (raw as { error: Record<string, unknown> }) : undefined;
}

/** The `data:` payload of a body written as Server-Sent Events; any other text as it is. */
function unframeEvents(text: string): string {
  if (!/^\s*(data|event|id):/.test(text)) return text;
  return text
    .split(/\r\n|\r|\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
