/**
 * Lost updates: two processes × N mutations (proxy-disable/enable, touches, upserts, removes) on
 * the data directory a `tokenpool serve` is using, while traffic makes it refresh tokens with a 2 s
 * access-token lifetime. Every operation is then checked against the files, and the final state
 * against what the serving process shows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Account, AccountSummary } from '../../src/core/account';
import { sampleRequest } from '../helpers/proxy-harness';
import { call, makeDataDir, readAccountsDir, removeDir, serve, sleep, startFakes, type DataDir } from './env';
import { opsField, type Mutation, type MutationPlan } from './mutator';
import { Figures } from './report';

const MUTATOR = resolve(__dirname, 'mutator.ts');
const SHARED = 5; // soak0..soak4; soak4 is never disabled, so traffic always has an account
const OWN_UPSERTS = 8;

interface Expected {
  /** email -> per process, the op indexes its list must hold, in order; absent: the record must be gone. */
  lists: Map<string, (number[] | undefined)[] | undefined>;
  proxyDisabled: Map<string, boolean>;
}

/** A random plan for process `p`, valid in order (removes only what it upserted and still has). */
function makePlan(p: number, n: number, data: DataDir, upserts: { email: string; refreshToken: string }[]): MutationPlan {
  const shared = data.accounts.map((a) => a.email);
  const owned = shared.filter((_, k) => k < SHARED - 1 && k % 2 === p);
  const disabled = new Map(owned.map((e) => [e, false]));
  const present = new Set<string>();
  const ops: Mutation[] = [];
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    if (r < 0.3) ops.push({ i, kind: 'touch', email: pick(shared) });
    else if (r < 0.6) {
      const email = pick(owned);
      const kind = disabled.get(email) ? 'proxy-enable' : 'proxy-disable';
      disabled.set(email, kind === 'proxy-disable');
      ops.push({ i, kind, email });
    } else if (r < 0.85 || present.size === 0) {
      const u = pick(upserts);
      present.add(u.email);
      ops.push({ i, kind: 'upsert', email: u.email, refreshToken: u.refreshToken });
    } else {
      const email = pick([...present]);
      present.delete(email);
      ops.push({ i, kind: 'remove', email });
    }
  }
  return { process: p, ops };
}

function expectedState(plans: MutationPlan[]): Expected {
  const lists: Expected['lists'] = new Map();
  const proxyDisabled = new Map<string, boolean>();
  for (const plan of plans) {
    for (const op of plan.ops) {
      const key = op.email.toLowerCase();
      if (op.kind === 'remove') {
        lists.set(key, undefined);
        continue;
      }
      const perProcess = lists.get(key) ?? [];
      (perProcess[plan.process] ??= []).push(op.i);
      lists.set(key, perProcess);
      if (op.kind === 'proxy-disable' || op.kind === 'proxy-enable') proxyDisabled.set(key, op.kind === 'proxy-disable');
    }
  }
  return { lists, proxyDisabled };
}

/** Per op: is its effect in the final files? Counts lost ones, and entries no op put there. */
function checkOps(plans: MutationPlan[], expected: Expected, onDisk: Account[]): { lost: number; phantom: number; duplicates: number; examples: string[] } {
  const byEmail = new Map<string, Account[]>();
  for (const a of onDisk) byEmail.set(a.email.toLowerCase(), [...(byEmail.get(a.email.toLowerCase()) ?? []), a]);
  let lost = 0;
  let phantom = 0;
  const examples: string[] = [];
  const miss = (what: string): void => {
    lost++;
    if (examples.length < 5) examples.push(what);
  };
  for (const plan of plans) {
    const field = opsField(plan.process);
    for (const op of plan.ops) {
      const key = op.email.toLowerCase();
      const want = expected.lists.get(key);
      const record = byEmail.get(key)?.[0];
      if (want === undefined) {
        // The record's last op was a remove: every op on it ends in its absence.
        if (record) miss(`${op.kind} #${op.i} by p${plan.process}: ${op.email} should be gone`);
        continue;
      }
      if (!(want[plan.process] ?? []).includes(op.i)) continue; // superseded by a later remove and re-upsert
      const got = record && Array.isArray(record[field]) ? (record[field] as number[]) : [];
      if (!got.includes(op.i)) miss(`${op.kind} #${op.i} by p${plan.process} on ${op.email} is missing`);
    }
  }
  for (const [key, want] of expected.lists) {
    const record = byEmail.get(key)?.[0];
    if (!want || !record) continue;
    for (const p of [0, 1]) {
      const got = Array.isArray(record[opsField(p)]) ? (record[opsField(p)] as number[]) : [];
      const allowed = new Set(want[p] ?? []);
      phantom += got.filter((i) => !allowed.has(i)).length;
      if (got.join(',') !== (want[p] ?? []).join(',') && got.every((i) => allowed.has(i)) && got.length === allowed.size) {
        phantom++; // same entries, wrong order
      }
    }
    const wantDisabled = expected.proxyDisabled.get(key);
    if (wantDisabled !== undefined && record.proxy_disabled !== wantDisabled) miss(`${record.email}: proxy_disabled should be ${wantDisabled}`);
  }
  const duplicates = [...byEmail.values()].filter((list) => list.length > 1).length;
  return { lost, phantom, duplicates, examples };
}

async function startMutator(dataDir: string, planFile: string): Promise<{ go(): void; done: Promise<{ errors: { i: number; message: string }[]; ms: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MUTATOR, dataDir, planFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.value !== 'ready') throw new Error(`mutator did not start: ${String(first.value)}`);
  const done = (async () => {
    const result = await iterator.next();
    await once(child, 'exit');
    return JSON.parse(String(result.value)) as { errors: { i: number; message: string }[]; ms: number };
  })();
  return { go: () => child.stdin.write('go\n'), done };
}

export async function lostUpdates(f: Figures, opts: { ops: number }): Promise<void> {
  const fakes = await startFakes({ accessTokenTtlS: 2 });
  const data = await makeDataDir(fakes, SHARED, { configure: (c) => (c.routing.refresh_skew_s = 1) });
  const proc = await serve(data);
  try {
    const plans = [0, 1].map((p) => {
      const upserts = Array.from({ length: OWN_UPSERTS }, (_, k) => fakes.google.addUser(`p${p}-u${k}@soak.example`));
      return makePlan(p, opts.ops, data, upserts);
    });
    const planFiles = await Promise.all(plans.map(async (plan) => {
      const file = join(data.dir, `plan-${plan.process}.json`);
      await fs.writeFile(file, JSON.stringify(plan));
      return file;
    }));
    const mutators = await Promise.all(planFiles.map((file) => startMutator(data.dir, file)));
    const callsBefore = fakes.google.calls.length;

    let running = true;
    const statuses = new Map<number, number>();
    const traffic = Promise.all(Array.from({ length: 4 }, async () => {
      while (running) {
        const { path, body } = sampleRequest('openai', { prompt: 'keep refreshing' });
        const answer = await call(proc.url, path, { body, apiKey: data.apiKey });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
    }));
    for (const m of mutators) m.go();
    const results = await Promise.all(mutators.map((m) => m.done));
    running = false;
    await traffic;
    const refreshes = fakes.google.calls.length - callsBefore;

    const { accounts: onDisk, invalid } = await readAccountsDir(data.accountsDir);
    const expected = expectedState(plans);
    const check = checkOps(plans, expected, onDisk);
    // The check itself must see a lost update: plant one (drop a list entry) in a copy.
    const victim = onDisk.find((a) => Array.isArray(a[opsField(0)]) && (a[opsField(0)] as number[]).length > 0);
    const planted = victim ? checkOps(plans, expected, onDisk.map((a) => (a === victim ? { ...a, [opsField(0)]: (a[opsField(0)] as number[]).slice(1) } : a))) : undefined;
    // The serving process sees the same final state within its 1 s watch.
    await sleep(1500);
    const view = await call(proc.url, '/admin/accounts', { apiKey: data.apiKey });
    const summaries = (JSON.parse(view.text) as { accounts: AccountSummary[] }).accounts;
    let viewMismatches = 0;
    const wantEmails = [...expected.lists.entries()].filter(([, v]) => v !== undefined).map(([k]) => k);
    const shared = data.accounts.map((a) => a.email.toLowerCase());
    const wantPresent = new Set([...shared, ...wantEmails]);
    const seen = new Set(summaries.map((s) => s.email.toLowerCase()));
    for (const email of wantPresent) if (!seen.has(email)) viewMismatches++;
    for (const email of seen) if (!wantPresent.has(email)) viewMismatches++;
    for (const s of summaries) {
      const want = expected.proxyDisabled.get(s.email.toLowerCase());
      if (want !== undefined && (s.state === 'proxy_disabled') !== want) viewMismatches++;
    }

    const errors = results.flatMap((r) => r.errors);
    f.goal('operations lost (checked one by one against the files)', check.lost, { max: 0 });
    f.goal('entries no operation wrote, or out of order', check.phantom, { max: 0 });
    f.goal('accounts with two files', check.duplicates, { max: 0 });
    f.goal('operations that failed with an error', errors.length, { max: 0 });
    f.goal('unparsable or invalid account files', invalid.length, { max: 0 });
    f.goal('differences between the files and what serve shows', viewMismatches, { max: 0 });
    f.goal('planted lost update the check catches', planted?.lost ?? 0, { min: 1 });
    f.info('operations run (2 processes)', plans[0].ops.length + plans[1].ops.length);
    f.goal('token refreshes by serve during the run', refreshes, { min: 10 });
    f.info('mutation time, slower process', Math.max(...results.map((r) => r.ms)) / 1000, 's');
    f.info('proxied requests during the run', [...statuses.values()].reduce((a, b) => a + b, 0));
    f.info('of which not 200', [...statuses.entries()].filter(([s]) => s !== 200).reduce((a, [, n]) => a + n, 0));
    for (const e of check.examples) f.note(e);
    for (const e of errors.slice(0, 3)) f.note(`error #${e.i}: ${e.message}`);
    if (proc.child.exitCode !== null) f.note(`serve exited during the run (${proc.child.exitCode})`);
  } finally {
    await proc.stop();
    await fakes.close();
    await removeDir(data.dir);
  }
}
