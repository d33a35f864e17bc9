/** `tokenpool serve`: the proxy in the foreground until SIGTERM/SIGINT, then drain and exit 0. */
import { once } from 'node:events';
import { ProxyServer } from '../proxy/server';
import { version } from '../core/version';
import { UsageLedger } from '../core/usage/ledger';
import { UsageFiles, historyOptions } from '../core/usage/usageFiles';
import { announce, claimDataDir, notHolderMessage, releaseClaim, type ServeClaim } from '../core/serveClaim';
import type { CliContext } from './context';
import { UsageError } from './usage';

export async function runServe(ctx: CliContext, flags: { host?: string; port?: string }): Promise<number> {
  const config = structuredClone(ctx.config);
  if (flags.host) config.proxy.host = flags.host;
  if (flags.port !== undefined) config.proxy.port = parsePort(flags.port);
  const watching = ctx.pool.startWatching();
  // the serving process keeps the usage files (DESIGN section 11): loaded now, written every few
  // seconds and at the end; a second serve on the same data directory counts in memory only
  const claim: ServeClaim = { pid: process.pid, host: null, port: null, version, started: new Date().toISOString() };
  const claimed = await claimDataDir(ctx.dataDir, claim);
  const usage = new UsageLedger({ limits: config.routing.limits, log: ctx.log });
  const files = new UsageFiles(ctx.dataDir, usage, ctx.log, historyOptions(config.logging));
  await files.load({ repair: claimed.ours });
  if (claimed.ours) files.start();
  else ctx.log.warn(notHolderMessage(claimed.holder, ctx.dataDir, 'serve'));
  const server = new ProxyServer({ config, pool: ctx.pool, log: ctx.log, version, dispatcher: ctx.dispatcher, usage });
  try {
    const { host, port } = await server.listen();
    if (claimed.ours) await announce(ctx.dataDir, { ...claim, host, port });
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
    if (claimed.ours) {
      await files.close();
      await releaseClaim(ctx.dataDir, process.pid);
    }
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${text}"`);
  }
  return port;
}
