/**
 * Where the dashboard reads from (pure): the proxy this window serves, the tokenpool another window
 * or the CLI serves on the configured port, or nothing, with what to tell the user.
 */
import type { Source } from '../../webview/dashboard/protocol';
import { baseUrl } from '../healthProbe';
import type { ProxyState } from '../proxyController';

/**
 * `holder` is what answers `/healthz` on the configured port, asked only when this window's state
 * does not say (stopped, failed): the CLI may serve there.
 */
export function dataSource(state: ProxyState, configured: { host: string; port: number }, holder?: 'tokenpool' | 'other'): Source {
  switch (state.kind) {
    case 'serving':
      return { kind: 'connected', baseUrl: baseUrl(state.host, state.port), servedHere: true };
    case 'sibling':
      return { kind: 'connected', baseUrl: baseUrl(state.host, state.port), servedHere: false };
    case 'starting':
      return { kind: 'unavailable', message: 'The proxy is starting…' };
    case 'foreign':
      return { kind: 'unavailable', message: `Port ${state.port} is in use by another program, so there is no proxy to read from. Set tokenpool.proxy.port to a free port.` };
    case 'stopped':
    case 'failed':
      if (holder === 'tokenpool') return { kind: 'connected', baseUrl: baseUrl(configured.host, configured.port), servedHere: false };
      return {
        kind: 'unavailable',
        message: state.kind === 'failed'
          ? `The proxy cannot start: ${state.message}`
          : 'The proxy is stopped. Usage and requests are read from a running proxy (this window, another window or the tokenpool command).',
      };
  }
}

/** True when `dataSource` needs to know who holds the configured port. */
export const needsProbe = (state: ProxyState): boolean => state.kind === 'stopped' || state.kind === 'failed';
