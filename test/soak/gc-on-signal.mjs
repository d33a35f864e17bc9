/**
 * Preloaded into the fault matrix's `tokenpool serve` (NODE_OPTIONS=--expose-gc --import this
 * file), so memory is compared after a full collection rather than wherever V8's heap sizing
 * happens to be: on SIGUSR2, a full GC, then process.memoryUsage() as JSON into the file named by
 * TOKENPOOL_SOAK_MEMORY_FILE. The product's code is unchanged. Plain JavaScript: a preload runs
 * before any TypeScript loader.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const file = process.env.TOKENPOOL_SOAK_MEMORY_FILE;
  if (file) writeFileSync(file, JSON.stringify(process.memoryUsage()));
});
