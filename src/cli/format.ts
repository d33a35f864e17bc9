/** Plain-text rendering of account summaries for `accounts list`. Pure. */
import type { AccountSummary } from '../core/account';

const ago = (seconds: number | null, now: number): string => {
  if (seconds == null) return 'never';
  const d = Math.max(0, now - seconds);
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
};

export function describeSummary(s: AccountSummary, now: number): string {
  switch (s.state) {
    case 'disabled':
      return s.disabled_reason ?? '';
    case 'proxy_disabled':
      return `${s.proxy_disabled_reason ?? 'manual'}${s.proxy_disabled_until ? ` until ${new Date(s.proxy_disabled_until * 1000).toISOString()}` : ''}`;
    default:
      return s.cooldowns
        .map((c) =>
          c.model_not_found
            ? `${c.model} not found in project ${s.project_id ?? '(the default)'}, tried again in ${c.until - now} s (${c.reason})`
            : `${c.model === '*' ? 'all models' : c.model} cooling ${c.until - now} s (${c.reason})`,
        )
        .join('; ');
  }
}

export function formatSummaryTable(summaries: AccountSummary[], now = Math.floor(Date.now() / 1000)): string {
  const rows = [
    ['EMAIL', 'STATE', 'LAST USED', 'REASON / COOLDOWNS'],
    ...summaries.map((s) => [s.email, s.state, ago(s.last_used, now), describeSummary(s, now)]),
  ];
  const widths = rows[0].slice(0, 3).map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => [...r.slice(0, 3).map((c, i) => c.padEnd(widths[i])), r[3]].join('  ').trimEnd()).join('\n');
}
