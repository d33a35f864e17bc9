/** Plain-text rendering of the usage rows and request records for `tokenpool usage` / `requests`. Pure. */
import type { UsageKey, UsageRow } from '../core/usage/aggregates';
import type { UsageReport } from '../core/usage/ledger';
import type { RequestRecord } from '../core/usage/record';

const HEADS: Record<UsageKey, string> = { account: 'ACCOUNT', model: 'MODEL', hour: 'HOUR', day: 'DAY' };
const FIGURES: [string, (r: UsageRow) => number | null][] = [
  ['REQUESTS', (r) => r.requests],
  ['OK', (r) => r.ok],
  ['ERRORS', (r) => r.errors],
  ['INPUT', (r) => r.input_tokens],
  ['OUTPUT', (r) => r.output_tokens],
  ['CACHED', (r) => r.cached_tokens],
  ['THINKING', (r) => r.thinking_tokens],
  ['P50 MS', (r) => r.p50_ms],
  ['P95 MS', (r) => r.p95_ms],
];

/** The rows as a table (keys left-aligned, figures right-aligned), under a line naming the period. */
export function formatUsageTable(report: UsageReport, by: readonly UsageKey[]): string {
  const period = `${report.since} .. ${report.until}`;
  if (report.rows.length === 0) return `no requests from ${period}`;
  const keyCell = (r: UsageRow, k: UsageKey): string => (k === 'account' ? (r.account ?? '(none)') : String(r[k] ?? ''));
  const rows = [
    [...by.map((k) => HEADS[k]), ...FIGURES.map(([head]) => head)],
    ...report.rows.map((r) => [...by.map((k) => keyCell(r, k)), ...FIGURES.map(([, get]) => String(get(r) ?? '-'))]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i < by.length ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [period, ...rows.map(line)].join('\n');
}

const seconds = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** One line per request: time, protocol, model (-> upstream), account, status and outcome, tokens, timings, failed attempts. */
export function formatRequest(r: RequestRecord): string {
  const model = r.model === r.upstream_model ? r.model : `${r.model} -> ${r.upstream_model}`;
  const parts = [
    r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    r.protocol + (r.stream ? ' (stream)' : ''),
    model,
    r.account ?? '(no account)',
    `${r.status} ${r.outcome}`,
    `tokens in ${r.input_tokens} out ${r.output_tokens}${r.cached_tokens ? ` cached ${r.cached_tokens}` : ''}${r.thinking_tokens ? ` thinking ${r.thinking_tokens}` : ''}`,
    `${r.ttfb_ms !== null ? `first byte ${seconds(r.ttfb_ms)}, ` : ''}${seconds(r.duration_ms)}`,
  ];
  if (r.attempts.length) parts.push(`failed: ${r.attempts.map((a) => `${a.account} ${a.status}`).join(', ')}`);
  return parts.join('  ');
}
