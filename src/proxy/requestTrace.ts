/**
 * The attempt loop's side of the bookkeeping (DESIGN section 11): what one request went through,
 * gathered as it happens and handed to the UsageLedger when the request ends. The committed
 * answer's bytes are watched as they pass (one `data` listener beside the pipe: nothing is held
 * back or copied) for the time to first byte and the upstream's own usage object. The record
 * itself (its id, time, tokens) is built when the ledger settles, off the request's path.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CancelledError } from '../core/errors';
import type { GoogleErrorBody } from '../core/failover';
import type { EndedRequest, UsageLedger } from '../core/usage/ledger';
import { captureJson, captureText, MAX_CAPTURED_BYTES } from '../core/usage/capture';
import { rateLimitNote } from '../core/usage/rateLimitNote';
import { NO_TOKENS, requestOutcome, type ClientProtocol, type FailedAttempt, type RequestOutcome, type RequestRecord } from '../core/usage/record';
import { tokensFrom, type UsageFormat } from '../core/usage/tokens';
import { UsageScanner } from '../core/usage/usageScanner';
import type { AnswerSink } from './forward';
import { HttpError } from './errors';
import type { UpstreamOp } from './upstream/target';

/** Who asked: the client's protocol and the model it named. */
export interface ClientInfo {
  protocol: ClientProtocol;
  model: string;
}

/** A reason is for a person reading the history; Google's messages can be long. */
const MAX_REASON_CHARS = 300;

/** The status a client that went away is recorded with (nginx's "client closed request"). */
const CLIENT_CLOSED = 499;

/** The wire format of the committed answer's usage, or undefined when it has none (token counting). */
function usageFormatOf(op: UpstreamOp): UsageFormat | undefined {
  switch (op.api) {
    case 'gemini':
      return op.method === 'countTokens' ? undefined : 'gemini';
    case 'anthropic-messages':
      return 'anthropic';
    case 'openai-chat':
      return 'openai';
    case 'anthropic-count-tokens':
      return undefined;
  }
}

export class RequestTrace implements EndedRequest {
  readonly atMs = Date.now();
  private readonly t0 = performance.now();
  private firstByteAt: number | null = null;
  private readonly attempts: FailedAttempt[] = [];
  private account: string | null = null;
  private committed = false;
  private refused = false;
  private scanner: UsageScanner | undefined;
  private format: UsageFormat | undefined;
  /** With `logging.capture_bodies`: the request's body, and the answer's first bytes. */
  private readonly captured: { request: string; answer: Buffer[]; size: number } | undefined;
  /** How it ended (set by `end`). */
  private outcome: RequestOutcome = 'ok';
  private status = 0;
  private durationMs = 0;

  constructor(
    private readonly ledger: UsageLedger,
    private readonly client: ClientInfo,
    private readonly op: UpstreamOp,
    captureBody?: Record<string, unknown>,
  ) {
    if (captureBody) this.captured = { request: captureJson(captureBody), answer: [], size: 0 };
  }

  /** An attempt that did not commit; `rotate` false: the upstream refused the request itself, and that is the answer. */
  failed(account: string, status: number, reason: string, rotate: boolean): void {
    this.attempts.push({ account, status, reason: reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 3)}...` : reason });
    this.account = account;
    this.refused = !rotate;
  }

  /** A 429: the account's headroom keeps its RetryInfo delay and QuotaFailure quota. */
  rateLimited(account: string, googleError: GoogleErrorBody | null | undefined, retryDelayS: number | undefined): void {
    this.ledger.noteRateLimit(account, this.op.model, rateLimitNote(googleError, retryDelayS, Date.now()));
  }

  /** The answer of `account` is committed: its bytes are watched from here on. */
  commit(account: string, body: Readable): void {
    this.committed = true;
    this.account = account;
    this.format = usageFormatOf(this.op);
    if (this.format) this.scanner = new UsageScanner(this.format, { first: this.format === 'anthropic' });
    body.on('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.firstByteAt === null) this.firstByteAt = performance.now();
    this.scanner?.push(chunk);
    const captured = this.captured;
    if (captured && captured.size <= MAX_CAPTURED_BYTES) {
      captured.answer.push(chunk);
      captured.size += chunk.length;
    }
  };

  /** The request ended: `error` is what the attempt loop threw, if it threw. The ledger counts it when it settles. */
  end(sink: AnswerSink, signal: { readonly aborted: boolean }, error: unknown, threw: boolean): void {
    this.durationMs = Math.round(performance.now() - this.t0);
    const clientGone = signal.aborted || error instanceof CancelledError;
    this.outcome = requestOutcome({
      committed: this.committed,
      started: sink.started,
      completed: this.committed && !threw && !clientGone,
      clientGone,
      refused: this.refused,
      failures: this.attempts.length,
    });
    if (sink.started) this.status = sink.status ?? 200;
    else if (clientGone) this.status = CLIENT_CLOSED;
    else if (error instanceof HttpError) this.status = error.status;
    else this.status = threw ? 500 : sink.status ?? 200;
    this.ledger.ended(this);
  }

  /** The request's record (the ledger asks when it settles). */
  record(): RequestRecord {
    const scanned = this.scanner?.result();
    const tokens = scanned && this.format ? tokensFrom(this.format, scanned.first, scanned.last) : NO_TOKENS;
    const record: RequestRecord = {
      id: randomUUID(),
      time: new Date(this.atMs).toISOString(),
      protocol: this.client.protocol,
      model: this.client.model,
      upstream_model: this.op.model,
      account: this.account,
      status: this.status,
      outcome: this.outcome,
      stream: this.op.stream,
      attempts: this.attempts,
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cached_tokens: tokens.cached,
      thinking_tokens: tokens.thinking,
      ttfb_ms: this.firstByteAt === null ? null : Math.round(this.firstByteAt - this.t0),
      duration_ms: this.durationMs,
    };
    if (this.captured) {
      record.bodies = { request: this.captured.request, response: captureText(Buffer.concat(this.captured.answer).toString('utf8')) };
    }
    return record;
  }
}

/** The client's protocol from the route's path, and the model it named (in the body, or in Gemini's path). */
export function clientInfoFor(pathname: string, body: Record<string, unknown>): ClientInfo {
  const named = typeof body.model === 'string' ? body.model : undefined;
  if (pathname === '/v1/chat/completions') return { protocol: 'openai-chat', model: named ?? '' };
  if (pathname === '/v1/responses') return { protocol: 'openai-responses', model: named ?? '' };
  if (pathname.startsWith('/v1/messages')) return { protocol: 'anthropic', model: named ?? '' };
  let model = /\/models\/([^/:]+):/.exec(pathname)?.[1] ?? named ?? '';
  try {
    model = decodeURIComponent(model);
  } catch {
    // the route refuses it before any account is used
  }
  return { protocol: 'gemini', model };
}
