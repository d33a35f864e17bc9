/**
 * The client went away before its answer ended: one per request, fired at most once. It cancels the
 * wait for an account, the upstream request (undici takes an EventEmitter as a request's `signal`)
 * and the stream. An AbortController per request, with undici's listener on its EventTarget, cost
 * about 12 µs of CPU per request (BENCHMARKS.md), as much as routing, rewriting and serializing the
 * request together; an emitter costs a fraction of that. An AbortSignal is made only when something
 * asks for one.
 */
import { EventEmitter } from 'node:events';

export class ClientSignal extends EventEmitter {
  aborted = false;
  private controller: AbortController | undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
    this.emit('abort');
  }

  /** An AbortSignal that is aborted with this one, for APIs that take nothing else (made on first use). */
  get abortSignal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.aborted) this.controller.abort();
    return this.controller.signal;
  }
}
