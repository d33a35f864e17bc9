/**
 * What the status bar item shows for a proxy state and the pool's counts. Pure (no `vscode`).
 */
import type { PoolCounts } from '../core/pool';
import { baseUrl } from './healthProbe';
import type { ProxyState } from './proxyController';

export interface StatusView {
  text: string;
  tooltip: string;
  background?: 'warning' | 'error';
}

const countsLine = (c: PoolCounts): string =>
  `${c.healthy} healthy, ${c.cooling} cooling, ${c.proxy_disabled} proxy disabled, ${c.disabled} disabled (of ${c.total})`;

export function statusView(state: ProxyState, counts: PoolCounts | undefined): StatusView {
  const pool = counts ? `\nAccounts: ${countsLine(counts)}` : '';
  switch (state.kind) {
    case 'serving': {
      const c = counts ?? { total: 0, healthy: 0 };
      return {
        text: `$(radio-tower) ${c.healthy}/${c.total} :${state.port}`,
        tooltip: `Token Pool serving ${baseUrl(state.host, state.port)}${pool}${c.healthy === 0 ? '\nNo account is healthy: requests wait or fail.' : ''}`,
        ...(c.healthy === 0 ? { background: 'warning' as const } : {}),
      };
    }
    case 'sibling':
      return {
        text: '$(radio-tower) served by another window',
        tooltip: `Another Token Pool (another window or the CLI) serves ${baseUrl(state.host, state.port)}; this window takes over when it stops.${pool}`,
      };
    case 'foreign':
      return {
        text: `$(error) port ${state.port} in use by another program`,
        tooltip: `Port ${state.port} on ${state.host} belongs to a program that is not Token Pool. Set tokenpool.proxy.port to a free port.`,
        background: 'error',
      };
    case 'starting':
      return { text: `$(loading~spin) starting :${state.port}`, tooltip: `Token Pool is starting on ${baseUrl(state.host, state.port)}` };
    case 'failed':
      return { text: '$(error) Token Pool', tooltip: `Token Pool cannot start: ${state.message}`, background: 'error' };
    case 'stopped':
      return { text: '$(circle-slash) stopped', tooltip: `Token Pool proxy is stopped.${pool}` };
  }
}
