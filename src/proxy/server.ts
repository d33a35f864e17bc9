/**
 * The local proxy server (DESIGN section 6). Each request runs a short pipeline of named steps, in
 * order; any step may throw, and one handler answers in the caller's protocol shape (or cuts the
 * response if it had already started). The upstream request is cancelled when the client goes away.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { validateConfig, type Config } from '../core/config';
import type { Disposable } from '../core/disposable';
import { CancelledError, PortInUseError } from '../core/errors';
import { createDispatcher } from '../core/http';
import type { Logger } from '../core/log';
import type { TokenPool } from '../core/pool';
import { UsageLedger } from '../core/usage/ledger';
import { parseJsonObject, readBody } from './body';
import { ClientSignal } from './clientSignal';
import { errorBody, HttpError, protocolFor, type Protocol } from './errors';
import { forward, type ForwardDeps } from './forward';
import { httpSink } from './httpSink';
import { isAllowedHost, isAllowedOrigin, keyMatcher, keyRequired, presentedKey } from './guard';
import { ProxyMetrics } from './metrics';
import { clientInfoFor } from './requestTrace';
import { matchRoute, type Route, type RouteContext } from './route';
import { adminRoutes } from './routes/admin';
import { anthropicRoutes } from './routes/anthropic';
import { geminiRoutes } from './routes/gemini';
import { openaiRoutes } from './routes/openai';
import { responsesRoutes } from './routes/responses';
import { responsesTransportRoutes } from './routes/responses-transport';
import { usageRoutes } from './routes/usage';
import { createUpstream } from './upstream/create';
import { parseRequestUrl, type RequestUrl } from './urlSplit';

export interface ProxyServerOptions {
  config: Config;
  pool: TokenPool;
  log: Logger;
  version: string;
  /** Outbound connection pool; when absent the server makes one from `config.network` and closes it. */
  dispatcher?: Dispatcher;
  /** How long close() lets in-flight requests finish before cutting them. */
  drainTimeoutMs?: number;
  /** Where requests are recorded (section 11); when absent the server keeps its own, in memory. */
  usage?: UsageLedger;
}

// Gemini first: its `GET /v1/models` (asked Gemini's way) comes before OpenAI's on the same path.
const ROUTES: readonly Route[] = [...geminiRoutes, ...openaiRoutes, ...responsesRoutes, ...responsesTransportRoutes, ...anthropicRoutes, ...adminRoutes, ...usageRoutes];

const CORS_ALLOW_HEADERS = 'authorization, content-type, x-api-key, x-goog-api-key, anthropic-version, anthropic-beta, x-tokenpool-session';

export class ProxyServer implements Disposable {
  private readonly server: Server;
  private readonly deps: ForwardDeps;
  private readonly ownsDispatcher: boolean;
  private readonly keyMatches: (presented: string | undefined) => boolean;
  private readonly inFlight = new Set<ServerResponse>();
  private bound: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted when close() starts: long-lived answers (a followed request list) end. */
  private readonly stopping = new AbortController();
  private readonly metrics: ProxyMetrics;

  constructor(private readonly options: ProxyServerOptions) {
    this.ownsDispatcher = !options.dispatcher;
    this.deps = {
      config: options.config,
      pool: options.pool,
      log: options.log,
      dispatcher: options.dispatcher ?? createDispatcher(options.config.network),
      upstream: createUpstream(options.config.upstream),
      usage: options.usage ?? new UsageLedger({ limits: options.config.routing.limits, log: options.log }),
    };
    if (options.usage) options.usage.setLimits(options.config.routing.limits);
    options.pool.useLimiter(this.deps.usage!);
    this.metrics = new ProxyMetrics(this.deps.usage!, options.pool);
    this.keyMatches = keyMatcher(options.config.proxy.api_key);
    this.server = createServer({ noDelay: true }, (req, res) => void this.serve(req, res));
  }

  /** What this server records (the ledger it was given, or its own). */
  get usage(): UsageLedger {
    return this.deps.usage!;
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /**
   * Binds `proxy.host`:`proxy.port` (0: any free port). PortInUseError when taken; ConfigError for
   * a non-loopback address with `auth_mode` "off", however the config was put together.
   */
  async listen(): Promise<{ host: string; port: number }> {
    validateConfig(this.options.config, 'proxy');
    const { host, port } = this.options.config.proxy;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening);
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err);
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
    const address = this.server.address() as AddressInfo;
    this.bound = { host, port: address.port };
    this.options.log.info(`[proxy] listening on http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
    return this.bound;
  }

  /**
   * Stops accepting, lets in-flight requests finish (up to drainTimeoutMs, default 10 s), then cuts
   * what is left and closes the outbound pool if it is ours.
   */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  dispose(): void {
    this.close().catch((err: unknown) => this.options.log.warn(`[proxy] closing the server failed: ${(err as Error).message}`));
  }

  private async drainAndClose(): Promise<void> {
    this.stopping.abort();
    const closed = this.server.listening ? once(this.server, 'close') : Promise.resolve();
    if (this.server.listening) this.server.close();
    this.server.closeIdleConnections();
    const grace = this.options.drainTimeoutMs ?? 10_000;
    const deadline = Date.now() + grace;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([once([...this.inFlight][0], 'close'), sleep(deadline - Date.now())]);
    }
    this.server.closeAllConnections();
    await closed;
    this.metrics.dispose();
    if (this.ownsDispatcher) await this.deps.dispatcher.close();
    this.bound = undefined;
  }

  /** The pipeline: track -> guard host -> guard origin -> preflight -> route -> authenticate -> body -> handle. */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientGone = this.track(req, res);
    let protocol: Protocol = 'google';
    try {
      const url = parseRequestUrl(req.url);
      protocol = protocolFor(url.pathname, req.headers, url.searchParams);
      this.guardHost(req);
      const origin = this.guardOrigin(req, res);
      if (origin && req.method === 'OPTIONS') return answerPreflight(req, res);
      const matched = matchRoute(ROUTES, req.method ?? 'GET', url.pathname, (route) => route.when?.(req, url) ?? true);
      this.authenticate(req, url, matched?.route);
      if (!matched) throw new HttpError(404, `Unknown route: ${req.method} ${url.pathname}`, { reason: 'unknown_route' });
      const raw = matched.route.body ? await readBody(req, this.options.config.proxy.max_body_bytes) : undefined;
      const body = raw ? parseJsonObject(raw) : {};
      await matched.route.handle(this.context(req, res, url, matched.params, { body, raw }, clientGone));
    } catch (err) {
      this.fail(res, protocol, err, clientGone);
    }
  }

  /** Counts the request for draining; aborts its upstream work when the client goes away first. */
  private track(req: IncomingMessage, res: ServerResponse): ClientSignal {
    const clientGone = new ClientSignal();
    this.inFlight.add(res);
    if (this.closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      this.inFlight.delete(res);
      if (!res.writableFinished) clientGone.abort();
    });
    req.once('error', () => clientGone.abort());
    return clientGone;
  }

  /** DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends `Host: evil.example`. */
  private guardHost(req: IncomingMessage): void {
    const { host, allowed_hosts } = this.options.config.proxy;
    const port = this.bound?.port ?? this.options.config.proxy.port;
    if (!isAllowedHost(req.headers.host, { port, bindHost: host, allowedHosts: allowed_hosts })) {
      throw new HttpError(403, `Host "${req.headers.host ?? ''}" is not allowed (proxy.allowed_hosts)`, { reason: 'forbidden_host' });
    }
  }

  /** No CORS by default: a browser page's Origin must be listed in `allowed_origins`. Returns an allowed origin. */
  private guardOrigin(req: IncomingMessage, res: ServerResponse): string | undefined {
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin, this.options.config.proxy.allowed_origins)) {
      throw new HttpError(403, `Origin "${origin}" is not allowed (proxy.allowed_origins)`, { reason: 'forbidden_origin' });
    }
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    return origin;
  }

  private authenticate(req: IncomingMessage, url: RequestUrl, route: Route | undefined): void {
    if (!keyRequired(route?.access ?? 'api', this.options.config.proxy.auth_mode)) return;
    if (!this.keyMatches(presentedKey(req.headers, url.searchParams))) {
      throw new HttpError(401, 'Missing or invalid API key for the tokenpool proxy', { reason: 'invalid_api_key' });
    }
  }

  private context(
    req: IncomingMessage,
    res: ServerResponse,
    url: RequestUrl,
    params: string[],
    { body, raw }: { body: Record<string, unknown>; raw?: Buffer },
    signal: ClientSignal,
  ): RouteContext {
    const { config, pool, log } = this.options;
    return {
      req, res, url, params, body, config, pool, log,
      version: this.options.version,
      usage: this.deps.usage!,
      stopping: this.stopping.signal,
      metrics: this.metrics,
      forward: (call) => forward(this.deps, { headers: req.headers, body, raw, sink: httpSink(res), signal, client: clientInfoFor(url.pathname, body) }, call),
    };
  }

  /** The one error handler: an answer in the caller's shape if nothing was sent yet, else cut the response. */
  private fail(res: ServerResponse, protocol: Protocol, err: unknown, signal: ClientSignal): void {
    if (signal.aborted || err instanceof CancelledError) {
      res.destroy();
      return;
    }
    if (res.headersSent) {
      this.options.log.debug(`[proxy] response cut after it started: ${(err as Error).message}`);
      res.destroy();
      return;
    }
    const httpError =
      err instanceof HttpError ? err : new HttpError(500, 'Internal proxy error (see the Token Pool log)', { reason: 'internal_error' });
    if (!(err instanceof HttpError)) this.options.log.error(`[proxy] internal error: ${(err as Error).stack ?? String(err)}`);
    const text = httpError.options.body ?? JSON.stringify(errorBody(protocol, httpError.status, httpError.message, httpError.options));
    res.writeHead(httpError.status, {
      ...httpError.options.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }
}

function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? CORS_ALLOW_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
