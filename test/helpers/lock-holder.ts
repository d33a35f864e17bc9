/** Starts test/fixtures/lock-holder.ts: another process that holds one store lock until told or killed. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../..');
const script = join(repoRoot, 'test/fixtures/lock-holder.ts');

export interface LockHolder {
  pid: number;
  /** Releases the lock; resolves once the process has exited. */
  release(): Promise<void>;
  /** SIGKILL: the lock stays behind with a dead owner. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Resolves once the other process holds the lock on `target` at `lockPath`. */
export async function holdLock(target: string, lockPath: string): Promise<LockHolder> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, target, lockPath], { cwd: repoRoot });
  const exited = once(child, 'exit');
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolveHeld, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('held\n')) resolveHeld();
    });
    child.on('exit', (code, signal) => reject(new Error(`lock-holder exited ${code ?? signal} before holding the lock: ${err}`)));
  });
  return {
    pid: child.pid!,
    release: async () => {
      child.stdin.write('release\n');
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
