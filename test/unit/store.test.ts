import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs, { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAccount, serializeAccount, type Account } from '../../src/core/account';
import { AccountFileError } from '../../src/core/errors';
import { MemoryLogger } from '../../src/core/log';
import { AccountStore, type StoreChange } from '../../src/core/store';
import { holdLock } from '../helpers/lock-holder';

const repoRoot = resolve(__dirname, '../..');
const writerScript = join(repoRoot, 'test/fixtures/store-writer.ts');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function openStore(): Promise<{ store: AccountStore; log: MemoryLogger; dataDir: string }> {
  const dataDir = await fsp.mkdtemp(join(tmpdir(), 'tokenpool-store-'));
  const log = new MemoryLogger();
  const store = new AccountStore(dataDir, log);
  cleanups.push(() => fsp.rm(dataDir, { recursive: true, force: true }));
  cleanups.push(() => store.dispose());
  await store.init();
  return { store, log, dataDir };
}

const token = (n = 1) => ({ access_token: `ya29.access-${n}`, refresh_token: `1//refresh-${n}`, expiry_timestamp: 1_700_003_600, token_type: 'Bearer' });

function upsertAda(store: AccountStore, email = 'ada@example.com'): Promise<{ account: Account; created: boolean }> {
  return store.upsertByEmail(email, (cur) => (cur ? { ...cur, token: token(2) } : newAccount({ id: '', email, token: token(1), now: 1_700_000_000 })));
}

const mode = async (path: string) => (await fsp.stat(path)).mode & 0o777;

interface WriterResult {
  first: number;
  last: number;
  created?: boolean;
}

/** Starts store-writer.ts in its own node process; `go()` once `ready` lets it write. */
function startWriter(dataDir: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dataDir, ...args], { cwd: repoRoot });
  let out = '';
  let err = '';
  let onReady!: () => void;
  let onExit!: (error?: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onExit = (error) => reject(error ?? new Error(`store-writer ${args.join(' ')} exited before it was ready`));
  });
  const result = new Promise<WriterResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const error = code === 0 ? undefined : new Error(`store-writer ${args.join(' ')} exited ${code ?? signal}: ${err}`);
      onExit(error);
      if (error) reject(error);
      else resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { ready, result, go: () => child.stdin.write('go\n') };
}

/** Runs writers as separate processes, letting them start writing at the same instant. */
async function runWriters(dataDir: string, ...argLists: string[][]): Promise<WriterResult[]> {
  const writers = argLists.map((args) => startWriter(dataDir, args));
  await Promise.all(writers.map((w) => w.ready));
  for (const w of writers) w.go();
  return Promise.all(writers.map((w) => w.result));
}

/** Collects watch events with their arrival time. */
function record(store: AccountStore) {
  const events: (StoreChange & { at: number })[] = [];
  const watcher = store.watch((change) => events.push({ ...change, at: Date.now() }));
  cleanups.push(() => watcher.dispose());
  const waitFor = async (kind: StoreChange['kind'], id: string, since: number, withinMs = 1000) => {
    const deadline = since + withinMs;
    while (Date.now() <= deadline) {
      const hit = events.find((e) => e.kind === kind && e.id === id && e.at >= since);
      if (hit) return hit;
      await sleep(10);
    }
    assert.fail(`no "${kind}" for ${id} within ${withinMs} ms; saw ${JSON.stringify(events)}`);
  };
  return { events, watcher, waitFor };
}

describe('AccountStore files', () => {
  test('create, read, update, remove round trip with private modes', async () => {
    const { store, dataDir } = await openStore();
    assert.equal(await mode(dataDir), 0o700);
    assert.equal(await mode(store.accountsDir), 0o700);

    const { account, created } = await upsertAda(store);
    assert.equal(created, true);
    assert.match(account.id, UUID_V4);
    const file = join(store.accountsDir, `${account.id}.json`);
    assert.equal(await mode(file), 0o600);
    assert.deepEqual(await store.read(account.id), account);
    assert.deepEqual(JSON.parse(await fsp.readFile(file, 'utf8')), account);

    const updated = await store.update(account.id, (cur) => ({ ...cur, project_id: 'my-project', last_used: 1_700_000_100 }));
    assert.equal(updated?.project_id, 'my-project');
    assert.deepEqual(await store.read(account.id), updated);
    assert.equal(await mode(file), 0o600);

    const before = await fsp.readFile(file);
    const unchanged = await store.update(account.id, () => undefined);
    assert.deepEqual(unchanged, updated, 'returning undefined hands back the current record');
    assert.deepEqual(await fsp.readFile(file), before);

    assert.equal(await store.remove(account.id), true);
    await assert.rejects(fsp.stat(file), { code: 'ENOENT' });
    assert.equal(await store.read(account.id), undefined);
    assert.equal(await store.update(account.id, (cur) => cur), undefined);
    assert.equal(await store.remove(account.id), false);
    assert.deepEqual(await fsp.readdir(store.accountsDir), [], 'no temp files or lock directories left behind');
  });

  test('unknown fields, top level and in token, survive an update', async () => {
    const { store } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const onDisk = JSON.parse(await fsp.readFile(file, 'utf8'));
    onDisk.future_field = { nested: [1, 2] };
    onDisk.token.future_token_field = 'kept';
    await fsp.writeFile(file, JSON.stringify(onDisk));

    await store.update(account.id, (cur) => ({ ...cur, token: { ...cur.token, access_token: 'ya29.new' } }));
    const after = JSON.parse(await fsp.readFile(file, 'utf8'));
    assert.deepEqual(after.future_field, { nested: [1, 2] });
    assert.equal(after.token.future_token_field, 'kept');
    assert.equal(after.token.access_token, 'ya29.new');
  });

  test('an id cannot reach outside accounts/', async () => {
    const { store, dataDir } = await openStore();
    await fsp.writeFile(join(dataDir, 'outside.json'), serializeAccount(newAccount({ id: 'outside', email: 'x@example.com', token: token() })));
    assert.equal(await store.read('../outside'), undefined);
    assert.equal(await store.update('../outside', (cur) => ({ ...cur, name: 'changed' })), undefined);
    assert.equal(await store.remove('../outside'), false);
    assert.ok(fs.existsSync(join(dataDir, 'outside.json')));
  });

  test('a record that would not validate is refused and the file kept', async () => {
    const { store } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const before = await fsp.readFile(file);
    await assert.rejects(
      store.update(account.id, (cur) => ({ ...cur, token: { ...cur.token, refresh_token: '' } })),
      (err: unknown) => err instanceof AccountFileError && /token\.refresh_token/.test(err.message),
    );
    assert.deepEqual(await fsp.readFile(file), before);
  });
});

describe('AccountStore bad files', () => {
  test('a corrupt file is skipped, warned about once, and never rewritten or deleted', async () => {
    const { store, log } = await openStore();
    const { account: good } = await upsertAda(store);
    const badId = '0b2d1c3e-0000-4000-8000-000000000001';
    const badFile = join(store.accountsDir, `${badId}.json`);
    const badText = '{"id": "0b2d1c3e-0000-4000-8000-000000000001", "email": "bob@exa';
    await fsp.writeFile(badFile, badText, { mode: 0o600 });
    const missingFile = join(store.accountsDir, 'no-refresh.json');
    await fsp.writeFile(missingFile, JSON.stringify({ id: 'no-refresh', email: 'c@example.com', token: { access_token: 'a', expiry_timestamp: 1 } }));
    const statBefore = await fsp.stat(badFile);

    const first = await store.loadAll();
    assert.deepEqual(first.accounts.map((a) => a.id), [good.id]);
    assert.deepEqual(first.problems.map((p) => p.file).sort(), [badFile, missingFile].sort());
    assert.match(first.problems.find((p) => p.file === badFile)!.reason, /JSON/);
    assert.match(first.problems.find((p) => p.file === missingFile)!.reason, /token\.refresh_token/);
    const warnings = () => log.lines.filter((l) => l.level === 'warn' && l.message.includes(badFile));
    assert.equal(warnings().length, 1);
    assert.match(warnings()[0].message, /\[store\].*JSON/);

    await store.loadAll();
    assert.equal(warnings().length, 1, 'the same bad content is not warned about again');

    await assert.rejects(store.read(badId), AccountFileError);
    await assert.rejects(store.update(badId, (cur) => ({ ...cur, disabled: true })), AccountFileError);
    await assert.rejects(store.remove(badId), AccountFileError);
    assert.equal(await fsp.readFile(badFile, 'utf8'), badText);
    assert.equal((await fsp.stat(badFile)).mtimeMs, statBefore.mtimeMs);

    await fsp.writeFile(badFile, badText + 'x');
    await store.loadAll();
    assert.equal(warnings().length, 2, 'new bad content is warned about');
  });

  test('a file whose id does not match its name is a problem, not an account', async () => {
    const { store } = await openStore();
    const file = join(store.accountsDir, 'copy.json');
    await fsp.writeFile(file, serializeAccount(newAccount({ id: 'original', email: 'a@example.com', token: token() })));
    const { accounts, problems } = await store.loadAll();
    assert.deepEqual(accounts, []);
    assert.equal(problems[0].file, file);
    assert.match(problems[0].reason, /"id" is "original".*copy\.json/);
  });
});

describe('AccountStore concurrency', () => {
  test('concurrent updates in one process, through two store objects, lose nothing', async () => {
    const { store, log, dataDir } = await openStore();
    const other = new AccountStore(dataDir, log);
    const { account } = await upsertAda(store);
    const bump = (s: AccountStore) => s.update(account.id, (cur) => ({ ...cur, n: ((cur.n as number | undefined) ?? 0) + 1 }));
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? store : other)));
    assert.equal((await store.read(account.id))?.n, 20);
  });

  test('two processes updating one account at once: no lost update, a refresh never re-enables', { timeout: 60_000 }, async () => {
    const { store, dataDir } = await openStore();
    const { account } = await upsertAda(store);
    const [disabler, refresher] = await runWriters(
      dataDir,
      ['disable-and-bump', account.id, 'a_count', '30'],
      ['refresh', account.id, 'b_count', '30'],
    );
    assert.ok(
      disabler.first < refresher.last && refresher.first < disabler.last,
      `the two writers must overlap to prove anything: ${JSON.stringify({ disabler, refresher })}`,
    );

    const final = (await store.read(account.id))!;
    assert.equal(final.a_count, 30);
    assert.equal(final.b_count, 30);
    assert.equal(final.disabled, true, 'a concurrent refresh must not undo the disable');
    assert.equal(final.disabled_reason, 'invalid_grant: Token has been expired or revoked.');
    assert.equal(final.token.access_token, 'ya29.refreshed-29');
    assert.equal(final.token.refresh_token, account.token.refresh_token);
  });

  test('two processes adding the same email at once create one file', { timeout: 60_000 }, async () => {
    const { store, dataDir } = await openStore();
    const results = await runWriters(dataDir, ['upsert', 'Grace@Example.com'], ['upsert', 'grace@example.com']);
    assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
    const { accounts } = await store.loadAll();
    assert.equal(accounts.length, 1);
    assert.deepEqual(await fsp.readdir(store.accountsDir), [`${accounts[0].id}.json`]);
  });

  test('upsertByEmail creates once, then updates the same file (email case-insensitive)', async () => {
    const { store } = await openStore();
    const first = await upsertAda(store, 'Ada@Example.com');
    const seen: (Account | undefined)[] = [];
    const second = await store.upsertByEmail('ada@EXAMPLE.com', (cur) => {
      seen.push(cur);
      return { ...cur!, token: token(2) };
    });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.account.id, first.account.id);
    assert.equal(seen[0]?.token.access_token, 'ya29.access-1', 'mutate gets the current record');
    assert.equal((await store.read(first.account.id))?.token.refresh_token, '1//refresh-2');
    assert.deepEqual(await fsp.readdir(store.accountsDir), [`${first.account.id}.json`]);
  });
});

/** A temp file as writeFileAtomic names it, holding what an interrupted write of `account` held. */
async function placeLeftover(store: AccountStore, account: Account, hex = '0123456789ab'): Promise<string> {
  const name = `.${account.id}.json.${hex}.tmp`;
  await fsp.writeFile(join(store.accountsDir, name), serializeAccount({ ...account, token: token(9) }), { mode: 0o600 });
  return name;
}

const leftoverLines = (log: MemoryLogger) => log.lines.filter((l) => l.level === 'info' && /leftover temp file/.test(l.message)).map((l) => l.message);

describe('AccountStore crash safety', () => {
  test('a failed rename leaves the old file whole and no temp file', async () => {
    const { store } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const before = await fsp.readFile(file);
    const rename = mock.method(fsp, 'rename', async () => {
      throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    });
    try {
      await assert.rejects(store.update(account.id, (cur) => ({ ...cur, name: 'Lost' })), { code: 'EIO' });
    } finally {
      rename.mock.restore();
    }
    assert.deepEqual(await fsp.readFile(file), before);
    assert.deepEqual(await fsp.readdir(store.accountsDir), [`${account.id}.json`]);
    const again = await store.update(account.id, (cur) => ({ ...cur, name: 'Written' }));
    assert.equal(again?.name, 'Written', 'the lock was released after the failure');
  });

  test('a writer killed between temp write and rename: old file whole, its temp removed at the next load, its lock taken at once', { timeout: 60_000 }, async () => {
    const { store, dataDir, log } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const before = await fsp.readFile(file);

    await assert.rejects(runWriters(dataDir, ['crash-before-rename', account.id]), /SIGKILL/);
    const leftovers = (await fsp.readdir(store.accountsDir)).filter((n) => n !== `${account.id}.json`);
    assert.ok(leftovers.some((n) => n.endsWith('.tmp')), `the crash left its temp file: ${leftovers}`);
    assert.ok(leftovers.includes(`.${account.id}.json.lock`), `the crash left its lock: ${leftovers}`);

    assert.deepEqual(await fsp.readFile(file), before);
    const started = performance.now();
    const { accounts, problems } = await store.loadAll();
    assert.deepEqual(accounts, [account]);
    assert.deepEqual(problems, []);
    assert.deepEqual(await fsp.readdir(store.accountsDir), [`${account.id}.json`], 'temp file and dead lock both gone');
    assert.deepEqual(leftoverLines(log), ['[store] removed 1 leftover temp file from an interrupted write']);

    const updated = await store.update(account.id, (cur) => ({ ...cur, name: 'After crash' }));
    assert.equal(updated?.name, 'After crash');
    assert.ok(performance.now() - started < 2000, 'the dead writer\'s lock was not waited for');
  });
});

describe('AccountStore leftovers of interrupted writes', () => {
  test('load removes our temp files of account files and says how many; other names are left alone', async () => {
    const { store, log } = await openStore();
    const { account: ada } = await upsertAda(store);
    const { account: bob } = await upsertAda(store, 'bob@example.com');
    await placeLeftover(store, ada, '0123456789ab');
    await placeLeftover(store, ada, 'ba9876543210');
    await placeLeftover(store, bob);
    const others = ['notes.tmp', '.other.json.tmp', `.${ada.id}.json.tmp`, `.${ada.id}.json.xyz.tmp`, `${ada.id}.json.0123456789ab.tmp`];
    for (const name of others) await fsp.writeFile(join(store.accountsDir, name), 'kept');

    const { accounts, problems } = await store.loadAll();

    assert.deepEqual(accounts.map((a) => a.email).sort(), ['ada@example.com', 'bob@example.com']);
    assert.deepEqual(problems, []);
    assert.deepEqual((await fsp.readdir(store.accountsDir)).sort(), [...others, `${ada.id}.json`, `${bob.id}.json`].sort());
    assert.deepEqual(leftoverLines(log), ['[store] removed 3 leftover temp files from an interrupted write']);
    await store.loadAll();
    assert.equal(leftoverLines(log).length, 1, 'nothing left, nothing said');
  });

  test('a temp file whose account lock a live process holds is left alone, and removed once it is released', { timeout: 30_000 }, async () => {
    const { store, log } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const holder = await holdLock(file, join(store.accountsDir, `.${account.id}.json.lock`));
    const temp = await placeLeftover(store, account);
    try {
      await store.loadAll();
      assert.ok((await fsp.readdir(store.accountsDir)).includes(temp), 'a live writer may still rename it');
      assert.deepEqual(leftoverLines(log), []);
    } finally {
      await holder.release();
    }
    await store.loadAll();
    assert.ok(!(await fsp.readdir(store.accountsDir)).includes(temp));
    assert.deepEqual(leftoverLines(log), ['[store] removed 1 leftover temp file from an interrupted write']);
  });

  test('remove deletes the account\'s temp leftovers (its refresh token), not another account\'s', async () => {
    const { store, log } = await openStore();
    const { account: ada } = await upsertAda(store);
    const { account: bob } = await upsertAda(store, 'bob@example.com');
    await placeLeftover(store, ada);
    const bobs = await placeLeftover(store, bob);

    assert.equal(await store.remove(ada.id), true);

    const left = await fsp.readdir(store.accountsDir);
    assert.deepEqual(left.sort(), [`${bob.id}.json`, bobs].sort());
    for (const name of left) assert.ok(!(await fsp.readFile(join(store.accountsDir, name), 'utf8')).includes(ada.id));
    assert.deepEqual(leftoverLines(log), ['[store] removed 1 leftover temp file from an interrupted write']);
  });
});

describe('AccountStore watch', () => {
  test('reports hand edits, editor-style rename-over and removal within 1 s; ignores temp and lock files', async () => {
    const { store } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const { events, waitFor } = record(store);
    await sleep(50);

    let t0 = Date.now();
    await fsp.writeFile(file, serializeAccount({ ...account, name: 'By hand' }));
    await waitFor('changed', account.id, t0);

    t0 = Date.now();
    const swap = join(store.accountsDir, `${account.id}.json.swp~`);
    await fsp.writeFile(swap, serializeAccount({ ...account, name: 'Editor' }));
    await fsp.rename(swap, file);
    await waitFor('changed', account.id, t0);

    await fsp.writeFile(join(store.accountsDir, `.${account.id}.json.0123456789ab.tmp`), '{"half');
    await fsp.mkdir(join(store.accountsDir, `.${account.id}.json.lock`));
    await fsp.writeFile(join(store.accountsDir, `.#${account.id}.json`), 'editor lock');
    await sleep(300);
    assert.deepEqual(events.filter((e) => e.id !== account.id), [], 'temp files, lock directories and hidden files are not reported');

    t0 = Date.now();
    await fsp.rm(file);
    await waitFor('removed', account.id, t0);
  });

  test('reports a change written by another process within 1 s', { timeout: 60_000 }, async () => {
    const { store, dataDir } = await openStore();
    const { account } = await upsertAda(store);
    const { waitFor } = record(store);
    const t0 = Date.now();
    await runWriters(dataDir, ['bump', account.id, 'n', '1']);
    const written = (await fsp.stat(join(store.accountsDir, `${account.id}.json`))).mtimeMs;
    const hit = await waitFor('changed', account.id, t0, 15_000);
    assert.ok(hit.at - written < 1000, `reported ${Math.round(hit.at - written)} ms after the write`);
    assert.equal((await store.read(account.id))?.n, 1);
  });

  test('falls back to polling when fs.watch cannot be used, still within 1 s', async () => {
    const { store, log } = await openStore();
    const { account } = await upsertAda(store);
    const file = join(store.accountsDir, `${account.id}.json`);
    const watch = mock.method(fs, 'watch', () => {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
    });
    const recorder = (() => {
      try {
        return record(store);
      } finally {
        watch.mock.restore();
      }
    })();
    assert.ok(log.lines.some((l) => l.level === 'warn' && /ENOSPC.*every 500 ms/.test(l.message)));
    await sleep(100);

    let t0 = Date.now();
    await fsp.writeFile(file, serializeAccount({ ...account, name: 'Polled' }));
    await recorder.waitFor('changed', account.id, t0);
    t0 = Date.now();
    await fsp.rm(file);
    await recorder.waitFor('removed', account.id, t0);
  });

  test('dispose stops reporting, for one watcher or the whole store', async () => {
    const { store } = await openStore();
    const { account } = await upsertAda(store);
    const one = record(store);
    const other = record(store);
    one.watcher.dispose();
    store.dispose();
    await fsp.writeFile(join(store.accountsDir, `${account.id}.json`), serializeAccount({ ...account, name: 'Unseen' }));
    await sleep(300);
    assert.deepEqual([...one.events, ...other.events], []);
  });
});
