/**
 * One request as the pool saw it (DESIGN section 11): the record kept in the history, summed into
 * the aggregates and shown by `GET /admin/requests`, in exactly that shape (snake_case). Metadata
 * only: never a body, a token or the API key.
 */

/** The client's protocol: the front-end it called (or the editor's own chat, section 12). */
export type ClientProtocol = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini' | 'vscode-chat';

export const CLIENT_PROTOCOLS: readonly ClientProtocol[] = ['openai-chat', 'openai-responses', 'anthropic', 'gemini', 'vscode-chat'];

/**
 * How a request ended: `ok`; `client_error` (the upstream refused the client's own request: 400,
 * a 404 that is not a missing model); `upstream_error` (every attempt failed, or the committed
 * answer broke before its first byte); `no_account` (no account could take it); `cancelled` (the
 * client went away); `cut` (a stream broken after its first byte reached the client).
 */
export type RequestOutcome = 'ok' | 'client_error' | 'upstream_error' | 'no_account' | 'cancelled' | 'cut';

export const OUTCOMES: readonly RequestOutcome[] = ['ok', 'client_error', 'upstream_error', 'no_account', 'cancelled', 'cut'];

/** Outcomes counted as errors in the views: everything but `ok` and a client's own cancel. */
export const isErrorOutcome = (outcome: RequestOutcome): boolean => outcome !== 'ok' && outcome !== 'cancelled';

/** Tokens by kind, from the upstream's own usage. `output` is the visible answer; thinking is apart. */
export interface Tokens {
  input: number;
  output: number;
  /** Of the input, read from a cache. */
  cached: number;
  thinking: number;
}

export const NO_TOKENS: Readonly<Tokens> = Object.freeze({ input: 0, output: 0, cached: 0, thinking: 0 });

/** An attempt that did not commit: the account, the HTTP status (0: no answer) and why. */
export interface FailedAttempt {
  account: string;
  status: number;
  reason: string;
}

export interface RequestRecord {
  id: string;
  /** When the request arrived, ISO 8601. */
  time: string;
  protocol: ClientProtocol;
  /** The model the client asked for. */
  model: string;
  /** The model sent upstream (after `routing.model_aliases`). */
  upstream_model: string;
  /** The account that answered (or the last one tried); null when none took the request. */
  account: string | null;
  /** The HTTP status the client got (0 when the client went away first). */
  status: number;
  outcome: RequestOutcome;
  stream: boolean;
  attempts: FailedAttempt[];
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  thinking_tokens: number;
  /** From arrival to the first byte of the answer; null when none came. */
  ttfb_ms: number | null;
  duration_ms: number;
  /** With `logging.capture_bodies` only: the client's request and the upstream's answer (64 KB each, images and signatures elided). */
  bodies?: { request: string; response: string };
}

/** How the attempt loop ended, as far as the outcome is concerned. */
export interface RequestEnd {
  /** An upstream answer was committed (2xx headers came). */
  committed: boolean;
  /** The first byte of the committed answer went to the client. */
  started: boolean;
  /** The committed answer went out whole. */
  completed: boolean;
  /** The client went away before the end. */
  clientGone: boolean;
  /** The upstream refused the request itself (a 400, a 404 that is not a missing model): answered, not retried. */
  refused: boolean;
  /** Failed attempts before the end. */
  failures: number;
}

/**
 * The outcome of a request from how its attempt loop ended:
 *
 * | how it ended                                                    | outcome        |
 * |-----------------------------------------------------------------|----------------|
 * | committed, sent whole                                           | ok             |
 * | the client went away (before or during the answer)              | cancelled      |
 * | committed, broken after its first byte                          | cut            |
 * | committed, broken before its first byte (answered 502)          | upstream_error |
 * | the upstream refused the request itself, no retry               | client_error   |
 * | no attempt at all: no account could take it                     | no_account     |
 * | attempts failed (429, 5xx, network, 401/403 on every account)   | upstream_error |
 */
export function requestOutcome(end: RequestEnd): RequestOutcome {
  if (end.completed) return 'ok';
  if (end.clientGone) return 'cancelled';
  if (end.committed) return end.started ? 'cut' : 'upstream_error';
  if (end.refused) return 'client_error';
  return end.failures === 0 ? 'no_account' : 'upstream_error';
}
