/**
 * `npm run bench`: tokenpool against a direct connection and a minimal reverse proxy, on loopback,
 * interleaved round by round so machine noise hits every target alike. See BENCHMARKS.md.
 *   --quick          ~1-2 min smoke (fewer, shorter rounds)
 *   --json [FILE]    also write every figure and raw round as JSON (default bench/results/bench-<time>.json)
 *   --profile        afterwards, run `tokenpool serve` (1 and 10,000 accounts) under `node --cpu-prof`
 *                    and name the hot functions; --profile-only does just that
 *   --no-package     skip `npm run package` (no .vsix size)
 *   --rounds N, --duration S   override the load rounds and seconds per run
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { measureActivation, type ActivationFigures } from './activation';
import { BENCH_MODEL, makeDataDir } from './datadir';
import { measureExtension } from './extension-size';
import { runLoad, type LoadRequest } from './http-load';
import { memoryMb, startServer, type Server } from './procs';
import { formatProfile, summarizeProfile } from './profile';
import {
  CONCURRENCIES, STREAM_CONCURRENCIES, checkTargets, formatReport, httpFigures, poolFigures, streamFigures,
  type Figures, type HttpRounds, type PoolScaleFigures, type ServeFigures, type StreamRounds,
} from './report';
import { median } from './stats';
import { addedPerChunk, openStream, postOnce, type StreamPair } from './stream-client';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const RESULTS = join(ROOT, 'bench', 'results');
const TSX = ['--import', 'tsx'];
const POOL_SIZES = [1, 100, 10000] as const;
const CHUNKS = 200;
const PACE_MS = 5;
const VERTEX_PATH = '/v1/projects/bench/locations/us-central1/endpoints/openapi/chat/completions';

type Options = ReturnType<typeof options>;

function options() {
  const argv = process.argv.slice(2);
  const has = (name: string): boolean => argv.includes(name);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[i + 1] : undefined;
  };
  const quick = has('--quick');
  const profileOnly = has('--profile-only');
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 2 : 5)),
    durationS: Number(value('--duration') ?? (quick ? 1 : 3)),
    warmS: quick ? 1 : 2,
    streamRounds: quick ? 2 : 5,
    /** Streams one after another per round and target at c=1 (c=16 opens 16 at once). */
    serialStreams: quick ? 2 : 4,
    poolRounds: quick ? 2 : 5,
    chooses: quick ? 20_000 : 100_000,
    activationRuns: quick ? 3 : 10,
    json: has('--json') ? resolve(value('--json') ?? join(RESULTS, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)) : null,
    profile: has('--profile') || profileOnly,
    profileOnly,
    runPackage: !has('--no-package'),
  };
}

function machine() {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim(),
    commit: git.status === 0 ? git.stdout.trim() : null,
    date: new Date().toISOString(),
    /** 1-minute load average: other work on the machine while the bench ran. */
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
  };
}

interface Target { name: string; label: string; request: LoadRequest; streamUrl: string; server?: Server }

/** Everything running: the upstream, the baseline, one `tokenpool serve` per pool size. */
interface Setup {
  upstream: Server;
  targets: Target[];
  labels: Record<string, string>;
  dirs: Record<number, string>;
  serve: Record<string, ServeFigures>;
  servers: Server[];
}

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};
const rotate = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]);

async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res.json();
}

async function checkOnce(t: Target): Promise<void> {
  const res = await fetch(t.request.url, { method: 'POST', headers: t.request.headers, body: t.request.body });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"choices"')) {
    throw new Error(`${t.label}: POST ${t.request.url} answered ${res.status}: ${text.slice(0, 300)}`);
  }
}

async function setUp(workDir: string, servers: Server[]): Promise<Setup> {
  const upstream = await startServer('upstream', [...TSX, join(ROOT, 'bench', 'upstream.ts'), '--chunks', String(CHUNKS), '--pace-ms', String(PACE_MS)], join(workDir, 'upstream.log'));
  servers.push(upstream);
  const baseline = await startServer('baseline', [...TSX, join(ROOT, 'bench', 'baseline-proxy.ts'), '--target', upstream.url], join(workDir, 'baseline.log'));
  servers.push(baseline);

  const apiKey = 'tp-' + randomBytes(16).toString('hex');
  const body = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 16 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  const targets: Target[] = [
    { name: 'direct', label: 'direct', request: { url: upstream.url + VERTEX_PATH, headers, body }, streamUrl: upstream.url + VERTEX_PATH },
    { name: 'baseline', label: 'baseline (http-proxy)', request: { url: baseline.url + VERTEX_PATH, headers, body, pid: baseline.pid }, streamUrl: baseline.url + VERTEX_PATH },
  ];
  const dirs: Record<number, string> = {};
  const serve: Record<string, ServeFigures> = {};
  for (const n of POOL_SIZES) {
    dirs[n] = join(workDir, `data-${n}`);
    log(`writing ${n} account files`);
    await makeDataDir(dirs[n], n, { apiKey, upstreamUrl: upstream.url });
    const name = `tokenpool-${n}`;
    const server = await startServer(name, [CLI, 'serve', '--data-dir', dirs[n], '--port', '0'], join(workDir, `${name}.log`));
    servers.push(server);
    const health = (await getJson(server.url + '/healthz', headers)) as { accounts?: { healthy?: number } };
    if (health.accounts?.healthy !== n) throw new Error(`${name}: /healthz reports ${JSON.stringify(health.accounts)}, expected ${n} healthy`);
    serve[name] = { accounts: n, startMs: server.startMs, rssMbAtStart: memoryMb(server.pid).rss, rssMbAfterLoad: NaN, peakMb: NaN };
    const url = server.url + '/v1/chat/completions';
    const label = `tokenpool (${n.toLocaleString('en-US')} account${n === 1 ? '' : 's'})`;
    targets.push({ name, label, server, request: { url, headers, body, pid: server.pid }, streamUrl: url });
  }
  for (const t of targets) await checkOnce(t);
  return { upstream, targets, labels: Object.fromEntries(targets.map((t) => [t.name, t.label])), dirs, serve, servers };
}

async function loadRounds(targets: Target[], opts: Options, started: number): Promise<HttpRounds> {
  log(`warming up (${opts.warmS} s per target)`);
  for (const t of targets) await runLoad(t.request, 16, opts.warmS);
  const rounds: HttpRounds = [];
  for (let r = 0; r < opts.rounds; r++) {
    const round = Object.fromEntries(targets.map((t) => [t.name, {}])) as HttpRounds[number];
    for (const c of rotate(CONCURRENCIES, r)) {
      for (const t of rotate(targets, r)) {
        const result = await runLoad(t.request, c, opts.durationS);
        if (result.failed > 0 || result.ok === 0) throw new Error(`${t.label} c=${c}: ${result.failed} failed, ${result.ok} ok requests`);
        round[t.name][c] = result;
      }
    }
    rounds.push(round);
    log(`load round ${r + 1}/${opts.rounds} done (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  return rounds;
}

/** The streams of one round for one target, each beside a direct one, on fresh keep-alive agents warmed by one request. */
async function streamRound(t: Target, direct: Target, c: number, serial: number): Promise<StreamPair[]> {
  const agent = new Agent({ keepAlive: true });
  const directAgent = new Agent({ keepAlive: true });
  const body = JSON.stringify({ model: BENCH_MODEL, stream: true, messages: [{ role: 'user', content: 'Count to 200.' }] });
  const pair = async (): Promise<StreamPair> => {
    const [mine, beside] = await Promise.all([
      openStream(agent, t.streamUrl, t.request.headers, body, CHUNKS),
      openStream(directAgent, direct.streamUrl, direct.request.headers, body, CHUNKS),
    ]);
    return { mine, direct: beside };
  };
  try {
    await postOnce(agent, t.request.url, t.request.headers, t.request.body);
    await postOnce(directAgent, direct.request.url, direct.request.headers, direct.request.body);
    if (c === 1) {
      const pairs: StreamPair[] = [];
      for (let i = 0; i < serial; i++) pairs.push(await pair());
      return pairs;
    }
    return await Promise.all(Array.from({ length: c }, pair));
  } catch (err) {
    throw new Error(`${t.label}, ${c} stream(s): ${(err as Error).message}`);
  } finally {
    agent.destroy();
    directAgent.destroy();
  }
}

async function streamRounds(targets: Target[], opts: Options, started: number): Promise<StreamRounds> {
  const direct = targets.find((t) => t.name === 'direct')!;
  for (const t of targets) await streamRound(t, direct, 1, 1);
  const rounds: StreamRounds = [];
  for (let r = 0; r < opts.streamRounds; r++) {
    const round = Object.fromEntries(targets.map((t) => [t.name, {}])) as StreamRounds[number];
    for (const c of STREAM_CONCURRENCIES) {
      for (const t of rotate(targets, r)) round[t.name][c] = await streamRound(t, direct, c, opts.serialStreams);
    }
    rounds.push(round);
    log(`stream round ${r + 1}/${opts.streamRounds} done (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  return rounds;
}

async function poolScale(dirs: Record<number, string>, opts: Options, workDir: string): Promise<{ figures: PoolScaleFigures[] | null; note: string | null }> {
  const figures: PoolScaleFigures[] = [];
  for (const n of [1, 10000]) {
    const result = spawnSync(process.execPath, ['--expose-gc', ...TSX, join(ROOT, 'bench', 'pool-scale.ts'),
      '--data-dir', dirs[n], '--rounds', String(opts.poolRounds), '--chooses', String(opts.chooses)], { encoding: 'utf8', timeout: 300_000 });
    await fs.writeFile(join(workDir, `pool-scale-${n}.log`), `${result.stdout}\n${result.stderr}`);
    if (result.status !== 0) {
      const reason = (result.stderr || String(result.error ?? '')).trim().split('\n').find((l) => /error/i.test(l)) ?? `exit ${result.status}`;
      return { figures: null, note: `pool-scale failed: ${reason.slice(0, 200)}` };
    }
    figures.push(JSON.parse(result.stdout.trim().split('\n').pop()!) as PoolScaleFigures);
  }
  return { figures, note: null };
}

async function activationFigures(dataDir: string, opts: Options, workDir: string): Promise<{ figures: ActivationFigures | null; note: string | null }> {
  try {
    return { figures: await measureActivation(dataDir, workDir, opts.activationRuns), note: null };
  } catch (err) {
    return { figures: null, note: `activation failed: ${((err as Error).message ?? String(err)).split('\n')[0].slice(0, 200)}` };
  }
}

/** `tokenpool serve` under `node --cpu-prof` at c=16; the profile covers its start-up too. */
async function profileServe(target: Target, dataDir: string, durationS: number, workDir: string): Promise<string> {
  const profDir = join(workDir, `profile-${target.name}`);
  const server = await startServer(`${target.label} --cpu-prof`,
    ['--cpu-prof', '--cpu-prof-dir', profDir, CLI, 'serve', '--data-dir', dataDir, '--port', '0'], join(workDir, `profile-${target.name}.log`));
  const request = { ...target.request, url: server.url + '/v1/chat/completions', pid: server.pid };
  const result = await runLoad(request, 16, durationS);
  await server.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `${target.label}: no profile written (did serve exit cleanly on SIGTERM?)`;
  await fs.mkdir(RESULTS, { recursive: true });
  const kept = join(RESULTS, `serve-${target.name}.cpuprofile`);
  await fs.copyFile(join(profDir, file), kept);
  return formatProfile(`${target.label} at c=16 for ${durationS} s: ${Math.round(result.rps)} req/s, ` +
    `${((result.cpuMsPerReq ?? NaN) * 1000).toFixed(0)} µs CPU/req; saved ${kept}`, summarizeProfile(kept, CLI));
}

function streamSummaries(rounds: StreamRounds): unknown {
  return rounds.map((round) => Object.fromEntries(Object.entries(round).map(([t, byC]) => [t, Object.fromEntries(
    Object.entries(byC).map(([c, pairs]) => [c, (pairs as StreamPair[]).map((p) => {
      const added = addedPerChunk(p);
      return { ttfcMs: p.mine.ttfcMs, directTtfcMs: p.direct.ttfcMs, transitP50: median(p.mine.transitMs), addedP50: median(added), addedMax: Math.max(...added) };
    })]))])));
}

async function main(): Promise<void> {
  const opts = options();
  const started = Date.now();
  const loadAtStart = Math.round(loadavg()[0] * 100) / 100;
  const workDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const servers: Server[] = [];
  let ok = false;
  try {
    log(`work dir ${workDir}`);
    const setup = await setUp(workDir, servers);
    const { targets, labels, dirs, serve } = setup;
    const byName = new Map(targets.map((t) => [t.name, t]));
    let figures: Figures | undefined;
    let checks: ReturnType<typeof checkTargets> = [];
    let raw: unknown;

    if (!opts.profileOnly) {
      const httpRounds = await loadRounds(targets, opts, started);
      const streams = await streamRounds(targets, opts, started);
      for (const t of targets) {
        if (!t.server) continue;
        const mem = memoryMb(t.server.pid);
        serve[t.name].rssMbAfterLoad = mem.rss;
        serve[t.name].peakMb = mem.peak;
      }
      const upstreamStats = (await getJson(setup.upstream.url + '/bench/stats')) as { tokenCalls: number; distinctTokens: number };
      for (const s of servers.splice(2).reverse()) await s.stop(); // the tokenpool servers: quiet for what follows

      log('pool scale (in-process)');
      const scale = await poolScale(dirs, opts, workDir);
      log('activation');
      const activation = await activationFigures(dirs[100], opts, workDir);
      log(opts.runPackage ? 'extension size (npm run package)' : 'extension size');
      const extension = await measureExtension(ROOT, opts.runPackage);

      const names = targets.map((t) => t.name);
      figures = {
        http: httpFigures(httpRounds, names),
        stream: streamFigures(streams, names),
        serve,
        pool: scale.figures ? poolFigures(scale.figures) : null,
        poolNote: scale.note,
        activation: activation.figures,
        activationNote: activation.note,
        extension,
        sanity: { upstreamTokenCalls: upstreamStats.tokenCalls, distinctUpstreamTokens: upstreamStats.distinctTokens },
      };
      checks = checkTargets(figures, httpRounds, 'tokenpool-1', 'tokenpool-10000');
      raw = { http: httpRounds, stream: streamSummaries(streams), poolScale: scale.figures };
      const m = machine();
      const header = `tokenpool bench — ${m.date}, commit ${m.commit ?? 'n/a'}, ${m.nproc} CPUs (${m.cpu}), ${m.memoryGb} GB, node ${m.node}, ${m.kernel}\n` +
        `${opts.rounds} load rounds × ${opts.durationS} s per target and concurrency, ${opts.streamRounds} stream rounds, ` +
        `${CHUNKS} chunks every ${PACE_MS} ms; medians over rounds; total ${Math.round((Date.now() - started) / 1000)} s; ` +
        `load average ${loadAtStart} at start, ${m.loadavg1} at end`;
      console.log(`\n${header}\n\n${formatReport(figures, checks, labels)}`);
    }

    const profiles: string[] = [];
    if (opts.profile) {
      log('profiling tokenpool serve (node --cpu-prof)');
      for (const s of servers.splice(2).reverse()) await s.stop();
      for (const n of [1, 10000]) profiles.push(await profileServe(byName.get(`tokenpool-${n}`)!, dirs[n], Math.max(5, opts.durationS * 3), workDir));
      console.log(`\n### Profiles\n${profiles.join('\n\n')}`);
    }

    if (opts.json) {
      await fs.mkdir(resolve(opts.json, '..'), { recursive: true });
      await fs.writeFile(opts.json, JSON.stringify({
        machine: { ...machine(), loadavg1AtStart: loadAtStart }, options: { ...opts, chunks: CHUNKS, paceMs: PACE_MS }, labels, figures, targets: checks, raw, profiles,
      }, null, 2) + '\n');
      log(`wrote ${opts.json}`);
    }
    ok = true;
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => undefined);
    if (ok) await fs.rm(workDir, { recursive: true, force: true });
    else log(`kept ${workDir} (server logs) for diagnosis`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
