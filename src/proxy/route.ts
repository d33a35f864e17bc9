/** The route table's types: each protocol file lists its routes; the server matches and runs them. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../core/config';
import type { Logger } from '../core/log';
import type { TokenPool } from '../core/pool';
import type { UsageLedger } from '../core/usage/ledger';
import type { ProxyMetrics } from './metrics';
import type { Access } from './guard';
import type { ForwardCall } from './forward';
import type { RequestUrl } from './urlSplit';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: RequestUrl;
  /** Capture groups of the route's pattern. */
  params: string[];
  /** The parsed JSON object, for routes declared with `body: true`. */
  body: Record<string, unknown>;
  config: Config;
  pool: TokenPool;
  log: Logger;
  version: string;
  /** What the pool served (section 11). */
  usage: UsageLedger;
  /** Aborted when the server starts closing: a long-lived answer ends then. */
  stopping: AbortSignal;
  /** The Prometheus registry of `GET /metrics`. */
  metrics: ProxyMetrics;
  /** Sends the request upstream through the attempt loop and streams the answer back. */
  forward(call: ForwardCall): Promise<void>;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string | RegExp;
  access: Access;
  /** Read and parse a JSON body before `handle` (413 / 400 on the way). */
  body?: boolean;
  /** Matches only requests this accepts (two routes sharing a path); absent: every request. */
  when?(req: IncomingMessage, url: RequestUrl): boolean;
  handle(ctx: RouteContext): Promise<void> | void;
}

export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
  accepts: (route: Route) => boolean = () => true,
): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.method !== method || !accepts(route)) continue;
    if (typeof route.path === 'string') {
      if (route.path === pathname) return { route, params: [] };
      continue;
    }
    const match = route.path.exec(pathname);
    if (match) return { route, params: match.slice(1) };
  }
  return undefined;
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
