/** `tokenpool serve`: the proxy in the foreground until SIGTERM/SIGINT, then drain and exit 0. */
import { once } from 'node:events';
import { ProxyServer } from '../proxy/server';
import { version } from '../core/version';
import type { CliContext } from './context';
import { UsageError } from './usage';

export async function runServe(ctx: CliContext, flags: { host?: string; port?: string }): Promise<number> {
  const config = structuredClone(ctx.config);
  if (flags.host) config.proxy.host = flags.host;
  if (flags.port !== undefined) config.proxy.port = parsePort(flags.port);
  const watching = ctx.pool.startWatching();
  const server = new ProxyServer({ config, pool: ctx.pool, log: ctx.log, version, dispatcher: ctx.dispatcher });
  try {
    const { host, port } = await server.listen();
    console.log(`tokenpool listening on http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    // Whichever signal comes first; the other listener is removed by the abort.
    const stop = new AbortController();
    await Promise.race([once(process, 'SIGTERM', { signal: stop.signal }), once(process, 'SIGINT', { signal: stop.signal })]);
    stop.abort();
    ctx.log.info('[proxy] stopping: draining in-flight requests');
    await server.close();
    return 0;
  } finally {
    watching.dispose();
    server.dispose();
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${text}"`);
  }
  return port;
}
