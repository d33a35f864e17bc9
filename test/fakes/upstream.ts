/**
 * FakeUpstream: a small node:http stand-in for Vertex AI and the Gemini API, for tests, the demo and
 * the benchmarks (dependency-free, bundle-safe). It checks each Bearer token with the function it
 * was given (FakeGoogle's `isAccessTokenValid`), records every request, and plays scripted
 * per-account failures: any HTTP status with Google's error JSON, a connection reset before the
 * headers or in the middle of a stream, or a hang.
 *
 * On the Gemini routes and Claude on Vertex it validates bodies the way Google and Anthropic do
 * (gemini-validate.ts, anthropic-validate.ts: a 400 naming the field) and answers with the scripted
 * model (scripted-model.ts: tool results, `[[call NAME ARGS]]`, `[[think]]`, `[[max_tokens]]`,
 * `[[safety]]`, `[[stop:SEQ]]`, else an echo of the prompt). The OpenAI-compatible routes echo.
 * Answers come in each protocol's own format (JSON or SSE, at a controllable pace).
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicError, validateAnthropicRequest } from './anthropic-validate';
import { anthropicInputWords, anthropicTurn, renderAnthropicReply } from './anthropic-script';
import { geminiInputWords, geminiStreamWrites, geminiTurn, renderGeminiReply } from './gemini-script';
import { validateGeminiRequest, type GeminiMethod } from './gemini-validate';
import { Replays } from './replay';
import { quotaFailureDetails, quotaMessage, type QuotaWindow } from './quota';
import { createMint, planAnswer, splitText } from './scripted-model';

export type UpstreamRoute =
  | 'vertex-openai'
  | 'vertex-gemini'
  | 'vertex-anthropic'
  | 'vertex-anthropic-count-tokens'
  | 'gemini-api'
  | 'gemini-api-openai'
  | 'unknown';

export interface UpstreamRequest {
  method: string;
  /** Unix ms when it arrived. */
  receivedAt: number;
  /** Path and query as received. */
  url: string;
  path: string;
  query: URLSearchParams;
  route: UpstreamRoute;
  project?: string;
  location?: string;
  /** Model from the path (Gemini, Anthropic) or the body (OpenAI). */
  model?: string;
  /** The account whose access token authorised the request; undefined when the token was invalid. */
  email?: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The body as the bytes arrived (UTF-8 text). */
  text: string;
  /** Status sent; undefined while pending or when the connection was reset before headers. */
  status?: number;
  /** The usage object of the answer (Gemini `usageMetadata`, Anthropic or OpenAI `usage`), once one was sent. */
  reported?: Record<string, unknown>;
  /** The body of an error answer, as sent. */
  errorBody?: string;
  /** `finished` once the whole answer went out, `aborted` when the connection closed first. */
  outcome: 'pending' | 'finished' | 'aborted';
  settled: Promise<'finished' | 'aborted'>;
}

export type UpstreamFailure =
  | {
      kind: 'status';
      status: number;
      message?: string;
      /** RetryInfo.retryDelay, e.g. "41s". */
      retryDelay?: string;
      retryAfter?: string;
      /** A 429 for an exhausted quota of this window, with Google's QuotaFailure (and Help) details and message. */
      quota?: QuotaWindow;
      /** More entries of `details`, as Google writes them (BadRequest, ErrorInfo, DebugInfo …). */
      details?: Record<string, unknown>[];
      /** A body that is not Google's error (a gateway's HTML page), sent as text/html instead. */
      html?: string;
    }
  | { kind: 'reset' }
  | { kind: 'reset-mid-stream'; afterChunks?: number }
  | { kind: 'hang' };

export type FailureRule = UpstreamFailure & {
  /** Only requests authorised by this account (default: any). */
  email?: string;
  /** Only paths matching (default: any). */
  path?: string | RegExp;
  /** How many requests to fail (default 1; Infinity for all). */
  times?: number;
};

export interface FakeUpstreamOptions {
  /** Returns the email an access token belongs to, undefined if it is not valid now. */
  validateToken: (token: string) => string | undefined;
  host?: string;
  port?: number;
  /** Streamed answers: how many chunks, and the pause between them. */
  pace?: { chunks: number; intervalMs: number };
}

/** A Gemini generateContent body as tests look at it (loosely typed). */
export interface GeminiBody {
  contents: { role?: string; parts: Record<string, unknown>[] }[];
  systemInstruction?: { parts: Record<string, unknown>[] };
  tools?: { functionDeclarations?: { name: string; parameters?: Record<string, unknown>; parametersJsonSchema?: unknown }[] }[];
  toolConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A Messages body sent to Claude on Vertex (loosely typed). */
export interface AnthropicBody {
  messages: { role: string; content: string | Record<string, unknown>[] }[];
  system?: unknown;
  tools?: Record<string, unknown>[];
  [key: string]: unknown;
}

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

export class FakeUpstream {
  readonly requests: UpstreamRequest[] = [];
  /** Recorded live answers served for a model instead of the scripted model's (replay.ts). */
  readonly replays = new Replays();
  private rules: FailureRule[] = [];
  private paceValue: { chunks: number; intervalMs: number };
  private idCounter = 0;
  private readonly mint = createMint();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    private readonly options: FakeUpstreamOptions,
    readonly url: string,
  ) {
    this.paceValue = options.pace ?? { chunks: 3, intervalMs: 0 };
  }

  static async start(options: FakeUpstreamOptions): Promise<FakeUpstream> {
    const server = createServer({ noDelay: true });
    const host = options.host ?? '127.0.0.1';
    server.listen(options.port ?? 0, host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const fake = new FakeUpstream(server, options, `http://${host}:${port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    return fake;
  }

  /** Streamed answers from now on: `chunks` pieces, `intervalMs` apart. */
  pace(value: { chunks: number; intervalMs: number }): void {
    this.paceValue = value;
  }

  /** Scripts a failure for the next matching request(s). */
  fail(rule: FailureRule): void {
    this.rules.push({ ...rule, times: rule.times ?? 1 });
  }

  clearFailures(): void {
    this.rules = [];
  }

  requestsFor(email: string): UpstreamRequest[] {
    return this.requests.filter((r) => r.email === email);
  }

  /** The newest request, or the newest on one of `routes`. */
  lastRequest(...routes: UpstreamRoute[]): UpstreamRequest | undefined {
    for (let i = this.requests.length - 1; i >= 0; i--) {
      if (routes.length === 0 || routes.includes(this.requests[i].route)) return this.requests[i];
    }
    return undefined;
  }

  /** The body of the newest request on a Gemini route (Vertex or the Gemini API). */
  lastGeminiBody(): GeminiBody | undefined {
    return this.lastRequest('vertex-gemini', 'gemini-api')?.body as GeminiBody | undefined;
  }

  /** The body of the newest Messages request to Claude on Vertex. */
  lastAnthropicBody(): AnthropicBody | undefined {
    return this.lastRequest('vertex-anthropic')?.body as AnthropicBody | undefined;
  }

  /** The first request (already seen or still to come) matching `predicate`. */
  async waitForRequest(predicate: (r: UpstreamRequest) => boolean, timeoutMs = 5000): Promise<UpstreamRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`FakeUpstream: no matching request within ${timeoutMs} ms`);
      await this.nextRequest(left);
    }
  }

  /** Resolves at the next recorded request, or after `ms`. */
  private nextRequest(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const text = await readText(req);
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    let settle!: (outcome: 'finished' | 'aborted') => void;
    const record: UpstreamRequest = {
      method: req.method ?? 'GET',
      receivedAt: Date.now(),
      url: req.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      route: 'unknown',
      headers: req.headers,
      body,
      text,
      outcome: 'pending',
      settled: new Promise((resolve) => (settle = resolve)),
    };
    Object.assign(record, parseRoute(url.pathname, body));
    res.on('close', () => {
      record.outcome = res.writableFinished ? 'finished' : 'aborted';
      settle(record.outcome);
    });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    record.email = token ? this.options.validateToken(token) : undefined;
    this.requests.push(record);
    for (const wake of [...this.waiters]) wake();

    if (!record.email) {
      return this.googleError(res, record, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.');
    }
    const failure = this.takeFailure(record);
    if (failure) return this.playFailure(res, record, failure);
    if (record.route === 'unknown' || req.method !== 'POST') return this.googleError(res, record, 404, `The requested URL ${url.pathname} was not found on this server.`);
    const invalid = checkRequest(record) ?? validateBody(record);
    if (invalid && (record.route === 'vertex-anthropic' || record.route === 'vertex-anthropic-count-tokens')) {
      return this.anthropicError(res, record, invalid);
    }
    if (invalid) return this.googleError(res, record, 400, invalid);
    this.answer(res, record);
  }

  /** Claude's own 400, which Vertex passes through in Anthropic's shape. */
  private anthropicError(res: ServerResponse, record: UpstreamRequest, message: string): void {
    record.status = 400;
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify(anthropicError(message)));
  }

  private takeFailure(record: UpstreamRequest): UpstreamFailure | undefined {
    const rule = this.rules.find(
      (r) =>
        (r.times ?? 1) > 0 &&
        (r.email === undefined || r.email === record.email) &&
        (r.path === undefined || (typeof r.path === 'string' ? record.path.includes(r.path) : r.path.test(record.path))),
    );
    if (!rule) return undefined;
    rule.times = (rule.times ?? 1) - 1;
    return rule;
  }

  private playFailure(res: ServerResponse, record: UpstreamRequest, failure: UpstreamFailure): void {
    switch (failure.kind) {
      case 'status': {
        if (failure.html !== undefined) return this.sendError(res, record, failure.status, { 'content-type': 'text/html; charset=UTF-8' }, failure.html);
        const message = failure.message ?? (failure.quota ? quotaMessage(failure.quota, record.model ?? 'unknown', failure.retryDelay) : defaultMessage(failure.status, record));
        return this.googleError(res, record, failure.status, message, failure);
      }
      case 'reset':
        res.socket?.destroy();
        return;
      case 'hang':
        return;
      case 'reset-mid-stream':
        return this.answer(res, record, failure.afterChunks ?? 1);
    }
  }

  /**
   * Google's error: `{"error":{code,message,status,details}}`, details in Google's order
   * (QuotaFailure, Help, then the rule's own, RetryInfo last). Vertex's OpenAI-compatible endpoint
   * and a JSON-array stream (streamGenerateContent without alt=sse) wrap it in a list; on an
   * `?alt=sse` stream Google serves it as `text/event-stream`, the body still the JSON object.
   */
  private googleError(
    res: ServerResponse,
    record: UpstreamRequest,
    status: number,
    message: string,
    extra: { retryDelay?: string; retryAfter?: string; quota?: QuotaWindow; details?: Record<string, unknown>[] } = {},
  ): void {
    const details = [
      ...(extra.quota ? quotaFailureDetails(extra.quota, record.model ?? 'unknown') : []),
      ...(extra.details ?? []),
      ...(extra.retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: extra.retryDelay }] : []),
    ];
    const error = { error: { code: status, message, status: GOOGLE_STATUS[status] ?? 'UNKNOWN', ...(details.length > 0 ? { details } : {}) } };
    const stream = isGeminiStream(record);
    const sse = stream && record.query.get('alt') === 'sse';
    const headers: Record<string, string> = { 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8' };
    if (extra.retryAfter) headers['retry-after'] = extra.retryAfter;
    this.sendError(res, record, status, headers, JSON.stringify(record.route === 'vertex-openai' || (stream && !sse) ? [error] : error, null, 2));
  }

  private sendError(res: ServerResponse, record: UpstreamRequest, status: number, headers: Record<string, string>, body: string): void {
    record.status = status;
    record.errorBody = body;
    res.writeHead(status, headers);
    res.end(body);
  }

  /** A successful answer in the route's format; `cutAfter` chunks then a reset, for mid-stream failures. */
  private answer(res: ServerResponse, record: UpstreamRequest, cutAfter?: number): void {
    const replay = this.replays.find(record.model, isStream(record));
    if (replay instanceof Error) return this.googleError(res, record, 500, replay.message);
    if (replay) {
      record.status = 200;
      res.writeHead(200, { 'content-type': replay.stream ? 'text/event-stream' : 'application/json; charset=UTF-8' });
      res.end(replay.body);
      return;
    }
    const reply = this.reply(record, `fake-${++this.idCounter}`);
    record.status = 200;
    const whole = reply.whole as { usageMetadata?: Record<string, unknown>; usage?: Record<string, unknown> } | undefined;
    // the OpenAI-compatible stream carries no usage here
    const openaiStream = isStream(record) && (record.route === 'vertex-openai' || record.route === 'gemini-api-openai');
    record.reported = openaiStream ? undefined : (whole?.usageMetadata ?? whole?.usage);
    if (!isStream(record)) {
      const json = JSON.stringify(reply.whole);
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      if (cutAfter !== undefined) {
        res.write(json.slice(0, Math.floor(json.length / 2)));
        res.socket?.destroy();
        return;
      }
      res.end(json);
      return;
    }
    const events = reply.events;
    const gemini = record.route === 'vertex-gemini' || record.route === 'gemini-api';
    const sse = !gemini || record.query.get('alt') === 'sse';
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
    res.flushHeaders();
    let sent = 0;
    const interval = this.paceValue.intervalMs;
    const next = (): void => {
      if (res.destroyed) return;
      if (cutAfter !== undefined && sent >= cutAfter) {
        res.socket?.destroy();
        return;
      }
      if (sent >= events.length) {
        res.end();
        return;
      }
      res.write(events[sent++]);
      if (interval > 0) setTimeout(next, interval);
      else setImmediate(next);
    };
    next();
  }

  /** The answer, whole and as the stream's writes: the scripted model on Gemini and Claude, the echo on the OpenAI routes. */
  private reply(record: UpstreamRequest, id: string): { whole: unknown; events: string[] } {
    const body = record.body as Record<string, unknown>;
    const model = record.model ?? 'unknown';
    const chunks = this.paceValue.chunks;
    switch (record.route) {
      case 'vertex-gemini':
      case 'gemini-api': {
        if (record.path.endsWith(':countTokens')) return { whole: { totalTokens: geminiInputWords(body) }, events: [] };
        const r = renderGeminiReply(planAnswer(geminiTurn(body)), { model, body, mint: this.mint, responseId: id, chunks, vertex: record.route === 'vertex-gemini' });
        return { whole: r.whole, events: geminiStreamWrites(r.chunks, record.query.get('alt') === 'sse') };
      }
      case 'vertex-anthropic': {
        const r = renderAnthropicReply(planAnswer(anthropicTurn(body)), { model, body, mint: this.mint, messageId: `msg_${id}`, chunks });
        return { whole: r.whole, events: r.events };
      }
      case 'vertex-anthropic-count-tokens':
        return { whole: { input_tokens: anthropicInputWords(body) }, events: [] };
      default: {
        const prompt = promptOf(body);
        const reply = `echo: ${prompt}`;
        return { whole: chatCompletion(model, prompt, reply, id), events: chatStreamEvents(model, splitText(reply, chunks), id) };
      }
    }
  }
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseRoute(path: string, body: unknown): Partial<UpstreamRequest> {
  const bodyModel = typeof (body as { model?: unknown } | undefined)?.model === 'string' ? (body as { model: string }).model : undefined;
  const vertex = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/(.+)$/.exec(path);
  if (vertex) {
    const [, project, location, rest] = vertex;
    const base = { project: decodeURIComponent(project), location };
    if (rest === 'endpoints/openapi/chat/completions') return { ...base, route: 'vertex-openai', model: bodyModel };
    if (rest === 'publishers/anthropic/models/count-tokens:rawPredict') return { ...base, route: 'vertex-anthropic-count-tokens', model: bodyModel };
    const google = /^publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(rest);
    if (google) return { ...base, route: 'vertex-gemini', model: google[1] };
    const anthropic = /^publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/.exec(rest);
    if (anthropic) return { ...base, route: 'vertex-anthropic', model: anthropic[1] };
    return base;
  }
  const gemini = /^\/(?:v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(path);
  if (gemini) return { route: 'gemini-api', model: gemini[1] };
  if (path === '/v1beta/openai/chat/completions') return { route: 'gemini-api-openai', model: bodyModel };
  return {};
}

/** What the real service would refuse: the mappings' contract, checked so a mapping bug fails loudly. */
function checkRequest(record: UpstreamRequest): string | undefined {
  const body = record.body as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null) return 'Invalid JSON payload received.';
  switch (record.route) {
    case 'vertex-openai':
      return typeof body.model === 'string' && body.model.includes('/') ? undefined : `Invalid model "${String(body.model)}": expected publisher/model`;
    case 'gemini-api-openai':
      return typeof body.model === 'string' ? undefined : 'model is required';
    case 'vertex-anthropic':
      if ('model' in body) return 'model: Extra inputs are not permitted';
      return body.anthropic_version === 'vertex-2023-10-16' ? undefined : 'anthropic_version: vertex-2023-10-16 is required';
    case 'vertex-anthropic-count-tokens':
      return typeof body.model === 'string' ? undefined : 'model: Field required';
    default:
      return undefined;
  }
}

/** The Gemini and Claude bodies checked as the real services check them. */
function validateBody(record: UpstreamRequest): string | undefined {
  const body = record.body as Record<string, unknown>;
  if (record.route === 'vertex-anthropic' || record.route === 'vertex-anthropic-count-tokens') return validateAnthropicRequest(body);
  if (record.route !== 'vertex-gemini' && record.route !== 'gemini-api') return undefined;
  const method = record.path.slice(record.path.lastIndexOf(':') + 1) as GeminiMethod;
  return validateGeminiRequest(body, { route: record.route, method, model: record.model ?? '' });
}

const isGeminiStream = (record: UpstreamRequest): boolean =>
  (record.route === 'vertex-gemini' || record.route === 'gemini-api') && record.path.endsWith(':streamGenerateContent');

const isStream = (record: UpstreamRequest): boolean => {
  if (record.route === 'vertex-gemini' || record.route === 'gemini-api') return record.path.endsWith(':streamGenerateContent');
  if (record.route === 'vertex-anthropic') return record.path.endsWith(':streamRawPredict');
  return (record.body as { stream?: unknown }).stream === true && (record.route === 'vertex-openai' || record.route === 'gemini-api-openai');
};

const textOf = (content: unknown): string => {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
  }
  return '';
};

/** The last user message's text (OpenAI chat bodies). */
function promptOf(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as { role?: string; content?: unknown }[]) : [];
  const user = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
  return textOf(user?.content);
}

const countTokens = (text: string): number => text.split(/\s+/).filter(Boolean).length;

function chatCompletion(model: string, prompt: string, reply: string, id: string): unknown {
  const input = countTokens(prompt);
  const output = countTokens(reply);
  return {
    id: `chatcmpl-${id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
    usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
  };
}

function chatStreamEvents(model: string, pieces: string[], id: string): string[] {
  const created = Math.floor(Date.now() / 1000);
  const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
  const chunk = (delta: object, finish: string | null): string =>
    sse({ id: `chatcmpl-${id}`, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  return [
    ...pieces.map((content, i) => chunk(i === 0 ? { role: 'assistant', content } : { content }, null)),
    chunk({}, 'stop'),
    'data: [DONE]\n\n',
  ];
}

function defaultMessage(status: number, record: UpstreamRequest): string {
  const resource = `projects/${record.project ?? 'p'}/locations/${record.location ?? 'l'}/publishers/google/models/${record.model ?? 'm'}`;
  switch (status) {
    case 400: return 'Request contains an invalid argument.';
    case 401: return 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
    case 403: return `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`;
    case 404: return `Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure you are using a valid model version.`;
    case 429: return 'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.';
    case 500: return 'Internal error encountered.';
    case 503: return 'The service is currently unavailable.';
    default: return `HTTP ${status}`;
  }
}
