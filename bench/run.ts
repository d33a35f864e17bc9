/**
 * `npm run bench`: tokenpool against a direct connection and a minimal reverse proxy, on loopback,
 * interleaved round by round so machine noise hits every target alike. See BENCHMARKS.md.
 *   --quick          ~1-2 min smoke (fewer, shorter rounds)
 *   --json [FILE]    also write every figure and raw round as JSON (default bench/results/bench-<time>.json)
 *   --profile        afterwards, run `tokenpool serve` under `node --cpu-prof` and name the hot functions
 *   --no-package     skip `npm run package` (no .vsix size)
 *   --rounds N, --duration S   override the load rounds and seconds per run
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent } from 'node:http';
import { measureActivation, type ActivationFigures } from './activation';
import { BENCH_MODEL, makeDataDir } from './datadir';
import { measureExtension } from './extension-size';
import { runLoad, type LoadRequest } from './http-load';
import { formatProfile, summarizeProfile } from './profile';
import { memoryMb, startServer, type Server } from './procs';
import {
  CONCURRENCIES, STREAM_CONCURRENCIES, checkTargets, formatReport, httpFigures, poolFigures, streamFigures,
  type Figures, type HttpRounds, type PoolScaleFigures, type ServeFigures, type StreamRounds,
} from './report';
import { median } from './stats';
import { openStream, postOnce, type StreamResult } from './stream-client';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TSX = ['--import', 'tsx'];
const POOL_SIZES = [1, 100, 10000] as const;
const CHUNKS = 200;
const PACE_MS = 5;
const VERTEX_PATH = '/v1/projects/bench/locations/us-central1/endpoints/openapi/chat/completions';

function options() {
  const argv = process.argv.slice(2);
  const has = (name: string): boolean => argv.includes(name);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[i + 1] : undefined;
  };
  const quick = has('--quick');
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 2 : 5)),
    durationS: Number(value('--duration') ?? (quick ? 1 : 3)),
    warmS: quick ? 1 : 2,
    streamRounds: quick ? 2 : 5,
    poolRounds: quick ? 2 : 5,
    chooses: quick ? 20_000 : 100_000,
    activationRuns: quick ? 3 : 10,
    json: has('--json') ? resolve(value('--json') ?? join(ROOT, 'bench', 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)) : null,
    profile: has('--profile'),
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
  };
}

interface Target { name: string; label: string; request: LoadRequest; streamUrl: string; server?: Server }

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

/** The streams of one round for one target, on a fresh keep-alive agent warmed by one request. */
async function streamRound(t: Target, c: number): Promise<StreamResult[]> {
  const agent = new Agent({ keepAlive: true });
  const body = JSON.stringify({ model: BENCH_MODEL, stream: true, messages: [{ role: 'user', content: 'Count to 200.' }] });
  try {
    await postOnce(agent, t.request.url, t.request.headers, t.request.body);
    if (c === 1) {
      const results: StreamResult[] = [];
      for (let i = 0; i < 2; i++) results.push(await openStream(agent, t.streamUrl, t.request.headers, body, CHUNKS));
      return results;
    }
    return await Promise.all(Array.from({ length: c }, () => openStream(agent, t.streamUrl, t.request.headers, body, CHUNKS)));
  } catch (err) {
    throw new Error(`${t.label}, ${c} stream(s): ${(err as Error).message}`);
  } finally {
    agent.destroy();
  }
}

async function poolScale(dirs: Record<number, string>, rounds: number, chooses: number, workDir: string): Promise<{ figures: PoolScaleFigures[] | null; note: string | null }> {
  const figures: PoolScaleFigures[] = [];
  for (const n of [1, 10000]) {
    const result = spawnSync(process.execPath, ['--expose-gc', ...TSX, join(ROOT, 'bench', 'pool-scale.ts'),
      '--data-dir', dirs[n], '--rounds', String(rounds), '--chooses', String(chooses)], { encoding: 'utf8', timeout: 300_000 });
    await fs.writeFile(join(workDir, `pool-scale-${n}.log`), `${result.stdout}\n${result.stderr}`);
    if (result.status !== 0) {
      const reason = (result.stderr || String(result.error ?? '')).trim().split('\n').find((l) => /Error|error/.test(l)) ?? `exit ${result.status}`;
      return { figures: null, note: `pool-scale failed: ${reason.slice(0, 200)}` };
    }
    figures.push(JSON.parse(result.stdout.trim().split('\n').pop()!) as PoolScaleFigures);
  }
  return { figures, note: null };
}

async function profileServe(target: Target, dataDir: string, durationS: number, workDir: string): Promise<string> {
  const profDir = join(workDir, 'profiles');
  await fs.rm(profDir, { recursive: true, force: true });
  const server = await startServer(`${target.label} --cpu-prof`,
    ['--cpu-prof', '--cpu-prof-dir', profDir, CLI, 'serve', '--data-dir', dataDir, '--port', '0'], join(workDir, 'profile-serve.log'));
  const request = { ...target.request, url: server.url + '/v1/chat/completions', pid: server.pid };
  await runLoad(request, 16, 1);
  const result = await runLoad(request, 16, durationS);
  await server.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `${target.label}: no profile written (did serve exit cleanly on SIGTERM?)`;
  const summary = summarizeProfile(join(profDir, file), CLI);
  const kept = join(ROOT, 'bench', 'results', `serve-${target.name}.cpuprofile`);
  await fs.mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await fs.copyFile(join(profDir, file), kept);
  return formatProfile(`${target.label} at c=16 for ${durationS} s, ${Math.round(result.rps)} req/s, ` +
    `${((result.cpuMsPerReq ?? NaN) * 1000).toFixed(0)} µs CPU/req — saved ${kept}`, summary);
}

async function main(): Promise<void> {
  const opts = options();
  const started = Date.now();
  const workDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const servers: Server[] = [];
  let ok = false;
  try {
    log(`work dir ${workDir}`);
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
      const health = (await getJson(server.url + '/healthz', headers)) as { accounts?: { total?: number; healthy?: number } };
      if (health.accounts?.healthy !== n) throw new Error(`${name}: /healthz reports ${JSON.stringify(health.accounts)}, expected ${n} healthy`);
      const mem = memoryMb(server.pid);
      serve[name] = { accounts: n, startMs: server.startMs, rssMbAtStart: mem.rss, rssMbAfterLoad: NaN, peakMb: NaN };
      const label = `tokenpool (${n.toLocaleString('en-US')} account${n === 1 ? '' : 's'})`;
      const url = server.url + '/v1/chat/completions';
      targets.push({ name, label, server, request: { url, headers, body, pid: server.pid }, streamUrl: url });
    }
    const labels = Object.fromEntries(targets.map((t) => [t.name, t.label]));
    for (const t of targets) await checkOnce(t);

    log(`warming up (${opts.warmS} s per target)`);
    for (const t of targets) await runLoad(t.request, 16, opts.warmS);

    const httpRounds: HttpRounds = [];
    for (let r = 0; r < opts.rounds; r++) {
      const round = Object.fromEntries(targets.map((t) => [t.name, {}])) as HttpRounds[number];
      for (const c of rotate(CONCURRENCIES, r)) {
        for (const t of rotate(targets, r)) {
          const result = await runLoad(t.request, c, opts.durationS);
          if (result.failed > 0 || result.ok === 0) throw new Error(`${t.label} c=${c}: ${result.failed} failed, ${result.ok} ok requests`);
          round[t.name][c] = result;
        }
      }
      httpRounds.push(round);
      log(`load round ${r + 1}/${opts.rounds} done (${Math.round((Date.now() - started) / 1000)} s)`);
    }

    const streamRounds: StreamRounds = [];
    for (const t of targets) await streamRound(t, 1);
    for (let r = 0; r < opts.streamRounds; r++) {
      const round = Object.fromEntries(targets.map((t) => [t.name, {}])) as StreamRounds[number];
      for (const c of STREAM_CONCURRENCIES) {
        for (const t of rotate(targets, r)) round[t.name][c] = await streamRound(t, c);
      }
      streamRounds.push(round);
      log(`stream round ${r + 1}/${opts.streamRounds} done (${Math.round((Date.now() - started) / 1000)} s)`);
    }

    for (const t of targets) {
      if (!t.server) continue;
      const mem = memoryMb(t.server.pid);
      serve[t.name].rssMbAfterLoad = mem.rss;
      serve[t.name].peakMb = mem.peak;
    }
    const upstreamStats = (await getJson(upstream.url + '/bench/stats')) as { tokenCalls: number; distinctTokens: number };
    for (const s of servers.splice(0).reverse()) await s.stop();

    log('pool scale (in-process)');
    const scale = await poolScale(dirs, opts.poolRounds, opts.chooses, workDir);

    log('activation');
    let activation: ActivationFigures | null = null;
    let activationNote: string | null = null;
    try {
      activation = await measureActivation(dirs[100], workDir, opts.activationRuns);
    } catch (err) {
      activationNote = `activation failed: ${((err as Error).message ?? String(err)).split('\n')[0].slice(0, 200)}`;
    }

    log(opts.runPackage ? 'extension size (npm run package)' : 'extension size');
    const extension = await measureExtension(ROOT, opts.runPackage);

    const names = targets.map((t) => t.name);
    const figures: Figures = {
      http: httpFigures(httpRounds, names),
      stream: streamFigures(streamRounds, names),
      serve,
      pool: scale.figures ? poolFigures(scale.figures) : null,
      poolNote: scale.note,
      activation,
      activationNote,
      extension,
      sanity: { upstreamTokenCalls: upstreamStats.tokenCalls, distinctUpstreamTokens: upstreamStats.distinctTokens },
    };
    const checks = checkTargets(figures, httpRounds, 'tokenpool-1', 'tokenpool-10000');
    const m = machine();
    const header = `tokenpool bench — ${m.date}, commit ${m.commit ?? 'n/a'}, ${m.nproc} CPUs (${m.cpu}), ${m.memoryGb} GB, node ${m.node}, ${m.kernel}\n` +
      `${opts.rounds} load rounds × ${opts.durationS} s per target and concurrency, ${opts.streamRounds} stream rounds, ` +
      `${CHUNKS} chunks every ${PACE_MS} ms; medians over rounds; total ${Math.round((Date.now() - started) / 1000)} s`;
    console.log(`\n${header}\n\n${formatReport(figures, checks, labels)}`);

    let profiles: string[] = [];
    if (opts.profile) {
      log('profiling tokenpool serve (node --cpu-prof)');
      const byName = new Map(targets.map((t) => [t.name, t]));
      profiles = [
        await profileServe(byName.get('tokenpool-1')!, dirs[1], opts.durationS * 2, workDir),
        await profileServe(byName.get('tokenpool-10000')!, dirs[10000], opts.durationS * 2, workDir),
      ];
      console.log(`\n### Profiles\n${profiles.join('\n\n')}`);
    }

    if (opts.json) {
      await fs.mkdir(resolve(opts.json, '..'), { recursive: true });
      const strip = (rounds: StreamRounds) => rounds.map((round) => Object.fromEntries(Object.entries(round).map(([t, byC]) => [t,
        Object.fromEntries(Object.entries(byC).map(([c, streams]) => [c, (streams as StreamResult[]).map((s) => ({ ttfcMs: s.ttfcMs, transitP50: median(s.transitMs), transitMax: Math.max(...s.transitMs) }))]))])));
      await fs.writeFile(opts.json, JSON.stringify({
        machine: m, options: { ...opts, chunks: CHUNKS, paceMs: PACE_MS }, labels, figures, targets: checks,
        raw: { http: httpRounds, stream: strip(streamRounds), poolScale: scale.figures }, profiles,
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
