/**
 * The bench upstream: answers like Vertex AI's OpenAI-compatible endpoint on loopback.
 *   POST /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
 *     body.stream false: a small JSON chat completion
 *     body.stream true:  an SSE stream of CHUNKS chunks, one every PACE_MS (the first at once);
 *                        each chunk's content is "<index>@<send time in ms>" so a client can tell
 *                        how long the chunk spent in transit (same clock: performance.timeOrigin).
 *   POST /token        counts calls and answers 500: the bench's accounts never need a refresh.
 *   GET  /bench/stats  {requests, streams, tokenCalls, missingAuth, distinctTokens, connections}
 * Any Bearer token is accepted. Run as its own process:
 *   node --import tsx bench/upstream.ts [--chunks 200] [--pace-ms 5]
 * prints "bench upstream listening on http://127.0.0.1:PORT".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

const COMPLETION_PATH = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/endpoints\/openapi\/chat\/completions$/;

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

function stream(res: ServerResponse, model: string, chunks: number, paceMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const start = performance.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const send = (): void => {
    res.write(chunk(model, `${i}@${wallNow().toFixed(3)}`, null));
    i += 1;
    if (i < chunks) {
      timer = setTimeout(send, Math.max(0, start + i * paceMs - performance.now()));
    } else {
      res.end(chunk(model, '', 'stop') + 'data: [DONE]\n\n');
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
    if (req.method !== 'POST' || !COMPLETION_PATH.test(path)) {
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
    const model = parsed.model ?? 'google/gemini-2.5-flash';
    if (parsed.stream) {
      stats.streams += 1;
      stream(res, model, opts.chunks, opts.paceMs);
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
