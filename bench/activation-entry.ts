/**
 * What the extension's activate() does for the core, without `vscode`: config, store, pool (load
 * and watch), proxy server listening. activation.ts bundles this with esbuild as the extension is
 * bundled and times require() + activateCore() in a fresh process.
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/core/config';
import { nullLogger } from '../src/core/log';
import { GoogleOAuth } from '../src/core/oauth';
import { TokenPool } from '../src/core/pool';
import { AccountStore } from '../src/core/store';
import { ProxyServer } from '../src/proxy/server';

export interface Activation {
  /** ms per phase, from the call. */
  storeAndPoolMs: number;
  listenMs: number;
  accounts: number;
  close(): Promise<void>;
}

export async function activateCore(dataDir: string): Promise<Activation> {
  const started = performance.now();
  const config = await loadConfig(dataDir);
  config.proxy.port = 0;
  const store = new AccountStore(dataDir, nullLogger);
  await store.init();
  const pool = new TokenPool({ store, oauth: new GoogleOAuth(config.oauth), log: nullLogger, routing: config.routing });
  await pool.load();
  const watching = pool.startWatching();
  const storeAndPoolMs = performance.now() - started;
  const server = new ProxyServer({ config, pool, log: nullLogger, version: 'bench' });
  await server.listen();
  const listenMs = performance.now() - started - storeAndPoolMs;
  return {
    storeAndPoolMs,
    listenMs,
    accounts: pool.counts().total,
    async close() {
      await server.close();
      watching.dispose();
      pool.dispose();
      store.dispose();
    },
  };
}
