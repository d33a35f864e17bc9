/**
 * The bench upstream: answers like Vertex AI's OpenAI-compatible endpoint and its Gemini
 * `generateContent` on loopback.
 *   POST /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
 *     body.stream false: a small JSON chat completion
 *     body.stream true:  an SSE stream of CHUNKS chunks, one every PACE_MS (the first at once);
 *                        each chunk's content is "<index>@<send time in ms>" so a client can tell
 *                        how long the chunk spent in transit (same clock: performance.timeOrigin).
 *   POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent
 *     a Gemini answer of about 10 KB (one text part of prose, code and quotes), in Gemini's JSON
 *   POST ...:streamGenerateContent?alt=sse
 *     Gemini's SSE (`data: {...}\r\n\r\n`): CHUNKS chunks PACE_MS apart, each one text part stamped as
 *     above, the last with finishReason STOP and usageMetadata
 *   POST /token        counts calls and answers 500: the bench's accounts never need a refresh.
 *   GET  /bench/stats  {requests, streams, tokenCalls, missingAuth, distinctTokens, connections}
 * Any Bearer token is accepted. Run as its own process:
 *   node --import tsx bench/upstream.ts [--chunks 200] [--pace-ms 5]
 * prints "bench upstream listening on http://127.0.0.1:PORT".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

const COMPLETION_PATH = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/endpoints\/openapi\/chat\/completions$/;
const GEMINI_PATH = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export const wallNow = (): number => performance.timeOrigin + performance.now();

interface Stats { requests: number; streams: number; tokenCalls: number; missingAuth: number; distinctTokens: number; connections: number }

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
  });
}

function chunk(model: string, content: string, finish: string | null): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model,
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
}

/** One chunk of Gemini's `?alt=sse` stream, as Vertex writes it (every chunk names the model and response). */
function geminiChunk(model: string, text: string, last: boolean): string {
  return `data: ${JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, ...(last ? { finishReason: 'STOP' } : {}) }],
    usageMetadata: last
      ? { promptTokenCount: 9, candidatesTokenCount: 1400, totalTokenCount: 1409, trafficType: 'ON_DEMAND' }
      : { trafficType: 'ON_DEMAND' },
    modelVersion: model,
    createTime: '2026-11-22T13:53:00.000000Z',
    responseId: 'bench-gemini-response',
  })}\r\n\r\n`;
}

/** About 10 KB of answer text: prose lines with code, quotes and newlines, so JSON has escaping to do. */
const LONG_TEXT = Array.from({ length: 86 }, (_, i) =>
  `${i + 1}. The pool picks the account with the most quota left, sends \`generateContent\` and "streams" the answer back.\n`).join('');

/** A whole Gemini `generateContent` answer (about 10 KB of JSON). */
export function geminiAnswer(model: string): string {
  return JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text: LONG_TEXT }] }, finishReason: 'STOP', avgLogprobs: -0.12 }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 2400, totalTokenCount: 2409, trafficType: 'ON_DEMAND' },
    modelVersion: model,
    createTime: '2026-11-22T13:53:00.000000Z',
    responseId: 'bench-gemini-response',
  });
}

/**
 * CHUNKS stamped chunks, PACE_MS apart from the first (sent at once); `frame(stamp, last)` writes one
 * in the protocol's framing, `tail` ends the stream after the last.
 */
function stream(res: ServerResponse, chunks: number, paceMs: number, frame: (stamp: string, last: boolean) => string, tail: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const start = performance.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const send = (): void => {
    const text = frame(`${i}@${wallNow().toFixed(3)}`, i === chunks - 1);
    res.write(text);
    i += 1;
    if (i < chunks) {
      timer = setTimeout(send, Math.max(0, start + i * paceMs - performance.now()));
    } else {
      res.end(tail);
    }
  };
  res.on('close', () => clearTimeout(timer));
  send();
}

export function createUpstream(opts: { chunks: number; paceMs: number }) {
  const tokens = new Set<string>();
  const stats: Stats = { requests: 0, streams: 0, tokenCalls: 0, missingAuth: 0, distinctTokens: 0, connections: 0 };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/bench/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...stats, distinctTokens: tokens.size }));
      return;
    }
    if (req.method === 'POST' && path === '/token') {
      stats.tokenCalls += 1;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"bench_no_refresh_expected"}');
      return;
    }
    const gemini = GEMINI_PATH.exec(path);
    if (req.method !== 'POST' || (!gemini && !COMPLETION_PATH.test(path))) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}');
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) {
      stats.missingAuth += 1;
      res.writeHead(401, { 'content-type': 'application/json' })
        .end('{"error":{"code":401,"message":"missing bearer token","status":"UNAUTHENTICATED"}}');
      return;
    }
    tokens.add(auth);
    stats.requests += 1;
    let parsed: { model?: string; stream?: boolean };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":400,"message":"bad json","status":"INVALID_ARGUMENT"}}');
      return;
    }
    if (gemini) {
      const model = decodeURIComponent(gemini[1]);
      if (gemini[2] === 'generateContent') {
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(geminiAnswer(model));
        return;
      }
      if (!/(^|[?&])alt=sse(&|$)/.test(req.url ?? '')) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":400,"message":"bench upstream streams with alt=sse only","status":"INVALID_ARGUMENT"}}');
        return;
      }
      stats.streams += 1;
      stream(res, opts.chunks, opts.paceMs, (stamp, last) => geminiChunk(model, stamp, last), '');
      return;
    }
    const model = parsed.model ?? 'google/gemini-2.5-flash';
    if (parsed.stream) {
      stats.streams += 1;
      stream(res, opts.chunks, opts.paceMs, (stamp) => chunk(model, stamp, null), chunk(model, '', 'stop') + 'data: [DONE]\n\n');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion(model));
    }
  };
  const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(parts).toString('utf8')));
  });
  server.on('connection', () => {
    stats.connections += 1;
  });
  return server;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1]?.endsWith('upstream.ts')) {
  const server = createUpstream({ chunks: flag('--chunks', 200), paceMs: flag('--pace-ms', 5) });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object') console.log(`bench upstream listening on http://127.0.0.1:${address.port}`);
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
