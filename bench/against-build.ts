/**
 * `--against <git ref>`: that ref built in a temporary git worktree, so its `dist/cli.js serve` can run
 * beside this build in the same rounds. The worktree reuses this checkout's node_modules (a symlink)
 * when the ref's package-lock.json is identical, else runs `npm ci` there; it is removed afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, promises as fs, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temporary worktrees are named `<tmpdir>/tokenpool-against-<pid of the bench>-<random>/tree`. */
const PREFIX = 'tokenpool-against-';

export interface OtherBuild {
  /** The ref as given, and the commit it names (short). */
  ref: string;
  commit: string;
  cli: string;
  /** How its dependencies were installed, as a phrase: "reusing this checkout's node_modules (…)" or "with npm ci (…)". */
  dependencies: string;
  remove(): Promise<void>;
}

const git = (root: string, args: string[]): { ok: boolean; out: string; err: string } => {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() };
};

export async function buildRef(root: string, ref: string, log: (line: string) => void): Promise<OtherBuild> {
  const resolved = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!resolved.ok) throw new Error(`--against ${ref}: not a commit in this repository (git rev-parse found nothing)`);
  const sha = resolved.out.trim();
  const commit = git(root, ['rev-parse', '--short', sha]).out.trim();
  removeStaleWorktrees(root, log);

  const parent = await fs.mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const dir = join(parent, 'tree');
  const added = git(root, ['worktree', 'add', '--detach', '--quiet', dir, sha]);
  if (!added.ok) {
    await fs.rm(parent, { recursive: true, force: true });
    throw new Error(`--against ${ref}: git worktree add failed: ${added.err}`);
  }
  const remove = async (): Promise<void> => {
    unlinkSymlink(join(dir, 'node_modules'));
    const removed = git(root, ['worktree', 'remove', '--force', dir]);
    if (!removed.ok) log(`git worktree remove ${dir}: ${removed.err}`);
    await fs.rm(parent, { recursive: true, force: true });
  };
  try {
    const theirs = git(root, ['show', `${sha}:package-lock.json`]);
    const ours = await fs.readFile(join(root, 'package-lock.json'), 'utf8').catch(() => null);
    let dependencies: string;
    if (theirs.ok && theirs.out === ours) {
      await fs.symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      dependencies = "reusing this checkout's node_modules (same package-lock.json)";
    } else {
      log(`--against ${commit}: package-lock.json differs from this checkout's, running npm ci in ${dir}`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 15 * 60_000 });
      dependencies = 'with npm ci (its package-lock.json differs)';
    }
    log(`--against ${commit}: building in ${dir} (node esbuild.mjs)`);
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 5 * 60_000 });
    const cli = join(dir, 'dist', 'cli.js');
    if (!existsSync(cli)) throw new Error(`--against ${ref}: the build wrote no dist/cli.js`);
    return { ref, commit, cli, dependencies, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Worktrees left by a bench that was killed before its cleanup (its pid is gone). */
function removeStaleWorktrees(root: string, log: (line: string) => void): void {
  const listed = git(root, ['worktree', 'list', '--porcelain']);
  const base = join(tmpdir(), PREFIX);
  for (const line of listed.out.split('\n')) {
    const path = line.startsWith('worktree ') ? line.slice('worktree '.length) : '';
    const pid = path.startsWith(base) ? Number(/^(\d+)-/.exec(path.slice(base.length))?.[1]) : NaN;
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    log(`removing the worktree of an earlier, interrupted bench: ${path}`);
    unlinkSymlink(join(path, 'node_modules'));
    git(root, ['worktree', 'remove', '--force', path]);
    rmSync(join(path, '..'), { recursive: true, force: true });
  }
  git(root, ['worktree', 'prune']);
}

/** The reused node_modules link goes first, so that nothing removing the worktree can reach this checkout's own. */
function unlinkSymlink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // not there
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
