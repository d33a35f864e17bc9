/**
 * Where a front-end request goes (DESIGN section 6): the operation a route asks for, and the URL,
 * body and extra headers it becomes for one account on the configured upstream kind.
 */
import { HttpError, type Protocol } from '../errors';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'countTokens';

/** The Gemini API version a native client called; the Gemini API upstream gets the same (Vertex has its own). */
export type GeminiVersion = 'v1' | 'v1beta';

/** What the client asked for, independent of where it is sent. */
export type UpstreamOp =
  | { api: 'openai-chat'; model: string; stream: boolean }
  | { api: 'anthropic-messages'; model: string; stream: boolean }
  | { api: 'anthropic-count-tokens'; model: string; stream: false }
  | { api: 'gemini'; model: string; method: GeminiMethod; stream: boolean; alt?: string; version?: GeminiVersion };

/** The account's own project and location (null: the config's defaults). */
export interface UpstreamAccount {
  projectId: string | null;
  location: string | null;
}

/** One upstream request, before authorisation. */
export interface UpstreamTarget {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
}

export interface Upstream {
  /** A message when this upstream cannot serve `op` at all (answered 404 before any account is used). */
  unsupported(op: UpstreamOp): string | undefined;
  /** `raw`: the client's own bytes of `body`, sent as they are where the upstream takes the body unchanged (the native Gemini route). */
  target(op: UpstreamOp, body: Record<string, unknown>, account: UpstreamAccount, raw?: Buffer): UpstreamTarget;
}

/** The protocol whose error shape belongs to `op`. */
export const protocolOf = (op: UpstreamOp): Protocol =>
  op.api === 'openai-chat' ? 'openai' : op.api === 'gemini' ? 'google' : 'anthropic';

/**
 * A model name that is safe to put in an upstream path: letters, digits and `._@-` (Vertex's
 * `claude-sonnet-4@20250514`), so a client cannot walk the upstream URL with `../` or `?`.
 */
export function pathSafeModel(model: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/.test(model)) {
    throw new HttpError(400, `Invalid model name "${model.slice(0, 200)}"`, { reason: 'invalid_model' });
  }
  return model;
}

/** Refuses, before any account is used, a model name that would go into an upstream path unsafely. */
export function checkModel(op: UpstreamOp): void {
  if (op.api === 'gemini' || op.api === 'anthropic-messages') pathSafeModel(op.model);
}

/** `base_url` replaces the Google host: no trailing slash, so paths can be appended. */
export const baseOrigin = (baseUrl: string | null, googleOrigin: string): string =>
  (baseUrl || googleOrigin).replace(/\/+$/, '');

/** `?alt=sse` for a streaming Gemini call unless the client chose another `alt` itself. */
export const geminiQuery = (op: Extract<UpstreamOp, { api: 'gemini' }>): string =>
  op.method === 'streamGenerateContent' ? `?alt=${encodeURIComponent(op.alt ?? 'sse')}` : '';

export const jsonBody = (body: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(body), 'utf8');
