/**
 * Child processes for the servers under test, and what /proc says about them: CPU time (utime +
 * stime) and resident memory, read from outside so the figures cover the process alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const CLOCK_TICKS_PER_S = 100; // sysconf(_SC_CLK_TCK) on Linux

export interface Server {
  name: string;
  url: string;
  pid: number;
  /** ms from spawn to the "listening on" line. */
  startMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `node ...args`, waits for a line containing "listening on http://HOST:PORT" on stdout, and
 * keeps draining stdout/stderr into `logFile` (a full pipe would stall the server).
 */
export async function startServer(name: string, args: string[], logFile: string, timeoutMs = 60_000): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    let ready = false;
    const timer = setTimeout(() => fail(new Error(`${name}: no "listening on" line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}; see ${logFile}`));
    };
    child.once('exit', (code, signal) => fail(new Error(`${name} exited early (${code ?? signal})`)));
    child.stdout.on('data', (data: Buffer) => {
      log.write(data);
      if (ready) return;
      seen += data.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        ready = true;
        resolve(match[1].replace(/\/$/, ''));
      }
    });
  });
  return { name, url, pid: child.pid!, startMs: performance.now() - started, stop: () => stop(child, log) };
}

async function stop(child: ChildProcess, log: NodeJS.WritableStream): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await new Promise<void>((resolve) => log.end(resolve));
}

/** CPU time (user + system) the process has used so far, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * On-CPU time of all the process's threads so far, in ms at ns resolution: the sum of the first field
 * of /proc/<pid>/task/<tid>/schedstat, the same time utime + stime count in 10 ms ticks (threads that
 * exited in between are not counted). Falls back to cpuMs where schedstat is missing.
 */
export function cpuMsFine(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return cpuMs(pid);
  }
  return ns / 1e6;
}

/** Resident set size and its peak (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}
