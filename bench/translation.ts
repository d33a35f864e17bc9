/**
 * The translated contenders (issues 8 and 9): Anthropic Messages, OpenAI Responses and OpenAI Chat on
 * a Gemini model, which `tokenpool serve` sends to Vertex `streamGenerateContent?alt=sse` or
 * `generateContent` and translates back, beside the native Gemini pass-through through the same
 * process and a direct connection to the upstream. Interleaved round by round like the rest of the
 * bench; every "+vs native" is paired within a round.
 *   streamed:     proxy CPU per streamed event (the process's on-CPU time over the streams / events)
 *                 and the added latency per chunk against a direct Gemini stream run beside it
 *   non-streamed: a 10 KB Gemini answer, CPU per answer and latency at c = 1 and 16
 */
import { loadavg } from 'node:os';
import { BENCH_MODEL } from './datadir';
import { runLoad, type LoadRequest, type LoadResult } from './http-load';
import { cpuMsFine, type Server } from './procs';
import { fmt, fmtSigned, STREAM_CONCURRENCIES, streamFigures, table, type Figures, type StreamConcurrency, type StreamFigure, type TargetCheck } from './report';
import { mad, median } from './stats';
import { streamBatch, type StreamEndpoint, type StreamPair } from './stream-client';

export const WHOLE_CONCURRENCIES = [1, 16] as const;
export type WholeConcurrency = (typeof WHOLE_CONCURRENCIES)[number];

/** What the section compares against: the native pass-through through the same process. */
export const NATIVE = 'gemini-native';
const TRANSLATED = ['anthropic', 'responses', 'chat'] as const;

/** Streamed per event and whole per answer: the most translation may add over the native pass-through. */
export const STREAM_CPU_TARGET_US = 50;
export const WHOLE_CPU_TARGET_US = 1000;
/** The tokenpool / baseline CPU ratio at c = 16 in BENCHMARKS.md's results before translation. */
export const PREVIOUS_NATIVE_CPU_RATIO = 1.3;

export interface Contender {
  name: string;
  label: string;
  stream: StreamEndpoint;
  whole: LoadRequest;
}

export interface TranslationRound {
  loadavg1: number;
  stream: Record<string, Record<StreamConcurrency, { pairs: StreamPair[]; cpuMs: number | null; events: number }>>;
  whole: Record<string, Record<WholeConcurrency, LoadResult>>;
}

export interface WholeFigure { p50: number; p99: number; addedP50: number; rps: number; cpuUsPerReq: number | null; addedCpuUs: number | null }
export interface TranslationFigures {
  stream: Record<string, Record<StreamConcurrency, StreamFigure & { cpuUsPerEvent: number | null; addedCpuUs: number | null; addedCpuMad: number | null }>>;
  whole: Record<string, Record<WholeConcurrency, WholeFigure>>;
  loadavg: { min: number; max: number };
  answerBytes: number;
}

const PROMPT = 'Count to 200.';
const GEMINI_VERTEX_PATH = `/v1/projects/bench/locations/us-central1/publishers/google/models/${BENCH_MODEL}`;

/** The request each client sends, streamed or not. */
const bodies: Record<string, (stream: boolean) => unknown> = {
  gemini: () => ({ contents: [{ role: 'user', parts: [{ text: PROMPT }] }], generationConfig: { maxOutputTokens: 4096 } }),
  anthropic: (stream) => ({ model: BENCH_MODEL, max_tokens: 4096, stream, messages: [{ role: 'user', content: PROMPT }] }),
  responses: (stream) => ({ model: BENCH_MODEL, max_output_tokens: 4096, stream, input: PROMPT }),
  chat: (stream) => ({ model: BENCH_MODEL, max_tokens: 4096, stream, messages: [{ role: 'user', content: PROMPT }] }),
};

/** direct, the native Gemini pass-through, and the translated contenders, all on `serve` (one account). */
export function translationContenders(upstreamUrl: string, serve: Server, apiKey: string): Contender[] {
  const json = { 'content-type': 'application/json' };
  const make = (name: string, label: string, base: string, paths: { stream: string; whole: string }, protocol: string, headers: Record<string, string>, pid?: number): Contender => {
    const all = { ...json, ...headers };
    const whole = JSON.stringify(bodies[protocol](false));
    return {
      name,
      label,
      stream: { url: base + paths.stream, headers: all, body: JSON.stringify(bodies[protocol](true)), warm: { url: base + paths.whole, body: whole } },
      whole: { url: base + paths.whole, headers: all, body: whole, pid },
    };
  };
  const same = (path: string) => ({ stream: path, whole: path });
  return [
    make('direct', 'direct (the upstream)', upstreamUrl,
      { stream: `${GEMINI_VERTEX_PATH}:streamGenerateContent?alt=sse`, whole: `${GEMINI_VERTEX_PATH}:generateContent` }, 'gemini', { authorization: 'Bearer bench' }),
    make(NATIVE, 'Gemini native (pass-through)', serve.url,
      { stream: `/v1beta/models/${BENCH_MODEL}:streamGenerateContent?alt=sse`, whole: `/v1beta/models/${BENCH_MODEL}:generateContent` }, 'gemini',
      { 'x-goog-api-key': apiKey }, serve.pid),
    make('anthropic', 'Anthropic Messages → Gemini', serve.url, same('/v1/messages'), 'anthropic',
      { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' }, serve.pid),
    make('responses', 'OpenAI Responses → Gemini', serve.url, same('/v1/responses'), 'responses', { authorization: `Bearer ${apiKey}` }, serve.pid),
    make('chat', 'OpenAI Chat → Gemini', serve.url, same('/v1/chat/completions'), 'chat', { authorization: `Bearer ${apiKey}` }, serve.pid),
  ];
}

/** Each contender answers once, whole, with the 10 KB text in its own shape. */
export async function checkContenders(contenders: Contender[]): Promise<number> {
  let answerBytes = 0;
  for (const c of contenders) {
    const res = await fetch(c.whole.url, { method: 'POST', headers: c.whole.headers, body: c.whole.body });
    const text = await res.text();
    if (res.status !== 200 || !text.includes('1. The pool picks the account')) {
      throw new Error(`${c.label}: POST ${c.whole.url} answered ${res.status}: ${text.slice(0, 300)}`);
    }
    if (c.name === 'direct') answerBytes = Buffer.byteLength(text);
  }
  return answerBytes;
}

const rotate = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]);

export async function translationRounds(
  contenders: Contender[],
  opts: { rounds: number; durationS: number; warmS: number; serialStreams: number; chunks: number },
  log: (line: string) => void,
): Promise<TranslationRound[]> {
  const direct = contenders.find((c) => c.name === 'direct')!;
  const batch = (c: Contender, n: StreamConcurrency) => streamBatch(c.stream, direct.stream, n, opts.serialStreams, opts.chunks,
    c.whole.pid ? () => cpuMsFine(c.whole.pid!) : undefined).catch((err: Error) => {
    throw new Error(`${c.label}, ${n} stream(s): ${err.message}`);
  });
  log(`translation: warming up (${opts.warmS} s per contender, one stream each)`);
  for (const c of contenders) {
    await runLoad(c.whole, 16, opts.warmS);
    await batch(c, 1);
  }
  const rounds: TranslationRound[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const round: TranslationRound = { loadavg1: loadavg()[0], stream: {}, whole: {} };
    for (const c of rotate(contenders, r)) {
      round.stream[c.name] = {} as TranslationRound['stream'][string];
      for (const n of rotate(STREAM_CONCURRENCIES, r)) {
        const { pairs, cpuMs } = await batch(c, n);
        round.stream[c.name][n] = { pairs, cpuMs, events: pairs.length * opts.chunks };
      }
    }
    for (const n of rotate(WHOLE_CONCURRENCIES, r)) {
      for (const c of rotate(contenders, r)) {
        const result = await runLoad(c.whole, n, opts.durationS);
        if (result.failed > 0 || result.ok === 0) throw new Error(`${c.label} c=${n}: ${result.failed} failed, ${result.ok} ok requests`);
        (round.whole[c.name] ??= {} as TranslationRound['whole'][string])[n] = result;
      }
    }
    rounds.push(round);
    log(`translation round ${r + 1}/${opts.rounds} done (load average ${round.loadavg1.toFixed(2)})`);
  }
  return rounds;
}

const cpuPerEventUs = (b: { cpuMs: number | null; events: number }): number | null => (b.cpuMs === null ? null : (b.cpuMs * 1000) / b.events);

export function translationFigures(rounds: TranslationRound[], names: string[], answerBytes: number): TranslationFigures {
  const streams = streamFigures(rounds.map((r) => Object.fromEntries(names.map((n) => [n, {
    1: r.stream[n][1].pairs, 16: r.stream[n][16].pairs,
  }]))), names);
  const loads = rounds.map((r) => r.loadavg1);
  const out: TranslationFigures = { stream: {}, whole: {}, loadavg: { min: Math.min(...loads), max: Math.max(...loads) }, answerBytes };
  const finite = (values: (number | null)[]): number[] => values.filter((v): v is number => v !== null && Number.isFinite(v));
  const orNull = (values: number[], f: (v: number[]) => number): number | null => (values.length ? f(values) : null);
  for (const n of names) {
    out.stream[n] = {} as TranslationFigures['stream'][string];
    for (const c of STREAM_CONCURRENCIES) {
      const mine = rounds.map((r) => cpuPerEventUs(r.stream[n][c]));
      const added = finite(rounds.map((r, i) => (mine[i] === null ? null : mine[i]! - (cpuPerEventUs(r.stream[NATIVE][c]) ?? NaN))));
      out.stream[n][c] = { ...streams[n][c], cpuUsPerEvent: orNull(finite(mine), median), addedCpuUs: orNull(added, median), addedCpuMad: orNull(added, mad) };
    }
    out.whole[n] = {} as TranslationFigures['whole'][string];
    for (const c of WHOLE_CONCURRENCIES) {
      const runs = rounds.map((r) => r.whole[n][c]);
      const cpu = finite(runs.map((x) => (x.cpuMsPerReq === null ? null : x.cpuMsPerReq * 1000)));
      const addedCpu = finite(rounds.map((r) => {
        const a = r.whole[n][c].cpuMsPerReq;
        const b = r.whole[NATIVE][c].cpuMsPerReq;
        return a === null || b === null ? null : (a - b) * 1000;
      }));
      out.whole[n][c] = {
        p50: median(runs.map((x) => x.p50)),
        p99: median(runs.map((x) => x.p99)),
        addedP50: median(rounds.map((r) => r.whole[n][c].p50 - r.whole.direct[c].p50)),
        rps: median(runs.map((x) => x.rps)),
        cpuUsPerReq: orNull(cpu, median),
        addedCpuUs: orNull(addedCpu, median),
      };
    }
  }
  return out;
}

/**
 * The section's targets; `native` (the main bench's figures of the same run, when it ran) judges
 * "native paths not slower": tokenpool/baseline CPU at c = 16 against ×1.30 before translation, within
 * 3 × the round-to-round deviation of this run's ratio (at least 0.05).
 */
export function translationChecks(f: TranslationFigures, native?: { figures: Figures; ratios16: number[] }): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const s = f.stream;
  for (const t of TRANSLATED) {
    if (!s[t]) continue;
    const worst = Math.max(s[t][1].addedCpuUs ?? NaN, s[t][16].addedCpuUs ?? NaN);
    checks.push({
      name: `${t}: proxy CPU per streamed event over native`,
      target: `≤ ${STREAM_CPU_TARGET_US} µs`,
      value: `c=16 ${fmtSigned(s[t][16].addedCpuUs, 1)} ±${fmt(s[t][16].addedCpuMad, 1)} µs (${fmt(s[t][16].cpuUsPerEvent, 1)} vs ${fmt(s[NATIVE][16].cpuUsPerEvent, 1)}), ` +
        `c=1 ${fmtSigned(s[t][1].addedCpuUs, 1)} ±${fmt(s[t][1].addedCpuMad, 1)} µs (${fmt(s[t][1].cpuUsPerEvent, 1)} vs ${fmt(s[NATIVE][1].cpuUsPerEvent, 1)}); ` +
        `chunk +p50 ${fmtSigned(s[t][1].chunkAddedP50 - s[NATIVE][1].chunkAddedP50, 3)} ms over native`,
      met: Number.isFinite(worst) ? worst <= STREAM_CPU_TARGET_US : null,
    });
  }
  for (const t of TRANSLATED) {
    const w = f.whole[t];
    if (!w) continue;
    const worst = Math.max(w[1].addedCpuUs ?? NaN, w[16].addedCpuUs ?? NaN);
    checks.push({
      name: `${t}: proxy CPU per ${(f.answerBytes / 1024).toFixed(0)} KB answer over native`,
      target: `≤ ${WHOLE_CPU_TARGET_US / 1000} ms`,
      value: `c=16 ${fmtSigned(w[16].addedCpuUs, 0)} µs (${fmt(w[16].cpuUsPerReq, 0)} vs ${fmt(f.whole[NATIVE][16].cpuUsPerReq, 0)}), ` +
        `c=1 ${fmtSigned(w[1].addedCpuUs, 0)} µs; c=1 p50 ${fmtSigned(w[1].p50 - f.whole[NATIVE][1].p50, 3)} ms over native`,
      met: Number.isFinite(worst) ? worst <= WHOLE_CPU_TARGET_US : null,
    });
  }
  if (native) {
    const ratio = median(native.ratios16);
    const noise = Math.max(0.05, 3 * mad(native.ratios16));
    checks.push({
      name: 'native paths not slower (tokenpool 1 account / baseline CPU, c=16)',
      target: `≤ ×${PREVIOUS_NATIVE_CPU_RATIO.toFixed(2)} + noise`,
      value: `×${fmt(ratio, 2)} (rounds ×${fmt(Math.min(...native.ratios16), 2)}–×${fmt(Math.max(...native.ratios16), 2)}, noise ±${fmt(noise, 2)}); ` +
        `${fmt(native.figures.http['tokenpool-1'][16].cpuUsPerReq, 0)} vs ${fmt(native.figures.http.baseline[16].cpuUsPerReq, 0)} µs`,
      met: ratio <= PREVIOUS_NATIVE_CPU_RATIO + noise,
    });
  }
  return checks;
}

export function formatTranslation(f: TranslationFigures, checks: TargetCheck[], labels: Record<string, string>): string {
  const names = Object.keys(f.stream);
  const native = (n: string) => n === NATIVE || n === 'direct';
  const streamed = table(
    ['contender', 'CPU µs/event c=1', '+vs native', 'CPU µs/event c=16', '+vs native', 'first chunk', '+vs direct', 'chunk +p50', 'chunk +p99', 'c=16: chunk +p50', 'chunk +p99'],
    names.map((n) => {
      const s = f.stream[n];
      return [
        labels[n], fmt(s[1].cpuUsPerEvent, 1), native(n) ? '—' : fmtSigned(s[1].addedCpuUs, 1), fmt(s[16].cpuUsPerEvent, 1), native(n) ? '—' : fmtSigned(s[16].addedCpuUs, 1),
        fmt(s[1].ttfcMs, 3), fmtSigned(s[1].addedTtfcMs, 3), fmtSigned(s[1].chunkAddedP50, 3), fmtSigned(s[1].chunkAddedP99, 3), fmtSigned(s[16].chunkAddedP50, 3), fmtSigned(s[16].chunkAddedP99, 3),
      ];
    }),
  );
  const whole = table(
    ['contender', 'c=1 p50', 'c=1 +p50', 'c=16 p50', 'c=16 p99', 'req/s c=16', 'CPU µs/answer c=1', '+vs native', 'CPU µs/answer c=16', '+vs native'],
    names.map((n) => {
      const w = f.whole[n];
      return [
        labels[n], fmt(w[1].p50, 3), n === 'direct' ? '—' : fmtSigned(w[1].addedP50, 3), fmt(w[16].p50, 2), fmt(w[16].p99, 2), fmt(w[16].rps, 0),
        n === 'direct' ? '—' : fmt(w[1].cpuUsPerReq, 0), native(n) ? '—' : fmtSigned(w[1].addedCpuUs, 0),
        n === 'direct' ? '—' : fmt(w[16].cpuUsPerReq, 0), native(n) ? '—' : fmtSigned(w[16].addedCpuUs, 0),
      ];
    }),
  );
  const goals = table(['target', 'goal', 'measured', 'met'], checks.map((c) => [c.name, c.target, c.value, c.met === null ? 'n/a' : c.met ? 'yes' : 'NO']));
  return [
    `### Translation, streamed (Gemini SSE, ms unless marked; CPU = tokenpool's on-CPU time over the streams / events; load average ${fmt(f.loadavg.min, 2)}–${fmt(f.loadavg.max, 2)} over the rounds)`,
    streamed, '',
    `### Translation, non-streamed (a ${fmt(f.answerBytes / 1024, 1)} KiB Gemini answer; ms)`, whole, '',
    '### Translation targets', goals,
  ].join('\n');
}
