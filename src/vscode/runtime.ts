/**
 * The live engine behind the UI: config, account store, OAuth client and token pool, built from the
 * settings and rebuilt when a setting changes, without a reload. The tree, the status bar, the
 * commands and the auth provider read `runtime.current` and listen to `onDidChange`; the proxy
 * takes part in a rebuild so it can move to the new pool (and port) before the old one goes away.
 * No `vscode` import.
 */
import type { Config } from '../core/config';
import { Emitter, type Disposable } from '../core/disposable';
import { TokenpoolError } from '../core/errors';
import { createDispatcher } from '../core/http';
import type { Logger } from '../core/log';
import { GoogleOAuth } from '../core/oauth';
import { TokenPool } from '../core/pool';
import { AccountStore } from '../core/store';
import { DisposableBase, toDisposable } from './lifecycle';

export interface LoadedSettings {
  dataDir: string;
  config: Config;
}

export interface Services extends LoadedSettings {
  store: AccountStore;
  oauth: GoogleOAuth;
  pool: TokenPool;
}

/** Called with the new services before the old ones are disposed. */
export type RebuildParticipant = (next: Services) => Promise<void>;

/** What forces a new store/OAuth client/pool; anything else (proxy, upstream) only updates `config`. */
const engineKey = (s: LoadedSettings): string =>
  JSON.stringify([s.dataDir, s.config.oauth, s.config.routing, s.config.network]);

export class PoolRuntime extends DisposableBase {
  private services: Services | undefined;
  private teardown: Disposable | undefined;
  private failure: Error | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly participants = new Set<RebuildParticipant>();

  private readonly changed = this._register(new Emitter<{ reason: string }>());
  private readonly failed = this._register(new Emitter<Error>());
  /** The pool changed, or the services were replaced: views read again. */
  readonly onDidChange = this.changed.event;
  /** Loading the settings or the pool failed; the previous services (if any) stay in use. */
  readonly onDidFail = this.failed.event;

  constructor(
    private readonly load: () => Promise<LoadedSettings>,
    private readonly log: Logger,
  ) {
    super();
    this._register(toDisposable(() => this.teardown?.dispose()));
  }

  get current(): Services | undefined {
    return this.services;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** The services, or an error that says why there are none (bad config, still starting). */
  require(): Services {
    if (this.services) return this.services;
    throw this.failure ?? new TokenpoolError('Token Pool is still starting; try again in a moment');
  }

  /** For deactivate(): stops the pool, waits for its pending writes (state, its last save of last_used), then disposes. */
  async close(): Promise<void> {
    await this.queue;
    this.services?.pool.dispose();
    await this.services?.pool.flush();
    this.dispose();
  }

  onRebuild(participant: RebuildParticipant): Disposable {
    this.participants.add(participant);
    return toDisposable(() => this.participants.delete(participant));
  }

  /** Reads the settings and applies them. Serialized; never rejects (failures fire onDidFail). */
  refresh(): Promise<void> {
    this.queue = this.queue.then(() => this.apply());
    return this.queue;
  }

  private async apply(): Promise<void> {
    if (this.isDisposed) return;
    try {
      const loaded = await this.load();
      const previous = this.services;
      if (previous && engineKey(previous) === engineKey(loaded)) {
        this.failure = undefined;
        if (JSON.stringify(previous.config) === JSON.stringify(loaded.config)) return;
        await this.swap({ ...previous, config: loaded.config });
      } else {
        const { services, release } = await this.build(loaded);
        this.failure = undefined;
        await this.swap(services, release);
        if (previous) this.log.info(`[pool] settings changed: reloaded the pool from ${services.dataDir}`);
      }
      this.changed.fire({ reason: 'rebuilt' });
    } catch (err) {
      this.failure = err instanceof Error ? err : new TokenpoolError(String(err));
      this.log.error(`[pool] ${this.failure.message}`);
      this.failed.fire(this.failure);
      this.changed.fire({ reason: 'failed' });
    }
  }

  /** Puts `next` in place, lets the participants move to it, then releases the old store and pool. */
  private async swap(next: Services, release?: () => void): Promise<void> {
    if (this.isDisposed) {
      release?.();
      return;
    }
    this.services = next;
    try {
      await Promise.all([...this.participants].map((participant) => participant(next)));
    } finally {
      if (release) {
        const old = this.teardown;
        this.teardown = toDisposable(release);
        old?.dispose();
      }
    }
  }

  /** A store, OAuth client and pool for `loaded`, loaded and watching, with the function that releases them. */
  private async build(loaded: LoadedSettings): Promise<{ services: Services; release: () => void }> {
    const dispatcher = createDispatcher(loaded.config.network);
    const store = new AccountStore(loaded.dataDir, this.log);
    const oauth = new GoogleOAuth(loaded.config.oauth, { dispatcher });
    const pool = new TokenPool({ store, oauth, log: this.log, routing: loaded.config.routing });
    const parts: Disposable[] = [toDisposable(() => void dispatcher.destroy().catch(() => undefined)), store, pool];
    const release = () => {
      for (const part of parts.splice(0).reverse()) part.dispose();
    };
    try {
      await store.init();
      await pool.load();
    } catch (err) {
      release();
      throw err;
    }
    parts.push(pool.startWatching(), pool.onDidChange((e) => this.changed.fire(e)));
    return { services: { ...loaded, store, oauth, pool }, release };
  }
}
