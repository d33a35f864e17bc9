/**
 * AccountStore: the accounts/ directory (DESIGN section 3), the only source of truth for accounts.
 * One file per account, `accounts/<id>.json` (0600), replaced atomically. Every change is a
 * read-modify-write under a lock that holds across processes, so a refresh in one VS Code window
 * cannot undo a disable written by another. A file that does not parse or validate is reported
 * and skipped; the store never rewrites or deletes it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAccount, serializeAccount, type Account } from './account';
import { ensureDataDir } from './config';
import { watchDirectory } from './dirwatch';
import type { Disposable } from './disposable';
import { AccountFileError, DataDirError } from './errors';
import { fsyncDir, tempFileTarget, writeFileAtomic } from './fsutil';
import { removeAbandonedLockTemps, tryWithLock, withLock } from './lock';
import type { Logger } from './log';
import { mapInSlices } from './slices';

/** A file in accounts/ that was skipped; `file` is an absolute path. */
export interface LoadProblem {
  file: string;
  reason: string;
}

export type StoreChange = { kind: 'changed'; id: string } | { kind: 'removed'; id: string };

const EXT = '.json';

/**
 * `<id>.json`. Hidden names are never accounts: writeFileAtomic's temp files (`.<name>.<rand>.tmp`),
 * the lock directories (`.<id>.json.lock`) and editors' swap files.
 */
const isAccountFileName = (name: string): boolean =>
  name.endsWith(EXT) && name.length > EXT.length && !name.startsWith('.');

/** An id names a file directly inside accounts/: not empty, not hidden, no path separator. */
const isSafeId = (id: string): boolean => id !== '' && !id.startsWith('.') && !/[/\\\0]/.test(id);

/** The account id a temp file left by writeFileAtomic was for, or undefined if it is no such file. */
function leftoverOf(name: string): string | undefined {
  const target = tempFileTarget(name);
  return target !== undefined && isAccountFileName(target) ? target.slice(0, -EXT.length) : undefined;
}

const leftoverLine = (n: number): string =>
  `[store] removed ${n} leftover temp file${n === 1 ? '' : 's'} from an interrupted write`;

/** A read error: undefined when the file does not exist, else AccountFileError. */
function missingOrThrow(err: unknown, file: string): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return undefined;
  throw new AccountFileError(file, `cannot be read (${code ?? (err as Error).message})`);
}

/** The file's text; undefined if it does not exist; AccountFileError if it cannot be read. */
async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    return missingOrThrow(err, file);
  }
}

/** readText for loadAll, which reads thousands of files (see slices.ts for why synchronously). */
function readTextSync(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return missingOrThrow(err, file);
  }
}

/** parseAccount, plus the store's own rule: the id is the file's name. */
function parseAccountFile(text: string, file: string): Account {
  const account = parseAccount(text, file);
  const expected = basename(file, EXT);
  if (account.id !== expected) {
    throw new AccountFileError(file, `"id" is "${account.id}" but the file is named ${expected}${EXT} (it must be <id>${EXT})`);
  }
  return account;
}

type Loaded = { account: Account } | { problem: LoadProblem; fingerprint: string } | undefined;

export class AccountStore implements Disposable {
  readonly dataDir: string;
  readonly accountsDir: string;
  /** Problem file -> fingerprint of what was warned about, so each bad content is warned about once. */
  private warned = new Map<string, string>();
  private readonly watchers = new Set<Disposable>();

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.dataDir = resolve(dataDir);
    this.accountsDir = join(this.dataDir, 'accounts');
  }

  /** Creates the data directory and accounts/, both 0700; removes what a killed lock of the store left. */
  async init(): Promise<void> {
    await ensureDataDir(this.dataDir);
    await fs.chmod(this.accountsDir, 0o700);
    await removeAbandonedLockTemps(this.dataDir, await fs.readdir(this.dataDir));
  }

  /**
   * Every valid account file (10,000 in well under a second). A bad file becomes a problem, is
   * logged once per distinct content, and is left untouched. Temp files and locks are not read;
   * temp files an interrupted write left behind are removed (see removeLeftovers).
   */
  async loadAll(): Promise<{ accounts: Account[]; problems: LoadProblem[] }> {
    let all: string[];
    try {
      all = await fs.readdir(this.accountsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { accounts: [], problems: [] };
      throw new DataDirError(`cannot list ${this.accountsDir}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
    await this.removeLeftovers(all);
    const names = all.filter(isAccountFileName).sort();
    const loaded = await mapInSlices(names, (name) => this.load(join(this.accountsDir, name)));

    const accounts: Account[] = [];
    const problems: LoadProblem[] = [];
    const warned = new Map<string, string>();
    for (const item of loaded) {
      if (!item) continue;
      if ('account' in item) {
        accounts.push(item.account);
        continue;
      }
      const { problem, fingerprint } = item;
      problems.push(problem);
      if (this.warned.get(problem.file) !== fingerprint) {
        this.log.warn(`[store] skipping ${problem.file}: ${problem.reason} (the file is left as it is; fix or remove it)`);
      }
      warned.set(problem.file, fingerprint);
    }
    this.warned = warned;
    return { accounts, problems };
  }

  private load(file: string): Loaded {
    let text: string | undefined;
    try {
      text = readTextSync(file);
      return text === undefined ? undefined : { account: parseAccountFile(text, file) };
    } catch (err) {
      if (!(err instanceof AccountFileError)) throw err;
      const fingerprint = text === undefined ? err.reason : createHash('sha256').update(text).digest('hex');
      return { problem: { file, reason: err.reason }, fingerprint };
    }
  }

  /**
   * Removes the temp files (writeFileAtomic's pattern, for an account file) that a process killed
   * between writing and renaming left, each under its account's lock: a temp file exists only
   * while its writer holds that lock, so one found while the lock is free is a leftover. An
   * account whose lock a live writer holds is skipped (the next load looks again). The temp files
   * of locks whose owner died go too.
   */
  private async removeLeftovers(names: string[]): Promise<void> {
    let removed = await removeAbandonedLockTemps(this.accountsDir, names);
    const byId = new Map<string, string[]>();
    for (const name of names) {
      const id = leftoverOf(name);
      if (id !== undefined && isSafeId(id)) byId.set(id, [...(byId.get(id) ?? []), name]);
    }
    for (const [id, temps] of byId) {
      try {
        removed += (await tryWithLock(join(this.accountsDir, id + EXT), this.lockPathOf(id), this.log, () => this.removeFiles(temps))) ?? 0;
      } catch (err) {
        this.log.warn(`[store] could not remove the leftover temp files of account ${id}: ${(err as Error).message}`);
      }
    }
    if (removed > 0) this.log.info(leftoverLine(removed));
  }

  /** Removes files of accounts/ by name; how many were there. */
  private async removeFiles(names: string[]): Promise<number> {
    let removed = 0;
    for (const name of names) {
      try {
        await fs.unlink(join(this.accountsDir, name));
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }

  /** The account, or undefined if there is no such file. Throws AccountFileError if the file is bad. */
  async read(id: string): Promise<Account | undefined> {
    const file = this.fileOf(id);
    return file === undefined ? undefined : this.readAccount(file);
  }

  /**
   * Locked read-modify-write (the lock holds across processes). `mutate` gets the CURRENT on-disk
   * record; returning undefined writes nothing. Returns the record as written (or the current one
   * if unchanged), undefined if there is no such file. Throws AccountFileError, without writing,
   * if the file on disk is bad or `mutate` returns a record that would not validate.
   */
  async update(id: string, mutate: (current: Account) => Account | undefined): Promise<Account | undefined> {
    const file = this.fileOf(id);
    if (file === undefined) return undefined;
    return withLock(file, this.lockPathOf(id), this.log, async (assertHeld) => {
      const current = await this.readAccount(file);
      if (!current) return undefined;
      const next = mutate(current);
      return next === undefined ? current : this.write(file, { ...next, id }, assertHeld);
    });
  }

  /**
   * Upsert keyed by email (case-insensitive) under a store-wide lock, so two processes adding the
   * same account cannot create two files. An existing record is updated under its own lock too; a
   * new one gets a fresh UUID v4 as its id and file name.
   */
  async upsertByEmail(
    email: string,
    mutate: (current: Account | undefined) => Account,
  ): Promise<{ account: Account; created: boolean }> {
    const key = email.toLowerCase();
    return withLock(this.accountsDir, join(this.dataDir, '.accounts.lock'), this.log, async (assertHeld) => {
      const { accounts } = await this.loadAll();
      const existing = accounts
        .filter((a) => a.email.toLowerCase() === key)
        .sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))[0];
      if (existing) {
        const account = await this.update(existing.id, mutate);
        if (account) return { account, created: false };
      }
      const id = randomUUID();
      const file = join(this.accountsDir, id + EXT);
      // Under the account's lock too: a temp file is only ever written under its account's lock.
      const account = await withLock(file, this.lockPathOf(id), this.log, (accountHeld) =>
        this.write(file, { ...mutate(undefined), id }, () => {
          assertHeld();
          accountHeld();
        }),
      );
      return { account, created: true };
    });
  }

  /**
   * Deletes the account's file, and any temp file an interrupted write of it left (it may hold
   * the refresh token); false if there is none. A file that does not validate is not deleted
   * (AccountFileError): the program never removes what it cannot read.
   */
  async remove(id: string): Promise<boolean> {
    const file = this.fileOf(id);
    if (file === undefined) return false;
    return withLock(file, this.lockPathOf(id), this.log, async (assertHeld) => {
      if (!(await this.readAccount(file))) return false;
      assertHeld();
      await fs.rm(file, { force: true });
      const temps = (await fs.readdir(this.accountsDir)).filter((name) => leftoverOf(name) === id);
      const removed = await this.removeFiles(temps);
      if (removed > 0) this.log.info(leftoverLine(removed));
      await fsyncDir(this.accountsDir);
      return true;
    });
  }

  /**
   * Reports changes to account files, by this or any other process or by hand, within 1 s:
   * `changed` when `<id>.json` exists after the change, `removed` when it is gone. Own writes are
   * reported too; consumers re-read and must be idempotent.
   */
  watch(onChange: (change: StoreChange) => void): Disposable {
    const watcher = watchDirectory(this.accountsDir, { accept: isAccountFileName, log: this.log }, (name, exists) =>
      onChange({ kind: exists ? 'changed' : 'removed', id: name.slice(0, -EXT.length) }),
    );
    this.watchers.add(watcher);
    return {
      dispose: () => {
        watcher.dispose();
        this.watchers.delete(watcher);
      },
    };
  }

  dispose(): void {
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers.clear();
  }

  private fileOf(id: string): string | undefined {
    return isSafeId(id) ? join(this.accountsDir, id + EXT) : undefined;
  }

  private lockPathOf(id: string): string {
    return join(this.accountsDir, `.${id}${EXT}.lock`);
  }

  private async readAccount(file: string): Promise<Account | undefined> {
    const text = await readText(file);
    return text === undefined ? undefined : parseAccountFile(text, file);
  }

  /** Validates first (never write what loadAll would skip), then replaces the file atomically. */
  private async write(file: string, record: Account, assertHeld: () => void): Promise<Account> {
    const text = serializeAccount(record);
    const written = parseAccountFile(text, file);
    assertHeld();
    await writeFileAtomic(file, text, 0o600);
    return written;
  }
}
