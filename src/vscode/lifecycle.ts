/**
 * The base of every long-lived object in the extension: it owns what it `_register`s and disposes
 * it, newest first, exactly once. No `vscode` import (`vscode.Disposable` fits the same shape).
 */
import type { Disposable } from '../core/disposable';

export abstract class DisposableBase implements Disposable {
  private readonly toDispose: Disposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.toDispose.push(disposable);
    return disposable;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const disposable of this.toDispose.splice(0).reverse()) disposable.dispose();
  }
}

/** A Disposable that runs `fn` once. */
export const toDisposable = (fn: () => void): Disposable => {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
};

/** Runs `fn` once, `ms` after the last call; `dispose()` cancels a pending run. */
export function debounce(fn: () => void, ms: number): (() => void) & Disposable {
  let timer: NodeJS.Timeout | undefined;
  const call = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
  return Object.assign(call, { dispose: () => timer && clearTimeout(timer) });
}

/** Calls `fn` every `ms` until disposed; the timer does not keep the process alive. */
export function every(ms: number, fn: () => void): Disposable {
  const timer = setInterval(fn, ms);
  timer.unref();
  return toDisposable(() => clearInterval(timer));
}
