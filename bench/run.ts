/**
 * `npm run bench`: tokenpool against a direct connection and a minimal reverse proxy, on loopback,
 * interleaved round by round so machine noise hits every target alike. See BENCHMARKS.md.
 *   --quick          ~1-2 min smoke (fewer, shorter rounds)
 *   --json [FILE]    also write every figure and raw round as JSON (default bench/results/bench-<time>.json)
 *   --profile        afterwards, run `tokenpool serve` (1 and 10,000 accounts) under `node --cpu-prof`
 *                    and name the hot functions, then the translated contenders (streamed and whole)
 *                    the same way; --profile-only does just that
 *   --translation-only  only the translation section (bench/translation.ts); --no-translation skips it
 *   --no-package     skip `npm run package` (no .vsix size)
 *   --rounds N, --duration S   override the load rounds and seconds per run; --stream-rounds N the stream rounds
 *   --against REF    also build REF (a commit, branch or tag) in a temporary git worktree and run its
 *                    `tokenpool serve` (1 account) in the same load and stream rounds; the report
 *                    compares it with this build round by round
 *   --request-path-only  only the load and stream rounds, with direct, the baseline and tokenpool with
 *                    1 account (and --against's build): no other pool sizes, translation, pool scale,
 *                    activation or extension size
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { measureActivation, type ActivationFigures } from './activation';
import { againstFigures, formatAgainst } from './against';
import { buildRef, type OtherBuild } from './against-build';
import { BENCH_MODEL, makeDataDir } from './datadir';
import { measureExtension } from './extension-size';
import { runLoad, type LoadRequest } from './http-load';
import { cpuMsFine, memoryMb, startServer, type Server } from './procs';
import { formatProfile, summarizeProfile } from './profile';
import {
  CONCURRENCIES, STREAM_CONCURRENCIES, checkTargets, formatReport, formatRequestPath, httpFigures, poolFigures, streamFigures,
  type Figures, type HttpRounds, type PoolScaleFigures, type ServeFigures, type StreamRounds,
} from './report';
import { median } from './stats';
import { NATIVE, checkContenders, formatTranslation, translationChecks, translationContenders, translationFigures, translationRounds } from './translation';
import { addedPerChunk, streamBatch, type StreamEndpoint, type StreamPair } from './stream-client';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const RESULTS = join(ROOT, 'bench', 'results');
const TSX = ['--import', 'tsx'];
const POOL_SIZES = [1, 100, 10000] as const;
const CHUNKS = 200;
const PACE_MS = 5;
const VERTEX_PATH = '/v1/projects/bench/locations/us-central1/endpoints/openapi/chat/completions';
/**
 * The chat contenders' model: a Vertex MaaS name (`publisher/model`), which tokenpool passes through
 * to the OpenAI-compatible endpoint as it did for every model when BENCHMARKS.md's first results were
 * taken. A bare Gemini name (BENCH_MODEL) now goes through the codecs to `generateContent`; that path
 * is the translation section's "OpenAI Chat → Gemini" contender.
 */
const CHAT_MODEL = `google/${BENCH_MODEL}`;

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
  if (has('--against') && !value('--against')) throw new Error('--against needs a git ref (a commit, branch or tag)');
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 2 : 5)),
    durationS: Number(value('--duration') ?? (quick ? 1 : 3)),
    warmS: quick ? 1 : 2,
    streamRounds: Number(value('--stream-rounds') ?? (quick ? 2 : 5)),
    /** Streams one after another per round and target at c=1 (c=16 opens 16 at once). */
    serialStreams: quick ? 2 : 4,
    /**
     * The translation section's streams one after another per round and contender: its CPU per event
     * at c=1 varies by about ±60 µs from stream to stream on these machines, so it needs more of them.
     */
    translationSerialStreams: quick ? 2 : 12,
    poolRounds: quick ? 2 : 5,
    chooses: quick ? 20_000 : 100_000,
    activationRuns: quick ? 3 : 10,
    json: has('--json') ? resolve(value('--json') ?? join(RESULTS, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)) : null,
    profile: has('--profile') || profileOnly,
    profileOnly,
    translation: !has('--no-translation'),
    translationOnly: has('--translation-only'),
    runPackage: !has('--no-package'),
    against: value('--against') ?? null,
    requestPathOnly: has('--request-path-only'),
  };
}

function machine() {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'esbuild.mjs', 'package-lock.json'], { cwd: ROOT, encoding: 'utf8' });
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim(),
    commit: git.status === 0 ? git.stdout.trim() + (dirty.stdout.trim() ? ' with uncommitted changes' : '') : null,
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
  apiKey: string;
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

/** The name of `--against`'s contender in the rounds. */
const AGAINST = 'against';

async function setUp(workDir: string, servers: Server[], opts: Options, other: OtherBuild | null): Promise<Setup> {
  const upstream = await startServer('upstream', [...TSX, join(ROOT, 'bench', 'upstream.ts'), '--chunks', String(CHUNKS), '--pace-ms', String(PACE_MS)], join(workDir, 'upstream.log'));
  servers.push(upstream);
  const baseline = await startServer('baseline', [...TSX, join(ROOT, 'bench', 'baseline-proxy.ts'), '--target', upstream.url], join(workDir, 'baseline.log'));
  servers.push(baseline);

  const apiKey = 'tp-' + randomBytes(16).toString('hex');
  const body = JSON.stringify({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 16 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  const targets: Target[] = [
    { name: 'direct', label: 'direct', request: { url: upstream.url + VERTEX_PATH, headers, body }, streamUrl: upstream.url + VERTEX_PATH },
    { name: 'baseline', label: 'baseline (http-proxy)', request: { url: baseline.url + VERTEX_PATH, headers, body, pid: baseline.pid }, streamUrl: baseline.url + VERTEX_PATH },
  ];
  const dirs: Record<number, string> = {};
  const serve: Record<string, ServeFigures> = {};
  for (const n of opts.requestPathOnly ? [1] : POOL_SIZES) {
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
  if (other) {
    // Its own data directory: two processes on one would share (and write) the same account file.
    const dir = join(workDir, 'data-against');
    await makeDataDir(dir, 1, { apiKey, upstreamUrl: upstream.url });
    const server = await startServer(`tokenpool at ${other.commit}`, [other.cli, 'serve', '--data-dir', dir, '--port', '0'], join(workDir, 'tokenpool-against.log'));
    servers.push(server);
    const url = server.url + '/v1/chat/completions';
    targets.push({ name: AGAINST, label: `tokenpool (1 account) at ${other.commit}`, server, request: { url, headers, body, pid: server.pid }, streamUrl: url });
  }
  for (const t of targets) await checkOnce(t);
  return { upstream, targets, labels: Object.fromEntries(targets.map((t) => [t.name, t.label])), dirs, serve, servers, apiKey };
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

/** The streams of one round for one target, each beside a direct one (see streamBatch). */
async function streamRound(t: Target, direct: Target, c: number, serial: number): Promise<StreamPair[]> {
  const body = JSON.stringify({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: 'Count to 200.' }] });
  const endpoint = (x: Target): StreamEndpoint => ({ url: x.streamUrl, headers: x.request.headers, body, warm: { url: x.request.url, body: x.request.body } });
  try {
    return (await streamBatch(endpoint(t), endpoint(direct), c, serial, CHUNKS)).pairs;
  } catch (err) {
    throw new Error(`${t.label}, ${c} stream(s): ${(err as Error).message}`);
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

/**
 * `tokenpool serve` under `node --cpu-prof` while `load` runs against it (given its URL and pid, it
 * says what it did); the profile covers its start-up too.
 */
async function profileServe(name: string, label: string, dataDir: string, workDir: string, load: (server: Server) => Promise<string>, nodeArgs: string[] = []): Promise<string> {
  const profDir = join(workDir, `profile-${name}`);
  const server = await startServer(`${label} --cpu-prof`,
    ['--cpu-prof', '--cpu-prof-dir', profDir, ...nodeArgs, CLI, 'serve', '--data-dir', dataDir, '--port', '0'], join(workDir, `profile-${name}.log`));
  const did = await load(server);
  await server.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `${label}: no profile written (did serve exit cleanly on SIGTERM?)`;
  await fs.mkdir(RESULTS, { recursive: true });
  const kept = join(RESULTS, `serve-${name}.cpuprofile`);
  await fs.copyFile(join(profDir, file), kept);
  return formatProfile(`${label}: ${did}; saved ${kept}`, summarizeProfile(kept, CLI));
}

/** The native chat contender at c=16. */
const profileChat = (target: Target, durationS: number) => async (server: Server): Promise<string> => {
  const result = await runLoad({ ...target.request, url: server.url + '/v1/chat/completions', pid: server.pid }, 16, durationS);
  return `c=16 for ${durationS} s, ${Math.round(result.rps)} req/s, ${((result.cpuMsPerReq ?? NaN) * 1000).toFixed(0)} µs CPU/req`;
};

/**
 * A translation contender for `durationS`: streamed (batches of 16 streams), streamed-c1 (one
 * stream at a time) or whole (answers at c=16).
 */
const profileTranslated = (setup: Setup, name: string, phase: ProfilePhase, durationS: number) => async (server: Server): Promise<string> => {
  const contenders = translationContenders(setup.upstream.url, server, setup.apiKey);
  const c = contenders.find((x) => x.name === name)!;
  if (phase === 'whole') {
    const whole = await runLoad(c.whole, 16, durationS);
    return `whole answers at c=16 for ${durationS} s, ${Math.round(whole.rps)} req/s, ${((whole.cpuMsPerReq ?? NaN) * 1000).toFixed(0)} µs CPU/answer`;
  }
  const direct = contenders.find((x) => x.name === 'direct')!;
  const until = Date.now() + durationS * 1000;
  let events = 0;
  let cpu = 0;
  const streams = phase === 'streamed' ? 16 : 1;
  while (Date.now() < until) {
    const batch = await streamBatch(c.stream, direct.stream, streams, 1, CHUNKS, () => cpuMsFine(server.pid));
    events += batch.pairs.length * CHUNKS;
    cpu += batch.cpuMs ?? 0;
  }
  return `${events} streamed events at c=${streams} in ${durationS} s, ${((cpu * 1000) / events).toFixed(1)} µs CPU/event`;
};

type ProfilePhase = 'streamed' | 'streamed-c1' | 'whole';
/** The translation profiles: the native pass-through beside each translated contender the targets judge. */
const TRANSLATION_PROFILES: [string, ProfilePhase][] = [
  [NATIVE, 'streamed'], ['anthropic', 'streamed'], ['responses', 'streamed'],
  [NATIVE, 'streamed-c1'], ['anthropic', 'streamed-c1'], ['responses', 'streamed-c1'],
  [NATIVE, 'whole'], ['anthropic', 'whole'],
];

type NativeRun = { figures: Figures; rounds: HttpRounds };

/**
 * The translation section's rounds on `tokenpool serve` with one account (otherwise idle); the
 * report it returns is made once the native figures of the same run are known.
 */
async function translationSection(setup: Setup, opts: Options): Promise<(native?: NativeRun) => { text: string; json: unknown }> {
  const serve = setup.targets.find((t) => t.name === 'tokenpool-1')!.server!;
  const contenders = translationContenders(setup.upstream.url, serve, setup.apiKey);
  const answerBytes = await checkContenders(contenders);
  const loadAtStart = loadavg()[0];
  const rounds = await translationRounds(contenders, { ...opts, serialStreams: opts.translationSerialStreams, chunks: CHUNKS }, log);
  const loadAtEnd = loadavg()[0];
  const labels = Object.fromEntries(contenders.map((c) => [c.name, c.label]));
  const figures = translationFigures(rounds, contenders.map((c) => c.name), answerBytes);
  const raw = rounds.map((r) => ({
    loadavg1: r.loadavg1,
    stream: Object.fromEntries(Object.entries(r.stream).map(([n, byC]) => [n, Object.fromEntries(Object.entries(byC).map(([c, b]) => [c, { cpuMs: b.cpuMs, events: b.events }]))])),
    whole: r.whole,
  }));
  return (native) => {
    const ratios16 = native?.rounds.map((r) => (r['tokenpool-1'][16].cpuMsPerReq ?? NaN) / (r.baseline[16].cpuMsPerReq ?? NaN));
    const checks = translationChecks(figures, native && ratios16 ? { figures: native.figures, ratios16 } : undefined);
    const text = `${formatTranslation(figures, checks, labels)}\n\nLoad average (1 min) ${loadAtStart.toFixed(2)} at the section's start, ${loadAtEnd.toFixed(2)} at its end.`;
    return { text, json: { labels, figures, checks, raw } };
  };
}

function header(opts: Options, started: number, loadAtStart: number): string {
  const m = machine();
  return `tokenpool bench — ${m.date}, commit ${m.commit ?? 'n/a'}, ${m.nproc} CPUs (${m.cpu}), ${m.memoryGb} GB, node ${m.node}, ${m.kernel}\n` +
    `${opts.rounds} load rounds × ${opts.durationS} s per target and concurrency, ${opts.streamRounds} stream rounds, ` +
    `${CHUNKS} chunks every ${PACE_MS} ms; medians over rounds; total ${Math.round((Date.now() - started) / 1000)} s; ` +
    `load average ${loadAtStart} at start, ${m.loadavg1} at end`;
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
  // First, so that a ref that does not build stops the run before anything else is made.
  const other: OtherBuild | null = opts.against ? await buildRef(ROOT, opts.against, log) : null;
  const workDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const servers: Server[] = [];
  let ok = false;
  try {
    log(`work dir ${workDir}`);
    const setup = await setUp(workDir, servers, opts, other);
    const { targets, labels, dirs, serve } = setup;
    const byName = new Map(targets.map((t) => [t.name, t]));
    let figures: Figures | undefined;
    let checks: ReturnType<typeof checkTargets> = [];
    let raw: unknown;
    let translationJson: unknown;
    let requestPathJson: unknown;
    let againstJson: unknown;
    /** This build against --against's, from the rounds both ran in. */
    const compare = (httpRounds: HttpRounds, streams: StreamRounds): void => {
      if (!other) return;
      const figures = againstFigures(httpRounds, streams, 'tokenpool-1', AGAINST, { mine: `this build (${machine().commit ?? 'n/a'})`, other: other.commit });
      againstJson = { ref: other.ref, commit: other.commit, dependencies: other.dependencies, ...figures };
      console.log(`\n${formatAgainst(figures)}\n\n--against ${other.ref}: commit ${other.commit}, built in a temporary git worktree ${other.dependencies}.`);
    };

    if (!opts.profileOnly && opts.requestPathOnly) {
      const httpRounds = await loadRounds(targets, opts, started);
      const streams = await streamRounds(targets, opts, started);
      const names = targets.map((t) => t.name);
      const requestPath = { http: httpFigures(httpRounds, names), stream: streamFigures(streams, names) };
      requestPathJson = requestPath;
      raw = { http: httpRounds, stream: streamSummaries(streams) };
      console.log(`\n${header(opts, started, loadAtStart)}\n\n${formatRequestPath(requestPath, labels)}`);
      compare(httpRounds, streams);
    } else if (!opts.profileOnly && opts.translationOnly) {
      const report = await translationSection(setup, opts);
      const t = report();
      translationJson = t.json;
      console.log(`\n${t.text}`);
    } else if (!opts.profileOnly) {
      const httpRounds = await loadRounds(targets, opts, started);
      const streams = await streamRounds(targets, opts, started);
      const translation = opts.translation ? await translationSection(setup, opts) : undefined;
      for (const t of targets) {
        if (!t.server || !serve[t.name]) continue;
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
      console.log(`\n${header(opts, started, loadAtStart)}\n\n${formatReport(figures, checks, labels)}`);
      compare(httpRounds, streams);
      if (translation) {
        const t = translation({ figures, rounds: httpRounds });
        translationJson = t.json;
        console.log(`\n${t.text}`);
      }
    }

    const profiles: string[] = [];
    if (opts.profile) {
      log('profiling tokenpool serve (node --cpu-prof)');
      for (const s of servers.splice(2).reverse()) await s.stop();
      const seconds = Math.max(5, opts.durationS * 3);
      for (const n of [1, 10000].filter((k) => byName.has(`tokenpool-${k}`))) {
        const t = byName.get(`tokenpool-${n}`)!;
        profiles.push(await profileServe(t.name, t.label, dirs[n], workDir, profileChat(t, seconds)));
      }
      for (const [name, phase] of TRANSLATION_PROFILES) {
        // One stream at a time keeps the process idle most of the time: sample ten times as often.
        const interval = phase === 'streamed-c1' ? ['--cpu-prof-interval', '100'] : [];
        profiles.push(await profileServe(`${name}-${phase}`, `tokenpool (1 account), ${name} ${phase}`, dirs[1], workDir,
          profileTranslated(setup, name, phase, phase === 'streamed-c1' ? seconds * 2 : seconds), interval));
      }
      console.log(`\n### Profiles\n${profiles.join('\n\n')}`);
    }

    if (opts.json) {
      await fs.mkdir(resolve(opts.json, '..'), { recursive: true });
      await fs.writeFile(opts.json, JSON.stringify({
        machine: { ...machine(), loadavg1AtStart: loadAtStart }, options: { ...opts, chunks: CHUNKS, paceMs: PACE_MS }, labels, figures, targets: checks, raw, translation: translationJson, profiles,
        requestPath: requestPathJson, against: againstJson,
      }, null, 2) + '\n');
      log(`wrote ${opts.json}`);
    }
    ok = true;
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => undefined);
    if (other) await other.remove();
    if (ok) await fs.rm(workDir, { recursive: true, force: true });
    else log(`kept ${workDir} (server logs) for diagnosis`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
