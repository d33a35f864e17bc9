/**
 * Activation time of the core with a given data directory: the core bundled by esbuild as the
 * extension is (CommonJS, node20), then in a fresh node process: require() the bundle and await
 * activateCore() (config + store + pool load + watch + server listening). Median of `runs` processes.
 */
import { execFile } from 'node:child_process';
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median } from './stats';

const run = promisify(execFile);

export interface ActivationFigures {
  totalMs: number;
  requireMs: number;
  storeAndPoolMs: number;
  listenMs: number;
  accounts: number;
  bundleBytes: number;
  runs: number;
}

const DRIVER = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const core = require(process.argv[1]);
const requireMs = performance.now() - t0;
core.activateCore(process.argv[2]).then(async (a) => {
  const totalMs = performance.now() - t0;
  await a.close();
  console.log(JSON.stringify({ totalMs, requireMs, storeAndPoolMs: a.storeAndPoolMs, listenMs: a.listenMs, accounts: a.accounts }));
  process.exit(0);
}, (err) => { console.error(err && err.stack || err); process.exit(1); });
`;

export async function measureActivation(dataDir: string, workDir: string, runs: number): Promise<ActivationFigures> {
  const bundle = join(workDir, 'activation-core.js');
  const built = await esbuild.build({
    entryPoints: [join(__dirname, 'activation-entry.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    metafile: true,
    logLevel: 'warning',
  });
  const bundleBytes = built.metafile.outputs[Object.keys(built.metafile.outputs)[0]].bytes;
  const samples: Omit<ActivationFigures, 'bundleBytes' | 'runs'>[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['-e', DRIVER, bundle, dataDir], { timeout: 30_000 });
    samples.push(JSON.parse(stdout.trim().split('\n').pop()!) as (typeof samples)[number]);
  }
  const pick = (k: 'totalMs' | 'requireMs' | 'storeAndPoolMs' | 'listenMs'): number => median(samples.map((s) => s[k]));
  return {
    totalMs: pick('totalMs'),
    requireMs: pick('requireMs'),
    storeAndPoolMs: pick('storeAndPoolMs'),
    listenMs: pick('listenMs'),
    accounts: samples[0].accounts,
    bundleBytes,
    runs,
  };
}
