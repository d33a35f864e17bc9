/**
 * Fault matrix: N requests (every protocol, streamed and not) over 6 accounts while 5 of them take
 * turns at every upstream and token-endpoint fault: connection reset, a hang until the headers
 * timeout (proxy.request_timeout_s = 1), a reset in the middle of a stream, 500/502/503/504, 429
 * with RetryInfo, a slow and a failing token endpoint, and invalid_grant half way. One account
 * stays healthy throughout, so no answer may fail; streams cut after their first byte (which no
 * proxy can retry) are counted apart. Resident memory after the run must stay within 10 % of
 * memory after the warm-up.
 */
import { sampleRequest } from '../helpers/proxy-harness';
import type { FailureRule } from '../fakes/upstream';
import { join } from 'node:path';
import { call, gcEnv, makeDataDir, memoryAfterGc, pooled, removeDir, rssMb, serve, sleep, startFakes, type Answer, type Fakes } from './env';
import { Figures } from './report';

const ACCOUNTS = 6;
const EPOCH = 100;
const WARMUP = 2000;
const FAULTS = ['reset', 'hang', 'reset-mid-stream', '500', '502', '503', '504', '429', 'token-slow', 'token-fail'] as const;
type Fault = (typeof FAULTS)[number];

const shapes = ['openai', 'anthropic', 'google'] as const;

/** A 200 whose body is the whole answer: the stream reached its protocol's last event. */
function complete(shape: (typeof shapes)[number], stream: boolean, a: Answer): boolean {
  if (a.cut) return false;
  if (!stream) {
    try {
      JSON.parse(a.text);
      return true;
    } catch {
      return false;
    }
  }
  if (shape === 'openai') return a.text.includes('data: [DONE]');
  if (shape === 'anthropic') return a.text.includes('message_stop');
  return a.text.includes('finishReason');
}

function schedule(fakes: Fakes, email: string, fault: Fault): void {
  const rule = (r: FailureRule): void => fakes.upstream.fail({ ...r, email });
  switch (fault) {
    case 'reset':
      return rule({ kind: 'reset', times: 5 });
    case 'hang':
      return rule({ kind: 'hang', times: 2 });
    case 'reset-mid-stream':
      return rule({ kind: 'reset-mid-stream', afterChunks: 1, times: 5 });
    case '429':
      return rule({ kind: 'status', status: 429, retryDelay: '1s', times: 5 });
    case 'token-slow':
      fakes.google.script({ email, kind: 'slow', delayMs: 1500, times: 1 });
      fakes.google.expireAccessTokens(email);
      return;
    case 'token-fail':
      fakes.google.script({ email, kind: 'server_error', times: 3 });
      fakes.google.expireAccessTokens(email);
      return;
    default:
      return rule({ kind: 'status', status: Number(fault), times: 5 });
  }
}

export async function faultMatrix(f: Figures, opts: { requests: number }): Promise<void> {
  const fakes = await startFakes({ pace: { chunks: 4, intervalMs: 2 } });
  const data = await makeDataDir(fakes, ACCOUNTS, {
    prefix: 'fm',
    configure: (c) => {
      c.proxy.request_timeout_s = 1;
      c.routing.max_attempts = 0;
    },
  });
  const memoryFile = join(data.dir, 'memory.json');
  const proc = await serve(data, gcEnv(memoryFile));
  const [healthy, ...faulty] = data.accounts;
  const revoked = faulty[faulty.length - 1];
  let ok = 0;
  let cutAfterFirstByte = 0;
  let failed = 0;
  let streams = 0;
  const failures: string[] = [];
  let rssBefore = 0;
  let before = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  const rssTrend: number[] = [];
  let idle = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  try {
    // V8 grows its young generation over the first ~2,000 requests (heapTotal 20 -> 50 MB while
    // heapUsed stays ~13 MB), so "before" is taken after a warm-up of that size, under the same faults.
    const total = WARMUP + opts.requests;
    const epochs = Math.ceil(total / EPOCH);
    const warmupEpochs = WARMUP / EPOCH;
    idle = await memoryAfterGc(proc.child.pid!, memoryFile);
    for (let e = 0; e < epochs; e++) {
      if (e === warmupEpochs) {
        rssBefore = await rssMb(proc.child.pid!);
        before = await memoryAfterGc(proc.child.pid!, memoryFile);
      }
      if (e % 10 === 0) rssTrend.push((await memoryAfterGc(proc.child.pid!, memoryFile)).rss);
      await call(proc.url, '/admin/cooldowns/reset', { method: 'POST', apiKey: data.apiKey });
      fakes.upstream.clearFailures();
      faulty.forEach((a, j) => {
        if (a === revoked && e >= epochs / 2) return;
        schedule(fakes, a.email, FAULTS[(e + j * 3) % FAULTS.length]);
      });
      if (e === Math.floor(epochs / 2)) {
        fakes.google.revokeRefreshToken(revoked.refreshToken);
        fakes.google.expireAccessTokens(revoked.email);
      }
      const n = Math.min(EPOCH, total - e * EPOCH);
      await pooled(n, 8, async (i) => {
        const shape = shapes[i % 3];
        const stream = i % 10 < 4;
        if (stream) streams++;
        const { path, body } = sampleRequest(shape, { stream, prompt: `fault matrix ${e}.${i}` });
        const a = await call(proc.url, path, { body, apiKey: data.apiKey, timeoutMs: 30_000 });
        if (a.status === 200 && complete(shape, stream, a)) ok++;
        else if (a.status === 200 && stream && a.text.length > 0) cutAfterFirstByte++;
        else {
          failed++;
          if (failures.length < 5) failures.push(`${shape}${stream ? ' stream' : ''}: ${a.status} ${a.error ?? ''} ${a.cut ? '(cut) ' : ''}${JSON.stringify(a.text.slice(0, 300))}`);
        }
      });
    }
    await sleep(1000);
    const rssAfter = await rssMb(proc.child.pid!);
    const after = await memoryAfterGc(proc.child.pid!, memoryFile);
    const alive = proc.child.exitCode === null && proc.child.signalCode === null;
    const health = await call(proc.url, '/healthz', { apiKey: data.apiKey });
    const upstreamStatus = (s: number | undefined, outcome?: string): number =>
      fakes.upstream.requests.filter((r) => r.status === s && (outcome === undefined || r.outcome === outcome)).length;
    const view = await call(proc.url, '/admin/accounts', { apiKey: data.apiKey });
    const states = (JSON.parse(view.text) as { accounts: { email: string; state: string }[] }).accounts;
    const internalErrors = (proc.log().match(/\[proxy\] internal error/g) ?? []).length;

    f.goal('crashes (serve exited)', alive ? 0 : 1, { max: 0 });
    f.goal('serve answers /healthz after the run', health.status === 200 ? 1 : 0, { min: 1 });
    f.goal('failed answers (a healthy account remained)', failed, { max: 0 });
    f.goal('internal errors in the log', internalErrors, { max: 0 });
    f.goal('resident memory after the run / after the warm-up (each after a full GC)', before.rss ? after.rss / before.rss : 0, { max: 1.1 });
    f.goal('the account revoked half way is disabled (invalid_grant)', states.find((a) => a.email === revoked.email)?.state === 'disabled' ? 1 : 0, { min: 1 });
    f.goal('the healthy account is still healthy', states.find((a) => a.email === healthy.email)?.state === 'healthy' ? 1 : 0, { min: 1 });
    f.info('requests (warm-up included)', ok + cutAfterFirstByte + failed);
    f.info('of which streamed', streams);
    f.info('answered whole', ok);
    f.info('streams cut after their first byte (counted apart)', cutAfterFirstByte);
    f.info('resident memory after the warm-up, after a full GC', before.rss, 'MB');
    f.info('resident memory after the run, after a full GC', after.rss, 'MB');
    f.info('resident memory at the start (idle), after a full GC', idle.rss, 'MB');
    f.info('heap used after the warm-up, after a full GC', before.heapUsed, 'MB');
    f.info('heap used after the run, after a full GC', after.heapUsed, 'MB');
    f.info('resident memory without a GC: after the warm-up', rssBefore, 'MB');
    f.info('resident memory without a GC: after the run', rssAfter, 'MB');
    f.info('upstream faults played: 5xx', [500, 502, 503, 504].reduce((n, s) => n + upstreamStatus(s), 0));
    f.info('upstream faults played: 429 with RetryInfo', upstreamStatus(429));
    f.info('upstream faults played: reset or hang before headers', upstreamStatus(undefined));
    f.info('upstream faults played: reset mid-answer', upstreamStatus(200, 'aborted'));
    f.info('upstream 401 (expired or revoked tokens)', upstreamStatus(401));
    f.info('token endpoint calls', fakes.google.calls.length);
    f.info('requests served by the healthy account', fakes.upstream.requestsFor(healthy.email).length);
    f.note(`resident memory after a full GC every ${10 * EPOCH} requests (MB): ${rssTrend.join(', ')}, then ${after.rss}`);
    f.note(`V8 heap total (reserve) at the start ${idle.heapTotal} MB, after the warm-up ${before.heapTotal} MB, after the run ${after.heapTotal} MB`);
    for (const x of failures) f.note(x);
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop();
    await fakes.close();
    await removeDir(data.dir);
  }
}
