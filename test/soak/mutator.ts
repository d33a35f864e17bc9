/**
 * One of the two mutating processes of the lost-updates scenario: its own AccountStore on the
 * shared data directory (as a second VS Code window or the CLI has), running a plan of operations
 * one after another, 0-5 ms apart. Every operation appends its index to `soak_p<process>` in the
 * record it touches, so the runner can check each one against the files afterwards.
 *
 *   node --import tsx test/soak/mutator.ts <dataDir> <planFile>
 *
 * Prints `ready`, starts on a line on stdin, then prints one JSON line { errors, ms }.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAccount, type Account } from '../../src/core/account';
import { nullLogger } from '../../src/core/log';
import { AccountStore } from '../../src/core/store';

export type MutationKind = 'touch' | 'proxy-disable' | 'proxy-enable' | 'upsert' | 'remove';

export interface Mutation {
  i: number;
  kind: MutationKind;
  email: string;
  /** For upserts: the refresh token a new record gets. */
  refreshToken?: string;
}

export interface MutationPlan {
  process: number;
  ops: Mutation[];
}

export const opsField = (process: number): string => `soak_p${process}`;

const appended = (account: Account, field: string, i: number): Account => {
  const list = Array.isArray(account[field]) ? (account[field] as number[]) : [];
  return { ...account, [field]: [...list, i] };
};

async function apply(store: AccountStore, field: string, op: Mutation): Promise<void> {
  const find = async (): Promise<Account | undefined> => {
    const { accounts } = await store.loadAll();
    return accounts.find((a) => a.email.toLowerCase() === op.email.toLowerCase());
  };
  switch (op.kind) {
    case 'upsert': {
      await store.upsertByEmail(op.email, (cur) =>
        appended(
          cur ?? newAccount({ id: '', email: op.email, token: { access_token: '', refresh_token: op.refreshToken ?? '', expiry_timestamp: 0 } }),
          field,
          op.i,
        ),
      );
      return;
    }
    case 'remove': {
      const found = await find();
      if (!found) throw new Error(`remove: ${op.email} not found`);
      if (!(await store.remove(found.id))) throw new Error(`remove: ${op.email} was already gone`);
      return;
    }
    default: {
      const found = await find();
      if (!found) throw new Error(`${op.kind}: ${op.email} not found`);
      const now = Math.floor(Date.now() / 1000);
      const written = await store.update(found.id, (cur) => {
        const next = appended(cur, field, op.i);
        if (op.kind === 'proxy-disable') return { ...next, proxy_disabled: true, proxy_disabled_reason: 'manual', proxy_disabled_at: now, proxy_disabled_until: null };
        if (op.kind === 'proxy-enable') return { ...next, proxy_disabled: false, proxy_disabled_reason: null, proxy_disabled_at: null, proxy_disabled_until: null };
        return next;
      });
      if (!written) throw new Error(`${op.kind}: ${op.email} vanished`);
    }
  }
}

async function main(): Promise<void> {
  const [dataDir, planFile] = process.argv.slice(2);
  const plan = JSON.parse(await fs.readFile(planFile, 'utf8')) as MutationPlan;
  const store = new AccountStore(dataDir, nullLogger);
  await store.init();
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const started = Date.now();
  const errors: { i: number; message: string }[] = [];
  for (const op of plan.ops) {
    try {
      await apply(store, opsField(plan.process), op);
    } catch (err) {
      errors.push({ i: op.i, message: (err as Error).message });
    }
    await sleep(Math.random() * 5);
  }
  process.stdout.write(JSON.stringify({ errors, ms: Date.now() - started }) + '\n');
  store.dispose();
  process.stdin.destroy();
}

if (require.main === module) void main();
