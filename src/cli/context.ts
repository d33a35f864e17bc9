/**
 * What every subcommand needs, built once from the data directory: config, store, OAuth client and
 * pool. Nothing here talks to Google until a command asks it to.
 */
import type { Dispatcher } from 'undici';
import { loadConfig, resolveDataDir, type Config } from '../core/config';
import { createDispatcher } from '../core/http';
import { createStreamLogger, type Logger } from '../core/log';
import { GoogleOAuth } from '../core/oauth';
import { TokenPool } from '../core/pool';
import { AccountStore } from '../core/store';
import { AccountNotFoundError } from '../core/errors';
import type { AccountSummary } from '../core/account';

export interface CliContext {
  dataDir: string;
  config: Config;
  log: Logger;
  dispatcher: Dispatcher;
  store: AccountStore;
  oauth: GoogleOAuth;
  pool: TokenPool;
  close(): Promise<void>;
}

export async function openContext(options: { dataDir?: string; verbose?: boolean; logLevel?: 'info' | 'warn' }): Promise<CliContext> {
  const dataDir = resolveDataDir(options.dataDir);
  const config = await loadConfig(dataDir);
  const log = createStreamLogger(process.stderr, options.verbose ? 'debug' : options.logLevel ?? 'warn');
  const dispatcher = createDispatcher(config.network);
  const store = new AccountStore(dataDir, log);
  await store.init();
  const oauth = new GoogleOAuth(config.oauth, { dispatcher });
  const pool = new TokenPool({ store, oauth, log, routing: config.routing });
  await pool.load();
  return {
    dataDir,
    config,
    log,
    dispatcher,
    store,
    oauth,
    pool,
    async close() {
      pool.dispose(); // starts a last, bounded save of last_used
      await pool.flush();
      store.dispose();
      await dispatcher.close();
    },
  };
}

/** The account with this email (case-insensitive), or AccountNotFoundError. */
export function findByEmail(pool: TokenPool, email: string): AccountSummary {
  const wanted = email.toLowerCase();
  const found = pool.summaries().find((s) => s.email.toLowerCase() === wanted);
  if (!found) throw new AccountNotFoundError(email);
  return found;
}
