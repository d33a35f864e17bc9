/**
 * `npm run soak [-- --quick] [-- --only=name,name]`: the fault and soak suite against the real
 * `tokenpool serve` (dist/cli.js, built by the npm script) and the fakes. Prints each scenario's
 * figures against its goal, writes test-results/soak/soak-<time>.json, exits 1 if a figure missed.
 * See RELIABILITY.md for what each figure promises.
 */
import { execFileSync } from 'node:child_process';
import { badInput } from './bad-input';
import { diskFaults } from './disk-faults';
import { faultMatrix } from './fault-matrix';
import { fuzz } from './fuzz';
import { lostUpdates } from './lost-updates';
import { Figures, machine, printScenario, writeReport, type ScenarioResult } from './report';
import { secrets } from './secrets';
import { singleFlight } from './single-flight';
import { tornFiles } from './torn-files';

interface Scenario {
  name: string;
  size: (quick: boolean) => string;
  run: (f: Figures, quick: boolean) => Promise<string | void>;
}

/** In this order: secrets last, so it scans what every other scenario made the product say. */
const scenarios: Scenario[] = [
  { name: 'lost-updates', size: (q) => `2 processes × ${q ? 200 : 1000} mutations`, run: (f, q) => lostUpdates(f, { ops: q ? 200 : 1000 }) },
  { name: 'torn-files', size: (q) => `${q ? 50 : 1000} kill -9`, run: (f, q) => tornFiles(f, { kills: q ? 50 : 1000 }) },
  { name: 'single-flight', size: () => '500 concurrent requests × 2', run: (f) => singleFlight(f, { concurrent: 500 }) },
  { name: 'fault-matrix', size: (q) => `${q ? 1000 : 10000} requests after a 2,000-request warm-up`, run: (f, q) => faultMatrix(f, { requests: q ? 1000 : 10_000 }) },
  { name: 'bad-input', size: () => 'corpus', run: (f) => badInput(f) },
  { name: 'fuzz', size: (q) => `${q ? 10_000 : 50_000} codec runs`, run: (f, q) => fuzz(f, { runs: q ? 10_000 : 50_000 }) },
  { name: 'disk-faults', size: () => 'read-only + ENOSPC', run: (f) => diskFaults(f) },
  { name: 'secrets', size: () => 'whole run', run: (f) => secrets(f) },
];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  process.stdout.write(`tokenpool soak ${quick ? '--quick' : '(full)'} at ${commit} on ${JSON.stringify(machine())}\n`);
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    if (only && !only.includes(s.name)) continue;
    const f = new Figures();
    const started = performance.now();
    let skipped: string | undefined;
    try {
      skipped = (await s.run(f, quick)) ?? undefined;
    } catch (err) {
      f.goal('scenario ran to the end', 0, { min: 1 });
      f.note(`failed: ${(err as Error).stack ?? String(err)}`);
    }
    const result: ScenarioResult = {
      name: s.name,
      size: s.size(quick),
      seconds: (performance.now() - started) / 1000,
      figures: f.figures,
      notes: f.notes,
      ...(skipped ? { skipped } : {}),
    };
    printScenario(result);
    results.push(result);
  }
  const file = await writeReport(results, { quick, commit });
  const missed = results.flatMap((r) => r.figures.filter((x) => !x.ok).map((x) => `${r.name}: ${x.name}`));
  process.stdout.write(`\n${missed.length === 0 ? 'every figure at its goal' : `MISSED ${missed.length}:\n  ${missed.join('\n  ')}`}\nreport: ${file}\n`);
  return missed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
