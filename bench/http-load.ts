/**
 * One load run: autocannon against a URL with N keep-alive connections for D seconds. Latencies are
 * taken from autocannon's per-response event (float ms; its own histogram rounds to whole ms), and
 * the CPU time of the process under test is read from /proc before and after.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { cpuMs } from './procs';
import { summarize } from './stats';

export interface LoadResult {
  ok: number;
  failed: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU ms of the measured process per 2xx request; null when there is no process to measure. */
  cpuMsPerReq: number | null;
}

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The proxy process whose CPU is measured (none for direct). */
  pid?: number;
}

export function runLoad(request: LoadRequest, connections: number, durationS: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  const cpuBefore = request.pid ? cpuMs(request.pid) : 0;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: request.url, method: 'POST', headers: request.headers, body: request.body, connections, duration: durationS, timeout: 10 },
      (err, result) => {
        if (err) return reject(err);
        const elapsedS = (performance.now() - started) / 1000;
        const cpu = request.pid ? cpuMs(request.pid) - cpuBefore : null;
        const { p50, p99 } = summarize(latencies);
        failed += result.errors + result.timeouts;
        resolve({
          ok: latencies.length,
          failed,
          rps: latencies.length / elapsedS,
          p50,
          p99,
          cpuMsPerReq: cpu === null || latencies.length === 0 ? null : cpu / latencies.length,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
      else failed += 1;
    });
  });
}
