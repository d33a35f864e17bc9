/**
 * Torn files: `tokenpool serve` is killed with SIGKILL at a random moment while it writes (token
 * refreshes forced every 20 ms, last_used saves), N times over one data directory. After each kill
 * every account file must parse and validate; the next start must remove the temp files the kill
 * left and answer its first round of requests (every account needing a refresh) within 1 s.
 */
import { once } from 'node:events';
import { sampleRequest } from '../helpers/proxy-harness';
import { call, makeDataDir, readAccountsDir, removeDir, serve, sleep, startFakes } from './env';
import { Figures } from './report';

const ACCOUNTS = 4;

export async function tornFiles(f: Figures, opts: { kills: number }): Promise<void> {
  const fakes = await startFakes({ accessTokenTtlS: 3599 });
  const data = await makeDataDir(fakes, ACCOUNTS, { configure: (c) => (c.routing.refresh_skew_s = 0) });
  let invalidAfterKill = 0;
  let missingAfterKill = 0;
  let killsLeavingTemp = 0;
  let killsLeavingLock = 0;
  let leftoversAfterStart = 0;
  let slowFirstRounds = 0;
  let failedFirstRounds = 0;
  let worstFirstRoundMs = 0;
  const firstRoundMs: number[] = [];
  const startMs: number[] = [];
  let leftover: string[] = [];
  const examples: string[] = [];
  try {
    for (let k = 0; k < opts.kills; k++) {
      const spawned = performance.now();
      const proc = await serve(data);
      startMs.push(performance.now() - spawned);
      try {
        // The temp files the previous kill left must be gone once the restarted process listens.
        const after = await readAccountsDir(data.accountsDir);
        const still = leftover.filter((name) => after.temps.includes(name));
        leftoversAfterStart += still.length;
        if (still.length && examples.length < 5) examples.push(`start ${k}: ${still.length} temp file(s) of the previous kill still there`);

        // First round: every account's access token is void, so each request refreshes and writes.
        fakes.google.expireAccessTokens();
        const round = await Promise.all(Array.from({ length: ACCOUNTS }, () => {
          const { path, body } = sampleRequest('openai', { prompt: `round ${k}` });
          return call(proc.url, path, { body, apiKey: data.apiKey, timeoutMs: 30_000 });
        }));
        const ms = Math.max(...round.map((a) => a.ms));
        firstRoundMs.push(ms);
        worstFirstRoundMs = Math.max(worstFirstRoundMs, ms);
        if (ms > 1000) {
          slowFirstRounds++;
          if (examples.length < 5) examples.push(`start ${k}: first round took ${Math.round(ms)} ms (${after.locks.length} lock(s) left by the kill)`);
        }
        if (round.some((a) => a.status !== 200)) {
          failedFirstRounds++;
          if (examples.length < 5) examples.push(`start ${k}: first round answered ${round.map((a) => a.status || a.error).join(', ')}`);
        }

        // Writes as fast as the product makes them, then SIGKILL at a random moment among them.
        let writing = true;
        const expirer = (async () => {
          while (writing) {
            fakes.google.expireAccessTokens();
            await sleep(20);
          }
        })();
        const traffic = Array.from({ length: ACCOUNTS }, async () => {
          while (writing) {
            const { path, body } = sampleRequest('openai', { prompt: 'write' });
            await call(proc.url, path, { body, apiKey: data.apiKey, timeoutMs: 30_000 });
          }
        });
        await sleep(50 + Math.random() * 350);
        const exited = once(proc.child, 'exit');
        proc.child.kill('SIGKILL');
        await exited;
        writing = false;
        await Promise.all([expirer, ...traffic]);
      } finally {
        if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop();
      }

      const state = await readAccountsDir(data.accountsDir);
      invalidAfterKill += state.invalid.length;
      if (state.invalid.length && examples.length < 5) examples.push(`kill ${k}: ${state.invalid[0]}`);
      if (state.accounts.length !== ACCOUNTS) missingAfterKill++;
      if (state.temps.length) killsLeavingTemp++;
      if (state.locks.length) killsLeavingLock++;
      leftover = state.temps;
    }
    // The last kill's leftovers, cleaned by one more start.
    const proc = await serve(data);
    const after = await readAccountsDir(data.accountsDir);
    leftoversAfterStart += leftover.filter((name) => after.temps.includes(name)).length;
    await proc.stop();
  } finally {
    await fakes.close();
    await removeDir(data.dir);
  }
  firstRoundMs.sort((a, b) => a - b);
  f.goal('unparsable or invalid account files after a kill', invalidAfterKill, { max: 0 });
  f.goal('kills after which an account file was missing', missingAfterKill, { max: 0 });
  f.goal('temp files still there after the next start', leftoversAfterStart, { max: 0 });
  f.goal('restarts whose first round took over 1 s', slowFirstRounds, { max: 0 });
  f.goal('restarts whose first round was not all 200', failedFirstRounds, { max: 0 });
  f.info('first round after a restart (4 requests, 4 refreshes), median', firstRoundMs[Math.floor(firstRoundMs.length / 2)] ?? 0, 'ms');
  f.info('first round after a restart, worst', worstFirstRoundMs, 'ms');
  startMs.sort((a, b) => a - b);
  f.info('spawn to listening, median (not in the 1 s)', startMs[Math.floor(startMs.length / 2)] ?? 0, 'ms');
  f.info('kills that left a temp file (killed mid-write)', killsLeavingTemp);
  f.info('kills that left a lock file', killsLeavingLock);
  for (const e of examples) f.note(e);
}
