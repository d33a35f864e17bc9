/**
 * `items.map(fn)` for a synchronous `fn` over many items (thousands of small files), in slices,
 * yielding to the event loop between slices so that no single stretch blocks for long. For many
 * small local files, synchronous reads in slices are several times faster than async reads
 * through libuv's thread pool (measured: 10,000 account files in ~150 ms vs 500-1000 ms).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T) => R, sliceSize = 256): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += sliceSize) {
    if (start > 0) await yieldToEventLoop();
    for (const item of items.slice(start, start + sliceSize)) results.push(fn(item));
  }
  return results;
}
