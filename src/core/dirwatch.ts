/**
 * Reports, per file name in one directory, that a file now exists (created or changed) or is gone.
 * `fs.watch` does the work; events for one name are merged for `debounceMs` and then the file is
 * stat'ed, so an editor's write-temp-then-rename (or rename-away-then-write) reads as one change
 * with the final state. If `fs.watch` cannot start, errors, or gives no file names, the directory
 * is polled every `pollMs` instead, comparing inode, size and mtime, so a change is still seen
 * within a second.
 */
import { promises as fs, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Disposable } from './disposable';
import type { Logger } from './log';
import { mapInSlices } from './slices';

export interface DirWatchOptions {
  /** Which file names are reported (the rest, e.g. temp files and lock directories, are ignored). */
  accept: (name: string) => boolean;
  log: Logger;
  debounceMs?: number;
  pollMs?: number;
}

export type DirEventListener = (name: string, exists: boolean) => void;

interface Pending {
  timer?: NodeJS.Timeout;
  /** A stat for this name is in flight; `again` asks for one more after it. */
  running: boolean;
  again: boolean;
}

export function watchDirectory(dir: string, options: DirWatchOptions, listener: DirEventListener): Disposable {
  return new DirWatcher(dir, options, listener);
}

class DirWatcher implements Disposable {
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private watcher: FSWatcher | undefined;
  private polling = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, Pending>();
  private disposed = false;

  constructor(
    private readonly dir: string,
    private readonly options: DirWatchOptions,
    private readonly listener: DirEventListener,
  ) {
    this.debounceMs = options.debounceMs ?? 75;
    this.pollMs = options.pollMs ?? 500;
    try {
      this.watcher = watch(dir, (_type, filename) => this.onFsEvent(filename));
      this.watcher.on('error', (err) => this.fallBackToPolling(err));
    } catch (err) {
      this.fallBackToPolling(err as Error);
    }
  }

  private onFsEvent(filename: string | null): void {
    if (filename === null) {
      this.fallBackToPolling(new Error('fs.watch gives no file names on this platform'));
      return;
    }
    if (this.options.accept(filename)) this.schedule(filename);
  }

  /** Checks `name` once `debounceMs` after its first event; events meanwhile are merged. */
  private schedule(name: string): void {
    const entry = this.pending.get(name) ?? { running: false, again: false };
    this.pending.set(name, entry);
    if (entry.running) {
      entry.again = true;
      return;
    }
    entry.timer ??= setTimeout(() => void this.check(name, entry), this.debounceMs);
  }

  /** One stat per name at a time, so a "gone" can never overtake a later "exists" for the same file. */
  private async check(name: string, entry: Pending): Promise<void> {
    entry.timer = undefined;
    entry.running = true;
    const exists = await fs.stat(join(this.dir, name)).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
    );
    entry.running = false;
    this.report(name, exists);
    if (entry.again && !this.disposed) {
      entry.again = false;
      this.schedule(name);
    } else {
      this.pending.delete(name);
    }
  }

  private report(name: string, exists: boolean): void {
    if (this.disposed) return;
    try {
      this.listener(name, exists);
    } catch (err) {
      this.options.log.warn(`[store] a watch listener failed on ${name}: ${(err as Error).message}`);
    }
  }

  private fallBackToPolling(err: Error): void {
    if (this.disposed || this.polling) return;
    this.polling = true;
    this.watcher?.close();
    this.watcher = undefined;
    const reason = (err as NodeJS.ErrnoException).code ?? err.message;
    this.options.log.warn(`[store] cannot watch ${this.dir} (${reason}); checking it every ${this.pollMs} ms instead`);
    void this.snapshot().then((first) => this.poll(first ?? new Map()));
  }

  private poll(previous: Map<string, string>): void {
    if (this.disposed) return;
    this.pollTimer = setTimeout(() => {
      void this.snapshot().then((current) => {
        if (!current) return this.poll(previous);
        for (const [name, signature] of current) {
          if (previous.get(name) !== signature) this.report(name, true);
        }
        for (const name of previous.keys()) {
          if (!current.has(name)) this.report(name, false);
        }
        this.poll(current);
      });
    }, this.pollMs);
  }

  /** name -> inode:size:mtime of every accepted file; undefined when the directory cannot be read. */
  private async snapshot(): Promise<Map<string, string> | undefined> {
    let names: string[];
    try {
      names = (await fs.readdir(this.dir)).filter(this.options.accept);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : undefined;
    }
    const stats = await mapInSlices(names, (name) => statSync(join(this.dir, name), { throwIfNoEntry: false }));
    const result = new Map<string, string>();
    names.forEach((name, i) => {
      const st = stats[i];
      if (st) result.set(name, `${st.ino}:${st.size}:${st.mtimeMs}`);
    });
    return result;
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.pollTimer);
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }
}
