/**
 * The codecs under arbitrary input (issue 17): the properties of test/fuzz/codecs.ts, a few thousand
 * runs in all (FUZZ_RUNS to change; `npm run soak` runs many more). A failure prints fast-check's
 * seed and the shrunk counterexample; rerun it with FUZZ_SEED.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { baseRequests, PROPERTIES, translateRequest } from '../fuzz/codecs';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

test('fuzz: each front-end\'s base request translates (so a replaced field is what a refusal is about)', () => {
  for (const c of baseRequests()) assert.notEqual(translateRequest(c), 'refused', c.frontEnd);
});

for (const { name, property, share } of PROPERTIES) {
  test(`fuzz: ${name}`, () => {
    fc.assert(property, { numRuns: Math.max(50, Math.round(RUNS * share)), ...(seed === undefined ? {} : { seed }) });
  });
}
