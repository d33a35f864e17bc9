/** Anything long-lived hands back one of these; `vscode.Disposable` is structurally compatible. */
export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (event: T) => void;

/** A minimal typed event emitter in the shape of `vscode.Event`: subscribe, get a Disposable back. */
export class Emitter<T> implements Disposable {
  private listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(event: T): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
