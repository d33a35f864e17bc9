/**
 * The codec fuzzer (test/fuzz/codecs.ts) at soak size: the properties `npm test` runs a few thousand
 * times, run many more times here, each from a fresh seed that is printed so a failure can be
 * replayed (FUZZ_SEED with the unit test). Pure functions in this process: no server.
 */
import fc from 'fast-check';
import { PROPERTIES } from '../fuzz/codecs';
import type { Figures } from './report';

export async function fuzz(f: Figures, { runs }: { runs: number }): Promise<void> {
  let failed = 0;
  let total = 0;
  for (const { name, property, share } of PROPERTIES) {
    const numRuns = Math.round(runs * share);
    const seed = Date.now() ^ (Math.random() * 0x7fffffff);
    const started = performance.now();
    const details = await Promise.resolve(fc.check(property, { numRuns, seed }));
    total += details.numRuns;
    f.info(`${name}: runs (seed ${seed})`, details.numRuns);
    f.info(`${name}: time`, (performance.now() - started) / 1000, 's');
    if (details.failed) {
      failed++;
      f.note(`${name} failed (seed ${seed}, path ${details.counterexamplePath}): ${String(details.errorInstance).split('\n')[0]}; counterexample ${JSON.stringify(details.counterexample).slice(0, 600)}`);
    }
  }
  f.goal('fuzz runs in all', total, { min: runs * 0.99 });
  f.goal('properties that failed (a throw other than our 400, or output or work past its bound)', failed, { max: 0 });
}
