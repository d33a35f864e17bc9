/**
 * From raw rounds to figures (medians over rounds, added latency over direct, ratios against the
 * baseline of the same run), the targets of issue 5, and the tables printed and pasted into
 * BENCHMARKS.md.
 */
import type { ActivationFigures } from './activation';
import type { ExtensionFigures } from './extension-size';
import type { LoadResult } from './http-load';
import { mad, median, quantile } from './stats';
import { addedPerChunk, type StreamPair } from './stream-client';

export const CONCURRENCIES = [1, 16, 64] as const;
export type Concurrency = (typeof CONCURRENCIES)[number];
export const STREAM_CONCURRENCIES = [1, 16] as const;
export type StreamConcurrency = (typeof STREAM_CONCURRENCIES)[number];

/** rounds[r][target][c] */
export type HttpRounds = Record<string, Record<Concurrency, LoadResult>>[];
/** rounds[r][target][c] = the streams of that round, each with the direct stream beside it */
export type StreamRounds = Record<string, Record<StreamConcurrency, StreamPair[]>>[];

export interface ServeFigures { accounts: number; startMs: number; rssMbAtStart: number; rssMbAfterLoad: number; peakMb: number }
export interface PoolScaleFigures { accounts: number; loadMs: number[]; heapMb: number; rssMb: number; chooseUs: number; applyMs: number[]; applyCpuMs: number[] }

export interface HttpFigure {
  p50: number; p99: number; addedP50: number; addedP99: number;
  rps: number; cpuUsPerReq: number | null; p50Mad: number; rpsMad: number;
}
export interface StreamFigure {
  ttfcMs: number; addedTtfcMs: number; transitP50: number; transitP99: number;
  chunkAddedP50: number; chunkAddedP99: number; chunkAddedMax: number;
}

export interface Figures {
  http: Record<string, Record<Concurrency, HttpFigure>>;
  stream: Record<string, Record<StreamConcurrency, StreamFigure>>;
  serve: Record<string, ServeFigures>;
  pool: Record<string, { accounts: number; loadMs: number; heapMb: number; rssMb: number; chooseUs: number; applyMs: number; applyCpuMs: number }> | null;
  poolNote: string | null;
  activation: ActivationFigures | null;
  activationNote: string | null;
  extension: ExtensionFigures;
  sanity: { upstreamTokenCalls: number; distinctUpstreamTokens: number };
}

export interface TargetCheck { name: string; target: string; value: string; met: boolean | null; note?: string }

const paired = (rounds: HttpRounds, t: string, c: Concurrency, pick: (r: LoadResult) => number): number[] =>
  rounds.map((round) => pick(round[t][c]) - pick(round.direct[c]));

export function httpFigures(rounds: HttpRounds, targets: string[]): Figures['http'] {
  const out: Figures['http'] = {};
  for (const t of targets) {
    out[t] = {} as Record<Concurrency, HttpFigure>;
    for (const c of CONCURRENCIES) {
      const runs = rounds.map((round) => round[t][c]);
      const cpu = runs.map((r) => r.cpuMsPerReq).filter((v): v is number => v !== null);
      out[t][c] = {
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        addedP50: median(paired(rounds, t, c, (r) => r.p50)),
        addedP99: median(paired(rounds, t, c, (r) => r.p99)),
        rps: median(runs.map((r) => r.rps)),
        cpuUsPerReq: cpu.length ? median(cpu) * 1000 : null,
        p50Mad: mad(runs.map((r) => r.p50)),
        rpsMad: mad(runs.map((r) => r.rps)),
      };
    }
  }
  return out;
}

/**
 * Per round: chunk i through the target against chunk i of the direct stream that ran beside it
 * (see stream-client.ts), so machine stalls cancel. The "direct" row pairs direct with direct: it
 * is the noise floor, what "adds nothing" looks like on this machine.
 */
export function streamFigures(rounds: StreamRounds, targets: string[]): Figures['stream'] {
  const out: Figures['stream'] = {};
  for (const t of targets) {
    out[t] = {} as Record<StreamConcurrency, StreamFigure>;
    for (const c of STREAM_CONCURRENCIES) {
      const perRound = rounds.map((round) => {
        const pairs = round[t][c];
        const added = pairs.flatMap(addedPerChunk);
        const transit = pairs.flatMap((p) => p.mine.transitMs);
        return {
          ttfc: median(pairs.map((p) => p.mine.ttfcMs)),
          addedTtfc: median(pairs.map((p) => p.mine.ttfcMs - p.direct.ttfcMs)),
          transitP50: quantile(transit, 0.5),
          transitP99: quantile(transit, 0.99),
          p50: quantile(added, 0.5),
          p99: quantile(added, 0.99),
          max: Math.max(...added),
        };
      });
      const pick = (k: keyof (typeof perRound)[number]): number => median(perRound.map((r) => r[k]));
      out[t][c] = {
        ttfcMs: pick('ttfc'),
        addedTtfcMs: pick('addedTtfc'),
        transitP50: pick('transitP50'),
        transitP99: pick('transitP99'),
        chunkAddedP50: pick('p50'),
        chunkAddedP99: pick('p99'),
        chunkAddedMax: pick('max'),
      };
    }
  }
  return out;
}

export function poolFigures(scale: PoolScaleFigures[]): NonNullable<Figures['pool']> {
  const out: NonNullable<Figures['pool']> = {};
  for (const s of scale) {
    out[s.accounts] = {
      accounts: s.accounts,
      loadMs: median(s.loadMs),
      heapMb: s.heapMb,
      rssMb: s.rssMb,
      chooseUs: s.chooseUs,
      applyMs: median(s.applyMs),
      applyCpuMs: median(s.applyCpuMs),
    };
  }
  return out;
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;

export function checkTargets(f: Figures, rounds: HttpRounds, small: string, large: string): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const tp = f.http[small];
  checks.push({
    name: 'added p50 latency at c=1',
    target: '≤ 0.3 ms',
    value: `${fmt(tp[1].addedP50, 3)} ms (baseline ${fmt(f.http.baseline[1].addedP50, 3)} ms)`,
    met: tp[1].addedP50 <= 0.3,
  });
  const cpu16 = ratio(tp[16].cpuUsPerReq, f.http.baseline[16].cpuUsPerReq);
  const cpu64 = ratio(tp[64].cpuUsPerReq, f.http.baseline[64].cpuUsPerReq);
  checks.push({
    name: 'proxy CPU per request',
    target: '≤ baseline (×1.00)',
    value: `×${fmt(cpu16, 2)} at c=16, ×${fmt(cpu64, 2)} at c=64 (${fmt(tp[16].cpuUsPerReq, 0)} vs ${fmt(f.http.baseline[16].cpuUsPerReq, 0)} µs)`,
    met: cpu16 !== null && cpu64 !== null ? cpu16 <= 1 && cpu64 <= 1 : null,
  });
  const s = f.stream[small][1];
  checks.push({
    name: 'each streamed chunk forwarded within 1 ms',
    target: 'chunk +p99 ≤ 1 ms',
    value: `+p50 ${fmtSigned(s.chunkAddedP50, 3)}, +p99 ${fmtSigned(s.chunkAddedP99, 3)}, +max ${fmtSigned(s.chunkAddedMax, 2)} ms ` +
      `(baseline +p99 ${fmtSigned(f.stream.baseline[1].chunkAddedP99, 3)}, direct-vs-direct +p99 ${fmtSigned(f.stream.direct[1].chunkAddedP99, 3)})`,
    met: s.chunkAddedP99 <= 1,
  });
  const big = f.pool?.[10000];
  const one = f.pool?.[1];
  checks.push({
    name: '10,000 accounts: load',
    target: '≤ 1 s',
    value: big ? `${fmt(big.loadMs, 0)} ms (serve start ${fmt(f.serve[large]?.startMs, 0)} ms vs ${fmt(f.serve[small]?.startMs, 0)} ms)` : 'n/a',
    met: big ? big.loadMs <= 1000 : null,
    note: big ? undefined : f.poolNote ?? undefined,
  });
  checks.push({
    name: '10,000 accounts: choose an account',
    target: '≤ 5 µs',
    value: big && one ? `${fmt(big.chooseUs, 2)} µs (1 account: ${fmt(one.chooseUs, 2)} µs)` : 'n/a',
    met: big ? big.chooseUs <= 5 : null,
  });
  const memDelta = f.serve[large] && f.serve[small] ? f.serve[large].rssMbAtStart - f.serve[small].rssMbAtStart : null;
  const peakDelta = f.serve[large] && f.serve[small] ? f.serve[large].peakMb - f.serve[small].peakMb : null;
  checks.push({
    name: '10,000 accounts: memory over 1 account',
    target: '≤ 50 MB',
    value: `${fmtSigned(memDelta ?? NaN, 1)} MB RSS of serve after loading` + (big && one ? `, ${fmtSigned(big.heapMb - one.heapMb, 1)} MB heap in-process` : '') +
      ` (peak RSS under load ${fmtSigned(peakDelta ?? NaN, 1)} MB, depends on load)`,
    met: memDelta !== null ? memDelta <= 50 : null,
  });
  const diffs = rounds.map((r) => r[large][1].p50 - r[small][1].p50);
  const latencyNoise = Math.max(0.02, 3 * f.http[small][1].p50Mad);
  const rpsRatio = ratio(f.http[large][64].rps, f.http[small][64].rps);
  const rpsNoise = Math.max(0.05, (3 * f.http[small][64].rpsMad) / f.http[small][64].rps);
  checks.push({
    name: '10,000 accounts: latency as with 1 account',
    target: 'within noise',
    value: `c=1 p50 ${fmtSigned(median(diffs), 3)} ms (noise ±${fmt(latencyNoise, 3)}), c=64 rps ×${fmt(rpsRatio, 2)} (noise ±${fmt(rpsNoise, 2)})`,
    met: Math.abs(median(diffs)) <= latencyNoise && rpsRatio !== null && Math.abs(rpsRatio - 1) <= rpsNoise,
  });
  const activationMs = f.activation ? f.activation.storeAndPoolMs + f.activation.listenMs : null;
  checks.push({
    name: 'activation of the core, 100 accounts',
    target: '≤ 50 ms (store + pool + server start)',
    value: f.activation
      ? `${fmt(activationMs, 1)} ms (store+pool ${fmt(f.activation.storeAndPoolMs, 1)}, listen ${fmt(f.activation.listenMs, 1)}); require() of the bundle before it ${fmt(f.activation.requireMs, 1)} ms more`
      : 'n/a',
    met: activationMs !== null ? activationMs <= 50 : null,
    note: f.activation ? undefined : f.activationNote ?? undefined,
  });
  checks.push({
    name: '.vsix size',
    target: '≤ 1 MB',
    value: f.extension.vsixBytes !== null ? `${fmt(f.extension.vsixBytes / 1024, 1)} KiB` : 'n/a',
    met: f.extension.vsixBytes !== null ? f.extension.vsixBytes <= 1024 * 1024 : null,
    note: f.extension.note ?? undefined,
  });
  return checks;
}

export function fmt(v: number | null | undefined, digits: number): string {
  return v == null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}
export const fmtSigned = (v: number | null | undefined, digits: number): string => (v == null || !Number.isFinite(v) ? 'n/a' : (v >= 0 ? '+' : '') + fmt(v, digits));
const fmtRatio = (v: number | null): string => (v === null ? 'n/a' : `×${v.toFixed(2)}`);

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The latency, throughput and streaming tables: the request path. */
export function formatRequestPath(f: Pick<Figures, 'http' | 'stream'>, labels: Record<string, string>): string {
  const targets = Object.keys(f.http);
  const base = f.http.baseline;
  const latency = table(
    ['target', 'c=1 p50', 'c=1 p99', 'c=1 +p50', '×baseline', 'c=16 p50', 'c=16 p99', 'c=16 +p50', 'c=64 p50', 'c=64 p99', 'c=64 +p50'],
    targets.map((t) => {
      const h = f.http[t];
      return [
        labels[t], fmt(h[1].p50, 3), fmt(h[1].p99, 3), t === 'direct' ? '—' : fmtSigned(h[1].addedP50, 3),
        t === 'direct' ? '—' : fmtRatio(ratio(h[1].addedP50, base[1].addedP50)),
        fmt(h[16].p50, 2), fmt(h[16].p99, 2), t === 'direct' ? '—' : fmtSigned(h[16].addedP50, 2),
        fmt(h[64].p50, 2), fmt(h[64].p99, 2), t === 'direct' ? '—' : fmtSigned(h[64].addedP50, 2),
      ];
    }),
  );
  const throughput = table(
    ['target', 'req/s c=16', '×baseline', 'req/s c=64', '×baseline', 'CPU µs/req c=16', '×baseline', 'CPU µs/req c=64', '×baseline'],
    targets.map((t) => {
      const h = f.http[t];
      return [
        labels[t], fmt(h[16].rps, 0), fmtRatio(ratio(h[16].rps, base[16].rps)), fmt(h[64].rps, 0), fmtRatio(ratio(h[64].rps, base[64].rps)),
        t === 'direct' ? '—' : fmt(h[16].cpuUsPerReq, 0), t === 'direct' ? '—' : fmtRatio(ratio(h[16].cpuUsPerReq, base[16].cpuUsPerReq)),
        t === 'direct' ? '—' : fmt(h[64].cpuUsPerReq, 0), t === 'direct' ? '—' : fmtRatio(ratio(h[64].cpuUsPerReq, base[64].cpuUsPerReq)),
      ];
    }),
  );
  const streaming = table(
    ['target', 'first chunk', '+vs direct', 'transit p50', 'transit p99', 'chunk +p50', 'chunk +p99', 'chunk +max', 'c=16: first chunk', 'chunk +p50', 'chunk +p99', 'chunk +max'],
    targets.map((t) => {
      const s = f.stream[t];
      return [
        labels[t], fmt(s[1].ttfcMs, 3), fmtSigned(s[1].addedTtfcMs, 3), fmt(s[1].transitP50, 3), fmt(s[1].transitP99, 3),
        fmtSigned(s[1].chunkAddedP50, 3), fmtSigned(s[1].chunkAddedP99, 3), fmtSigned(s[1].chunkAddedMax, 2),
        fmt(s[16].ttfcMs, 2), fmtSigned(s[16].chunkAddedP50, 3), fmtSigned(s[16].chunkAddedP99, 3), fmtSigned(s[16].chunkAddedMax, 2),
      ];
    }),
  );
  return [
    '### Latency (ms; +p50 = added over direct, paired per round)', latency, '',
    '### Throughput and proxy CPU', throughput, '',
    '### Streaming (200 chunks 5 ms apart; ms; c=1 unless marked; + = over the direct stream run beside it, chunk by chunk; the direct row is the noise floor)', streaming,
  ].join('\n');
}

export function formatReport(f: Figures, checks: TargetCheck[], labels: Record<string, string>): string {
  const pool = table(
    ['accounts', 'serve start ms', 'RSS MB at start', 'RSS MB after load', 'peak RSS MB', 'pool.load ms', 'heap MB', 'choose µs', 'apply 1 file ms', 'apply CPU ms'],
    Object.values(f.serve).map((s) => {
      const p = f.pool?.[s.accounts];
      return [
        String(s.accounts), fmt(s.startMs, 0), fmt(s.rssMbAtStart, 1), fmt(s.rssMbAfterLoad, 1), fmt(s.peakMb, 1),
        fmt(p?.loadMs, 1), fmt(p?.heapMb, 1), fmt(p?.chooseUs, 2), fmt(p?.applyMs, 1), fmt(p?.applyCpuMs, 1),
      ];
    }),
  );
  const e = f.extension;
  const a = f.activation;
  const extension = table(
    ['figure', 'value'],
    [
      ['dist/extension.js (npm run build)', e.devBundleBytes === null ? 'n/a' : `${fmt(e.devBundleBytes / 1024, 1)} KiB`],
      ['dist/extension.js (production)', e.prodBundleBytes === null ? 'n/a' : `${fmt(e.prodBundleBytes / 1024, 1)} KiB`],
      ['dist/tokenpool.vsix', e.vsixBytes === null ? `n/a${e.note ? ` (${e.note})` : ''}` : `${fmt(e.vsixBytes / 1024, 1)} KiB`],
      ['core activation, 100 accounts (store + pool + server start)', a ? `${fmt(a.storeAndPoolMs + a.listenMs, 1)} ms (median of ${a.runs} fresh processes)` : `n/a (${f.activationNote})`],
      ['  config + store + pool.load + watch', a ? `${fmt(a.storeAndPoolMs, 1)} ms` : 'n/a'],
      ['  ProxyServer.listen', a ? `${fmt(a.listenMs, 1)} ms` : 'n/a'],
      ['require() of the bundled core before that', a ? `${fmt(a.requireMs, 1)} ms (${fmt(a.bundleBytes / 1024, 1)} KiB minified)` : 'n/a'],
      ['require() + activation', a ? `${fmt(a.totalMs, 1)} ms` : 'n/a'],
    ],
  );
  const goals = table(
    ['target', 'goal', 'measured', 'met'],
    checks.map((c) => [c.name, c.target, c.value + (c.note ? ` — ${c.note}` : ''), c.met === null ? 'n/a' : c.met ? 'yes' : 'NO']),
  );
  return [
    formatRequestPath(f, labels), '',
    '### Pool scale', pool, '',
    '### Extension', extension, '',
    '### Targets', goals, '',
    `Sanity: upstream token-endpoint calls during the run ${f.sanity.upstreamTokenCalls} (0 = no refresh happened); ` +
      `distinct Bearer tokens seen upstream ${f.sanity.distinctUpstreamTokens}.`,
  ].join('\n');
}
