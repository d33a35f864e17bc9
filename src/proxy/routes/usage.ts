/**
 * Seeing the pool (DESIGN section 11), behind the key: `GET /admin/usage` (aggregates),
 * `GET /admin/requests` (the last requests; with `Accept: text/event-stream` it follows new ones
 * live) and `GET /metrics` (Prometheus). Bad parameters get a 400 that names them.
 */
import type { ServerResponse } from 'node:http';
import { matchesFilter, parseRequestFilter, parseUsageQuery, UsageQueryError } from '../../core/usage/query';
import type { RequestRecord } from '../../core/usage/record';
import { HttpError } from '../errors';
import { sendJson, type Route, type RouteContext } from '../route';

export const usageRoutes: readonly Route[] = [
  { method: 'GET', path: '/admin/usage', access: 'admin', handle: usage },
  { method: 'GET', path: '/admin/requests', access: 'admin', handle: requests },
  { method: 'GET', path: '/metrics', access: 'admin', handle: metrics },
  { method: 'GET', path: '/admin/headroom', access: 'admin', handle: headroom },
];

/** A follower whose socket holds more than this unsent is dropped: a client that never reads costs no more. */
export const MAX_FOLLOW_BUFFER_BYTES = 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

function usage(ctx: RouteContext): void {
  const query = parsed(() => parseUsageQuery(ctx.url.searchParams, Date.now()));
  sendJson(ctx.res, 200, parsed(() => ctx.usage.usage(query)));
}

function requests(ctx: RouteContext): Promise<void> | void {
  const filter = parsed(() => parseRequestFilter(ctx.url.searchParams));
  if ((ctx.req.headers.accept ?? '').includes('text/event-stream')) return follow(ctx, filter);
  sendJson(ctx.res, 200, { requests: ctx.usage.requests(filter) });
}

/** Per account (the pool's order) and model: this minute, today, the limits, the last 429, the running cooldowns. */
function headroom(ctx: RouteContext): void {
  const accounts = ctx.pool.summaries().map((s) => ({
    account: s.email,
    state: s.state,
    cooldowns: s.cooldowns,
    models: ctx.usage.headroomOf(s.email),
  }));
  sendJson(ctx.res, 200, { accounts });
}

async function metrics(ctx: RouteContext): Promise<void> {
  const text = await ctx.metrics.text();
  ctx.res.writeHead(200, { 'content-type': ctx.metrics.contentType, 'content-length': String(Buffer.byteLength(text)) });
  ctx.res.end(text);
}

/** A bad parameter is the client's mistake: a 400 naming it. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UsageQueryError) throw new HttpError(400, err.message, { reason: 'invalid_parameter' });
    throw err;
  }
}

const event = (r: RequestRecord): string => `event: request\ndata: ${JSON.stringify(r)}\n\n`;

/**
 * The live list: the last `limit` matching requests (oldest first), then each new one as an SSE
 * `request` event, until the client goes away or the server closes. A client that stops reading
 * is dropped once its unsent backlog passes MAX_FOLLOW_BUFFER_BYTES.
 */
function follow(ctx: RouteContext, filter: ReturnType<typeof parseRequestFilter>): Promise<void> {
  const { res, usage: ledger, log } = ctx;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.write(ledger.requests(filter).reverse().map(event).join('') || ': following\n\n');
  return new Promise((resolve) => {
    const send = (text: string): void => {
      if (res.destroyed) return;
      if (res.writableLength > MAX_FOLLOW_BUFFER_BYTES) {
        log.info(`[proxy] dropped a follower of /admin/requests that stopped reading (${res.writableLength} bytes unsent)`);
        res.destroy();
        return;
      }
      res.write(text);
    };
    const subscription = ledger.history.follow((r) => {
      if (matchesFilter(r, filter)) send(event(r));
    });
    const keepAlive = setInterval(() => send(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    const stop = (): void => endFollow(res);
    ctx.stopping.addEventListener('abort', stop, { once: true });
    res.once('close', () => {
      subscription.dispose();
      clearInterval(keepAlive);
      ctx.stopping.removeEventListener('abort', stop);
      resolve();
    });
  });
}

function endFollow(res: ServerResponse): void {
  if (!res.writableEnded) res.end();
}
