/**
 * Starts, stops and restarts the proxy server, and shares the port between windows: the first
 * window to bind it serves; another gets EADDRINUSE, asks `/healthz` who holds the port, shows
 * "served by another window" (or "in use by another program"), and tries again every few seconds so
 * it takes over when the serving window closes. Its pool stays loaded from the files either way.
 * No `vscode` import.
 */
import { Emitter } from '../core/disposable';
import { PortInUseError } from '../core/errors';
import { claimDataDir, notHolderMessage, releaseClaim } from '../core/serveClaim';
import type { Logger } from '../core/log';
import { UsageLedger } from '../core/usage/ledger';
import { UsageFiles, historyOptions } from '../core/usage/usageFiles';
import { ProxyServer } from '../proxy/server';
import { probePortHolder, type PortHolder } from './healthProbe';
import { DisposableBase, toDisposable } from './lifecycle';
import type { PoolRuntime, Services } from './runtime';

export type ProxyState =
  | { kind: 'stopped' }
  | { kind: 'starting'; host: string; port: number }
  | { kind: 'serving'; host: string; port: number }
  /** Another tokenpool (a sibling window or the CLI) holds the port. */
  | { kind: 'sibling'; host: string; port: number }
  /** Something that is not tokenpool holds the port. */
  | { kind: 'foreign'; host: string; port: number }
  | { kind: 'failed'; message: string };

export interface ProxyControllerOptions {
  runtime: PoolRuntime;
  log: Logger;
  version: string;
  /** How often a window that lost the port tries again; default 5 s. */
  retryMs?: number;
  probe?: (host: string, port: number, apiKey: string) => Promise<PortHolder>;
}

export class ProxyController extends DisposableBase {
  private server: ProxyServer | undefined;
  /** The serving window keeps the usage files (DESIGN section 11). */
  private files: UsageFiles | undefined;
  private ledger: UsageLedger | undefined;
  /** The data directory whose usage files this window keeps (serve.json), while it serves. */
  private claimedDir: string | undefined;
  private readonly recorded = this._register(new Emitter<void>());
  /** A request was recorded (at most once a second): views of today's usage read again. */
  readonly onDidRecord = this.recorded.event;
  private recordTimer: NodeJS.Timeout | undefined;
  private wanted = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private current: ProxyState = { kind: 'stopped' };
  private readonly changed = this._register(new Emitter<ProxyState>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly options: ProxyControllerOptions) {
    super();
    this._register(options.runtime.onRebuild((next) => this.enqueue(() => this.restart(next))));
    this._register(toDisposable(() => this.clearRetry()));
    this._register(toDisposable(() => clearTimeout(this.recordTimer)));
  }

  get state(): ProxyState {
    return this.current;
  }

  /** What this window's server has recorded; undefined when it does not serve. */
  get usage(): UsageLedger | undefined {
    return this.ledger;
  }

  /** Binds the port (or starts watching for it to come free). Resolves with the resulting state. */
  async start(): Promise<ProxyState> {
    await this.enqueue(async () => {
      this.wanted = true;
      await this.bind(this.options.runtime.current);
    });
    return this.current;
  }

  /** Stops serving (in-flight requests finish) and stops trying to take the port over. */
  stop(): Promise<void> {
    return this.enqueue(async () => {
      this.wanted = false;
      this.clearRetry();
      await this.closeServer();
      this.setState({ kind: 'stopped' });
    });
  }

  /** For deactivate(): the promise that closes the server. */
  async close(): Promise<void> {
    await this.stop();
    this.dispose();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = async () => {
      try {
        await step();
      } catch (err) {
        this.options.log.error(`[proxy] ${(err as Error).message}`);
      }
    };
    this.queue = this.queue.then(run);
    return this.queue;
  }

  private async restart(next: Services): Promise<void> {
    if (!this.wanted) return;
    await this.closeServer();
    await this.bind(next);
  }

  private async bind(services: Services | undefined): Promise<void> {
    this.clearRetry();
    if (!this.wanted || this.server || this.isDisposed) return;
    if (!services) {
      this.setState({ kind: 'failed', message: this.options.runtime.error?.message ?? 'Token Pool is still starting' });
      return;
    }
    const { host, port, api_key } = services.config.proxy;
    if (this.current.kind !== 'sibling' && this.current.kind !== 'foreign') this.setState({ kind: 'starting', host, port });
    const usage = new UsageLedger({ limits: services.config.routing.limits, log: this.options.log });
    const files = new UsageFiles(services.dataDir, usage, this.options.log, historyOptions(services.config.logging));
    const server = new ProxyServer({ config: services.config, pool: services.pool, log: this.options.log, version: this.options.version, usage });
    try {
      const address = await server.listen();
      // one writer of the usage files per data directory (serve.json): a `tokenpool serve` may hold them
      const claimed = await claimDataDir(services.dataDir, { pid: process.pid, host: address.host, port: address.port, version: this.options.version, started: new Date().toISOString() });
      await files.load({ repair: claimed.ours });
      if (claimed.ours) files.start();
      else this.options.log.warn(notHolderMessage(claimed.holder, services.dataDir, 'window'));
      this.server = server;
      this.files = files;
      this.claimedDir = claimed.ours ? services.dataDir : undefined;
      this.ledger = usage;
      usage.onRecord(() => this.recordedSoon());
      this.setState({ kind: 'serving', host: address.host, port: address.port });
    } catch (err) {
      server.dispose();
      if (!(err instanceof PortInUseError)) {
        this.setState({ kind: 'failed', message: (err as Error).message });
        return;
      }
      const holder = await (this.options.probe ?? probePortHolder)(host, port, api_key);
      this.setState({ kind: holder === 'tokenpool' ? 'sibling' : 'foreign', host, port });
      this.retryTimer = setTimeout(() => void this.enqueue(() => this.bind(this.options.runtime.current)), this.options.retryMs ?? 5000);
      this.retryTimer.unref();
    }
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    const files = this.files;
    const claimedDir = this.claimedDir;
    this.server = undefined;
    this.files = undefined;
    this.ledger = undefined;
    this.claimedDir = undefined;
    if (server) await server.close();
    if (files) await files.close();
    if (claimedDir) await releaseClaim(claimedDir, process.pid);
  }

  private recordedSoon(): void {
    if (this.recordTimer) return;
    this.recordTimer = setTimeout(() => {
      this.recordTimer = undefined;
      this.recorded.fire();
    }, 1000);
    this.recordTimer.unref();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setState(next: ProxyState): void {
    const before = this.current;
    this.current = next;
    if (JSON.stringify(before) === JSON.stringify(next)) return;
    if (before.kind !== next.kind) this.logState(next);
    this.changed.fire(next);
  }

  private logState(state: ProxyState): void {
    const { log } = this.options;
    switch (state.kind) {
      case 'sibling':
        return log.info(`[proxy] port ${state.port} is served by another tokenpool (another window or the CLI); this window takes over when it stops`);
      case 'foreign':
        return log.warn(`[proxy] port ${state.port} on ${state.host} is in use by another program; set tokenpool.proxy.port to a free port`);
      case 'failed':
        return log.error(`[proxy] cannot start: ${state.message}`);
      case 'stopped':
        return log.info('[proxy] stopped');
      case 'serving': // the server logs its own "listening on"
      case 'starting':
        return;
    }
  }
}
