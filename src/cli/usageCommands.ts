/**
 * `tokenpool usage [--since 24h] [--by account,model] [--json]` and `tokenpool requests [--limit N]
 * [--follow] [--json]` (DESIGN section 11). They ask the running serve (`GET /admin/usage`,
 * `/admin/requests`) with the key in config.json, where the data directory's serve.json says it
 * listens, else at the configured address; they read the files under usage/ when none is running.
 * `--json` prints what the admin API answers, unchanged.
 */
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import { request, type Dispatcher } from 'undici';
import { TokenpoolError } from '../core/errors';
import { baseUrl } from '../core/localUrl';
import { liveServe } from '../core/serveClaim';
import { UsageLedger, type UsageReport } from '../core/usage/ledger';
import { parseRequestFilter, parseUsageQuery, UsageQueryError } from '../core/usage/query';
import type { RequestRecord } from '../core/usage/record';
import { UsageFiles, historyOptions } from '../core/usage/usageFiles';
import type { CliContext } from './context';
import { formatRequest, formatUsageTable } from './usageFormat';
import { UsageError } from './usage';

export interface UsageFlags {
  since?: string;
  until?: string;
  by?: string;
  limit?: string;
  follow?: boolean;
  json?: boolean;
}

export async function runUsage(ctx: CliContext, flags: UsageFlags): Promise<number> {
  const params = new URLSearchParams();
  if (flags.since !== undefined) params.set('since', flags.since);
  if (flags.until !== undefined) params.set('until', flags.until);
  if (flags.by !== undefined) params.set('by', flags.by);
  const query = asUsageError(() => parseUsageQuery(params, Date.now()));
  const served = await askServe<UsageReport>(ctx, `/admin/usage?${params}`);
  const report = served ?? (await fromFiles(ctx, (ledger) => asUsageError(() => ledger.usage(query))));
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatUsageTable(report, query.by));
  return 0;
}

export async function runRequests(ctx: CliContext, flags: UsageFlags): Promise<number> {
  const params = new URLSearchParams();
  if (flags.limit !== undefined) params.set('limit', flags.limit);
  const filter = asUsageError(() => parseRequestFilter(params));
  if (flags.follow) return follow(ctx, params, flags.json ?? false);
  const served = await askServe<{ requests: RequestRecord[] }>(ctx, `/admin/requests?${params}`);
  const requests = served?.requests ?? (await fromFiles(ctx, (ledger) => ledger.requests(filter)));
  if (flags.json) console.log(JSON.stringify({ requests }, null, 2));
  else console.log(requests.length ? requests.map(formatRequest).join('\n') : 'no requests recorded');
  return 0;
}

/** A bad flag value is a usage error that names the flag. */
function asUsageError<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof UsageQueryError) throw new UsageError(`--${err.message}`);
    throw err;
  }
}

/**
 * The serve to ask: the one that keeps this data directory's usage files, where its serve.json
 * says it listens (any `--port`), else the configured address.
 */
async function serveUrl(ctx: CliContext): Promise<string> {
  const live = await liveServe(ctx.dataDir);
  return live ? baseUrl(live.host, live.port) : baseUrl(ctx.config.proxy.host, ctx.config.proxy.port);
}

/** The running serve's answer, or undefined when nothing listens there. */
async function askServe<T>(ctx: CliContext, path: string): Promise<T | undefined> {
  const url = await serveUrl(ctx);
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url + path, { headers: { authorization: `Bearer ${ctx.config.proxy.api_key}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    if (isNothingListening(err)) return undefined;
    throw new TokenpoolError(`cannot ask the tokenpool serve at ${url}: ${(err as Error).message}`);
  }
  const text = await response.body.text();
  if (response.statusCode !== 200) throw serveRefused(ctx, url, response.statusCode, text);
  return JSON.parse(text) as T;
}

const isNothingListening = (err: unknown): boolean => {
  const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT';
};

function serveRefused(ctx: CliContext, url: string, status: number, text: string): TokenpoolError {
  let message = text.slice(0, 300);
  try {
    message = (JSON.parse(text) as { error: { message: string } }).error.message;
  } catch {
    // not the proxy's JSON error: the text as it came
  }
  const hint = status === 401 ? ` (is it serving another data directory than ${ctx.dataDir}?)` : '';
  return new TokenpoolError(`the tokenpool serve at ${url} answered ${status}: ${message}${hint}`);
}

/** No serve running: the figures from the files, read only. */
async function fromFiles<T>(ctx: CliContext, read: (ledger: UsageLedger) => T): Promise<T> {
  const ledger = new UsageLedger({ limits: ctx.config.routing.limits });
  await new UsageFiles(ctx.dataDir, ledger, ctx.log, historyOptions(ctx.config.logging)).load({ repair: false });
  return read(ledger);
}

/** Prints the last requests, then each new one as the serve records it, until SIGINT / SIGTERM. */
async function follow(ctx: CliContext, params: URLSearchParams, json: boolean): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const url = await serveUrl(ctx);
    const response = await request(`${url}/admin/requests?${params}`, {
      headers: { authorization: `Bearer ${ctx.config.proxy.api_key}`, accept: 'text/event-stream' },
      signal: stop.signal,
      bodyTimeout: 0,
    }).catch((err: unknown) => {
      if (isNothingListening(err)) throw new TokenpoolError(`no tokenpool serve is running at ${url} to follow`);
      throw err;
    });
    if (response.statusCode !== 200) throw serveRefused(ctx, url, response.statusCode, await response.body.text());
    const parser = createParser({
      onEvent: (event) => {
        if (event.event !== 'request') return;
        const record = JSON.parse(event.data) as RequestRecord;
        console.log(json ? JSON.stringify(record) : formatRequest(record));
      },
    });
    const text = new StringDecoder('utf8');
    response.body.on('data', (chunk: Buffer) => parser.feed(text.write(chunk)));
    await once(response.body, 'end', { signal: stop.signal }).catch((err: unknown) => {
      if (!stop.signal.aborted) throw err;
    });
    return 0;
  } catch (err) {
    if (stop.signal.aborted) return 0;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
