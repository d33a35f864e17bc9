/**
 * This build against the build of another commit (`--against`), both `tokenpool serve` with one
 * account, measured in the same interleaved rounds: every figure is taken per round for both, so a
 * round the machine was busy in moves both. Ratios and differences are per round, then the median,
 * with the lowest and highest round beside it.
 */
import { CONCURRENCIES, STREAM_CONCURRENCIES, fmt, fmtSigned, table, type HttpRounds, type StreamRounds } from './report';
import { median, quantile } from './stats';
import { addedPerChunk, type StreamPair } from './stream-client';

/** One figure of both builds: medians over rounds, and this/other and this − other per round. */
export interface Compared {
  figure: string;
  unit: string;
  mine: number;
  other: number;
  ratio: Spread;
  difference: Spread;
}
export interface Spread { median: number; low: number; high: number }

export interface AgainstFigures {
  mineLabel: string;
  otherLabel: string;
  rounds: number;
  rows: Compared[];
}

const spread = (values: number[]): Spread => {
  const finite = values.filter(Number.isFinite);
  return { median: median(finite), low: Math.min(...finite), high: Math.max(...finite) };
};

function compare(figure: string, unit: string, mine: number[], other: number[]): Compared {
  return {
    figure,
    unit,
    mine: median(mine),
    other: median(other),
    ratio: spread(mine.map((m, r) => m / other[r])),
    difference: spread(mine.map((m, r) => m - other[r])),
  };
}

/** Chunk i through the proxy minus chunk i of the direct stream beside it, all streams of the round. */
const chunkAdded = (pairs: StreamPair[], q: number): number => quantile(pairs.flatMap(addedPerChunk), q);

export function againstFigures(http: HttpRounds, streams: StreamRounds, mine: string, other: string, labels: { mine: string; other: string }): AgainstFigures {
  const rows: Compared[] = [];
  for (const c of CONCURRENCIES) {
    const cpu = (t: string): number[] => http.map((r) => (r[t][c].cpuMsPerReq ?? NaN) * 1000);
    rows.push(compare(`CPU per request, c=${c}`, 'µs', cpu(mine), cpu(other)));
  }
  const added = (t: string, c: 1 | 16): number[] => http.map((r) => r[t][c].p50 - r.direct[c].p50);
  rows.push(compare('added p50 latency, c=1', 'ms', added(mine, 1), added(other, 1)));
  const rps = (t: string): number[] => http.map((r) => r[t][16].rps);
  rows.push(compare('requests/s, c=16', '/s', rps(mine), rps(other)));
  for (const c of STREAM_CONCURRENCIES) {
    for (const [q, name] of [[0.5, '+p50'], [0.99, '+p99']] as const) {
      const per = (t: string): number[] => streams.map((r) => chunkAdded(r[t][c], q));
      rows.push(compare(`streamed chunk ${name} over direct, c=${c}`, 'ms', per(mine), per(other)));
    }
  }
  const ttfc = (t: string): number[] => streams.map((r) => median(r[t][1].map((p) => p.mine.ttfcMs - p.direct.ttfcMs)));
  rows.push(compare('first chunk over direct, c=1', 'ms', ttfc(mine), ttfc(other)));
  return { mineLabel: labels.mine, otherLabel: labels.other, rounds: http.length, rows };
}

export function formatAgainst(f: AgainstFigures): string {
  const digits = (unit: string): number => (unit === 'ms' ? 3 : 0);
  const value = (v: number, unit: string): string => (unit === 'ms' ? fmtSigned(v, 3) : fmt(v, digits(unit)));
  const rows = f.rows.map((r) => [
    `${r.figure} (${r.unit})`,
    value(r.mine, r.unit),
    value(r.other, r.unit),
    `×${fmt(r.ratio.median, 2)} (×${fmt(r.ratio.low, 2)} to ×${fmt(r.ratio.high, 2)})`,
    `${fmtSigned(r.difference.median, digits(r.unit))} (${fmtSigned(r.difference.low, digits(r.unit))} to ${fmtSigned(r.difference.high, digits(r.unit))})`,
  ]);
  return [
    `### Against ${f.otherLabel} (same rounds; per round, then the median, lowest to highest round in brackets; ${f.rounds} rounds)`,
    table(['figure', f.mineLabel, f.otherLabel, 'this / other', 'this − other'], rows),
  ].join('\n');
}
