/**
 * The attempt loop (DESIGN section 5): pick an account -> send -> classify -> retry or commit ->
 * answer. The body is already buffered, so an attempt can be replayed on another account until the
 * first byte goes back to the client; after that a stream is piped through chunk by chunk. The loop
 * knows nothing of HTTP responses: a committed answer goes to the exchange's sink (an HTTP
 * response here, a chat's progress in VS Code: DESIGN section 12).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Config } from '../core/config';
import { CancelledError, OAuthError } from '../core/errors';
import { parseGoogleError, parseRetryDelay, type Decision, type Outcome } from '../core/failover';
import type { Logger } from '../core/log';
import type { Availability, Lease, TokenPool } from '../core/pool';
import type { UsageLedger } from '../core/usage/ledger';
import type { ClientSignal } from './clientSignal';
import { HttpError, redact, redactedGoogleError, upstreamMessage } from './errors';
import { upstreamHeaders } from './headers';
import { RequestTrace, type ClientInfo } from './requestTrace';
import { UpstreamAnswerError, type AnswerTranslation } from './translatedAnswer';
import { splitUpstreamUrl } from './urlSplit';
import { checkModel, type Upstream, type UpstreamOp, type UpstreamTarget } from './upstream/target';

export interface ForwardCall {
  op: UpstreamOp;
  sessionKey?: string;
  /** The upstream body, when it is not the client's own (a translated request, or a native one with an aliased model). */
  body?: Record<string, unknown>;
  /** How a committed answer is turned into the client's protocol; absent: passed through byte for byte. */
  answer?: AnswerTranslation;
}

export interface ForwardDeps {
  config: Config;
  pool: TokenPool;
  log: Logger;
  dispatcher: Dispatcher;
  upstream: Upstream;
  /** Where each request is recorded when it ends (section 11); absent: not recorded. */
  usage?: UsageLedger;
}

/**
 * Where a committed (2xx) upstream answer goes: the proxy client's HTTP response (httpSink), or a
 * chat's progress in VS Code. Nothing is retried once the loop has handed the answer over.
 */
export interface AnswerSink {
  /** Delivers the answer to the client as it arrives; resolves at its end, rejects when it failed. */
  deliver(response: Dispatcher.ResponseData, call: ForwardCall): Promise<void>;
  /** Whether any of the answer reached the client: a failure after that cannot become an error answer. */
  readonly started: boolean;
  /** The status the client was answered with once started (HTTP); absent for a sink without one (the chat: 200). */
  readonly status?: number;
}

/** The client's side of one request. */
export interface Exchange {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The body's bytes as the client sent them: what a native call without a body of its own forwards, where the upstream takes it unchanged. */
  raw?: Buffer;
  sink: AnswerSink;
  /** Aborted when the client goes away: cancels the wait, the upstream request and the stream. */
  signal: ClientSignal;
  /** The client's protocol and model, for the request's record. */
  client?: ClientInfo;
}

/** An attempt that did not commit, kept so the last one can be answered when no retry is left. */
interface Failure {
  status: number;
  message: string;
  retryAfterS?: number;
  /** Google's error JSON, whole and redacted: what a native Gemini route answers (DESIGN section 5). */
  googleBody?: string;
}

/**
 * `failure` is undefined when the account itself turned out unusable (its refresh failed after a
 * 401): that says nothing about the request, so an earlier failure, or the pool's 503, is answered.
 */
type AttemptResult = { kind: 'committed' } | { kind: 'failed'; failure: Failure | undefined; rotate: boolean };

/** How much of an upstream error body is read to classify it. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export async function forward(deps: ForwardDeps, exchange: Exchange, call: ForwardCall): Promise<void> {
  const { op } = call;
  const unsupported = deps.upstream.unsupported(op);
  if (unsupported) throw new HttpError(404, unsupported, { reason: 'not_found' });
  checkModel(op);
  const capture = deps.config.logging.capture_bodies ? exchange.body : undefined;
  const trace = deps.usage && exchange.client ? new RequestTrace(deps.usage, exchange.client, op, capture) : undefined;
  let error: unknown;
  let threw = false;
  try {
    await attemptLoop(deps, exchange, call, trace);
  } catch (err) {
    [error, threw] = [err, true];
    throw err;
  } finally {
    trace?.end(exchange.sink, exchange.signal, error, threw);
  }
}

/** Accounts in turn until one commits, or none is left: then the last failure, or the pool's 503. */
async function attemptLoop(deps: ForwardDeps, exchange: Exchange, call: ForwardCall, trace: RequestTrace | undefined): Promise<void> {
  const { op } = call;
  const maxAttempts = deps.config.routing.max_attempts; // 0: every eligible account once
  const exclude = new Set<string>();
  let last: Failure | undefined;
  let waited = false;
  let attempts = 0;
  while (maxAttempts === 0 || attempts < maxAttempts) {
    throwIfClientGone(exchange.signal);
    const lease = await deps.pool.acquire(op.model, { exclude, sessionKey: call.sessionKey });
    if (!lease) {
      // Nothing eligible: wait once for the earliest cooldown, unless an account has already answered.
      if (last || waited) break;
      throwIfModelMissing(deps, op.model);
      waited = true;
      const waitMs = cooldownWaitMs(deps.pool.availability(op.model), deps.config.routing.max_wait_s, Date.now());
      if (waitMs !== undefined && (await deps.pool.waitForEligible(op.model, waitMs, exchange.signal.abortSignal))) continue;
      break;
    }
    attempts++;
    const result = await attemptAccount(deps, exchange, call, lease, trace);
    if (result.kind === 'committed') return;
    trace?.failed(lease.email, result.failure?.status ?? 401, result.failure?.message ?? 'token refresh failed after a 401', result.rotate);
    last = result.failure ?? last;
    if (!result.rotate) break;
    const what = result.failure ? `answered ${result.failure.status}` : 'could not refresh its token after a 401';
    deps.log.warn(`[proxy] ${lease.email} ${what} for ${op.model}, trying another account`);
    exclude.add(lease.accountId);
  }
  throwIfClientGone(exchange.signal);
  if (last) throw upstreamFailure(last);
  throw noAccountAvailable(op.model, deps.pool.availability(op.model), Date.now());
}

/** One account: send, and on a first 401 refresh its token and send once more. */
async function attemptAccount(deps: ForwardDeps, exchange: Exchange, call: ForwardCall, lease: Lease, trace: RequestTrace | undefined): Promise<AttemptResult> {
  const { op } = call;
  let token = lease.accessToken;
  let already401 = false;
  for (;;) {
    const target = deps.upstream.target(op, call.body ?? exchange.body, lease, call.body ? undefined : exchange.raw);
    const sent = await send(deps, exchange, target, token);
    if (!sent.ok) {
      throwIfClientGone(exchange.signal);
      deps.pool.report(lease.accountId, op.model, { kind: 'network', detail: sent.detail });
      return { kind: 'failed', rotate: true, failure: { status: sent.timeout ? 504 : 502, message: `Upstream request failed: ${sent.detail}` } };
    }
    const { response } = sent;
    if (response.statusCode >= 200 && response.statusCode < 300) {
      deps.pool.report(lease.accountId, op.model, { kind: 'http', status: response.statusCode });
      deps.log.debug(`[proxy] ${op.api} ${op.model}${op.stream ? ' (stream)' : ''} -> ${response.statusCode} via ${lease.email}`);
      trace?.commit(lease.email, response.body);
      await streamToClient(deps, exchange, call, lease, response);
      return { kind: 'committed' };
    }
    const outcome = await classify(response);
    const decision = deps.pool.report(lease.accountId, op.model, outcome, { already401 });
    const names = accountNames(deps, lease);
    const failure: Failure = {
      status: response.statusCode,
      message: upstreamMessage(outcome.text, response.statusCode, names),
      retryAfterS: retryHint(outcome, decision),
      googleBody: isNative(call) ? redactedGoogleError(outcome.text, names) : undefined,
    };
    if (response.statusCode === 429) trace?.rateLimited(lease.email, outcome.googleError, parseRetryDelay(outcome.googleError ?? null, outcome.retryAfterHeader ?? null));
    if (decision.action === 'retry_same' && !already401) {
      already401 = true;
      const refreshed = await refreshAfter401(deps, lease, op.model);
      if (refreshed === undefined) return { kind: 'failed', rotate: true, failure: undefined };
      token = refreshed;
      continue;
    }
    return { kind: 'failed', rotate: decision.action === 'rotate' || decision.action === 'retry_same', failure };
  }
}

/** What an upstream error must not show of the account: its email, and its project id (as `<project>`). */
function accountNames(deps: ForwardDeps, lease: Pick<Lease, 'email' | 'projectId'>): [string, string][] {
  const project = lease.projectId || deps.config.upstream.project_id;
  return [[lease.email, '<account>'], ...(project ? [[project, '<project>'] as [string, string]] : [])];
}

/** A Gemini call passed through byte for byte (no translation): its errors go back as Google wrote them. */
const isNative = (call: ForwardCall): boolean => call.op.api === 'gemini' && call.answer === undefined;

/**
 * How long the client should wait, for the `retry-after` header: after a 429 the cooldown the pool
 * chose for this account and model (Google's RetryInfo, the per-day quota's reset, or the backoff),
 * otherwise Google's own hint if it gave one.
 */
function retryHint(outcome: Extract<Outcome, { kind: 'http' }>, decision: Decision): number | undefined {
  if (outcome.status === 429 && decision.cooldown) return decision.cooldown.seconds;
  return parseRetryDelay(outcome.googleError ?? null, outcome.retryAfterHeader ?? null);
}

type Sent = { ok: true; response: Dispatcher.ResponseData } | { ok: false; detail: string; timeout: boolean };

/** The upstream request with the account's token; a connection error or timeout before headers is a value, not a throw. */
async function send(deps: ForwardDeps, exchange: Exchange, target: UpstreamTarget, token: string): Promise<Sent> {
  const timeoutMs = deps.config.proxy.request_timeout_s * 1000;
  try {
    const response = await deps.dispatcher.request({
      ...splitUpstreamUrl(target.url),
      method: 'POST',
      headers: upstreamHeaders(exchange.headers, token, target.headers),
      body: target.body,
      signal: exchange.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { ok: true, response };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return { ok: false, detail: describeNetworkError(err), timeout: code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' };
  }
}

const describeNetworkError = (err: unknown): string => {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
};

/** A non-2xx answer as the failover table sees it. */
async function classify(response: Dispatcher.ResponseData): Promise<Extract<Outcome, { kind: 'http' }> & { text: string }> {
  const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES);
  const googleError = parseGoogleError(text);
  const retryAfter = response.headers['retry-after'];
  return {
    kind: 'http',
    status: response.statusCode,
    retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter ?? null,
    googleError,
    // Every path the proxy sends to exists, so an upstream 404 means the account's project lacks the model.
    modelNotFound: response.statusCode === 404,
    text,
  };
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      chunks.push(buf);
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    // a body cut short still tells us the status; classify on what arrived
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** After an upstream 401: a forced refresh (single-flight in the pool). A failed refresh is reported, and the account rotated away from. */
async function refreshAfter401(deps: ForwardDeps, lease: Lease, model: string): Promise<string | undefined> {
  try {
    return await deps.pool.forceRefresh(lease.accountId);
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    deps.pool.report(lease.accountId, model, { kind: 'refresh', error: err });
    return undefined;
  }
}

/**
 * Commit: the answer goes to the exchange's sink. The client going away aborts the upstream request
 * (the signal). An upstream failure now can no longer be retried: the client's answer is cut, or
 * answered 502 if nothing was sent yet.
 */
async function streamToClient(
  deps: ForwardDeps,
  exchange: Exchange,
  call: ForwardCall,
  lease: Lease,
  response: Dispatcher.ResponseData,
): Promise<void> {
  const { op } = call;
  try {
    await exchange.sink.deliver(response, call);
  } catch (err) {
    throwIfClientGone(exchange.signal);
    const detail = describeNetworkError(err);
    // A network error is the account's connection; anything else is the answer itself (a translation that failed).
    const network = typeof (err as { code?: unknown }).code === 'string';
    if (call.answer && !network && !(err instanceof UpstreamAnswerError)) throw translationFailed(deps, op, err, exchange.sink.started);
    deps.log.warn(`[proxy] upstream ${network ? 'stream' : 'answer'} from ${lease.email} failed after it started: ${detail}`);
    if (network) deps.pool.report(lease.accountId, op.model, { kind: 'network', detail });
    if (!exchange.sink.started) throw new HttpError(502, `Upstream answer was cut short: ${detail}`, { reason: 'upstream_error' });
    throw err;
  }
}

/**
 * Translating a good answer failed: our fault, not the account's. Logged as an internal error, never
 * reported to the pool (no cooldown), answered 500 if nothing was sent yet (else the response is cut).
 */
function translationFailed(deps: ForwardDeps, op: UpstreamOp, err: unknown, headersSent: boolean): unknown {
  deps.log.error(`[proxy] translating the ${op.model} answer failed (an internal error, not the account's): ${(err as Error).stack ?? String(err)}`);
  if (headersSent) return err;
  return new HttpError(500, 'Internal proxy error while translating the answer (see the Token Pool log)', { reason: 'internal_error' });
}

/**
 * How long to wait for an account when none is eligible: until the earliest cooldown ends (plus a
 * little), if that is within `max_wait_s`; undefined when waiting cannot help (nothing is cooling,
 * or not soon enough), so the 503 goes out at once.
 */
export function cooldownWaitMs(a: Availability, maxWaitS: number, nowMs: number): number | undefined {
  if (a.earliestCooldownEnd === null || maxWaitS <= 0) return undefined;
  const untilMs = a.earliestCooldownEnd * 1000 - nowMs;
  if (untilMs > maxWaitS * 1000) return undefined;
  return Math.min(maxWaitS * 1000, Math.max(0, untilMs) + 250);
}

function throwIfClientGone(signal: ClientSignal): void {
  if (signal.aborted) throw new CancelledError('client closed the connection');
}

/**
 * Every eligible account has answered 404 for this model (its project lacks it): Google's message at
 * once, in the client's shape, rather than a 503 that blames cooling accounts for the next hour.
 */
function throwIfModelMissing(deps: ForwardDeps, model: string): void {
  const missing = deps.pool.modelMissingEverywhere(model);
  if (!missing) return;
  const names = accountNames(deps, { email: missing.email, projectId: missing.projectId });
  throw new HttpError(404, redact(missing.message, names), { reason: 'model_not_found' });
}

function upstreamFailure(failure: Failure): HttpError {
  return new HttpError(failure.status, failure.message, {
    reason: 'upstream_error',
    headers: failure.retryAfterS !== undefined ? { 'retry-after': String(Math.ceil(failure.retryAfterS)) } : {},
    body: failure.googleBody,
  });
}

const DEFAULT_RETRY_AFTER_S = 60;

/** 503 that says why: how many accounts are disabled, proxy_disabled, cooling, and until when. */
export function noAccountAvailable(model: string, a: Availability, nowMs: number): HttpError {
  const coolingUntil = a.earliestCooldownEnd != null ? new Date(a.earliestCooldownEnd * 1000).toISOString() : null;
  const parts = [
    `${a.disabled} disabled`,
    `${a.proxy_disabled} proxy_disabled`,
    `${a.cooling} cooling${coolingUntil ? ` until ${coolingUntil}` : ''}`,
    ...(a.limited ? [`${a.limited} at their routing.limits for ${model}`] : []),
  ];
  const message =
    a.total === 0
      ? 'No accounts in the pool: add one (tokenpool accounts add, or the Token Pool view in VS Code)'
      : `No account can serve ${model} right now: ${parts.join(', ')} (of ${a.total} accounts)`;
  const retryAfter = a.earliestCooldownEnd != null ? Math.max(1, Math.ceil(a.earliestCooldownEnd - nowMs / 1000)) : DEFAULT_RETRY_AFTER_S;
  return new HttpError(503, message, {
    reason: 'no_account_available',
    headers: { 'retry-after': String(retryAfter) },
    details: {
      availability: {
        total: a.total,
        healthy: a.healthy,
        cooling: a.cooling,
        proxy_disabled: a.proxy_disabled,
        disabled: a.disabled,
        cooling_until: coolingUntil,
      },
    },
  });
}
