/**
 * The outbound HTTP dispatcher for every call to Google (OAuth and upstream). Corporate users sit
 * behind an HTTP proxy; a pool whose refreshes cannot reach Google serves nothing (DESIGN section 7).
 *
 * Order: `network.https_proxy` (with `network.no_proxy`), else HTTPS_PROXY / HTTP_PROXY / NO_PROXY
 * from the environment (either case, lower case first as curl does), else a keep-alive Agent.
 * `http://` targets are sent to the proxy in absolute form (`GET http://host/path`), which every
 * forward proxy accepts; `https://` targets are tunnelled with CONNECT.
 */
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { Config } from './config';
import { ConfigError } from './errors';

const keepAlive = { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 } as const;

export function createDispatcher(network: Config['network'], env: NodeJS.ProcessEnv = process.env): Dispatcher {
  if (network.https_proxy) {
    const proxy = proxyUrl(network.https_proxy, '"network.https_proxy"');
    return new EnvHttpProxyAgent({
      ...keepAlive,
      proxyTunnel: false,
      httpProxy: proxy,
      httpsProxy: proxy,
      noProxy: network.no_proxy ?? envValue(env, 'no_proxy') ?? '',
    });
  }
  const httpsProxy = envValue(env, 'https_proxy');
  const httpProxy = envValue(env, 'http_proxy');
  if (httpsProxy || httpProxy) {
    // Explicit values (an empty string means "none"): EnvHttpProxyAgent would otherwise read
    // process.env, not the environment handed in here.
    return new EnvHttpProxyAgent({
      ...keepAlive,
      proxyTunnel: false,
      httpProxy: httpProxy ? proxyUrl(httpProxy, 'HTTP_PROXY') : '',
      httpsProxy: proxyUrl(httpsProxy || httpProxy || '', httpsProxy ? 'HTTPS_PROXY' : 'HTTP_PROXY'),
      noProxy: network.no_proxy ?? envValue(env, 'no_proxy') ?? '',
    });
  }
  return new Agent(keepAlive);
}

/** The variable in lower case, else in upper case, else in any other casing; empty counts as unset. */
function envValue(env: NodeJS.ProcessEnv, lowerName: string): string | undefined {
  const direct = env[lowerName] || env[lowerName.toUpperCase()];
  if (direct) return direct;
  const key = Object.keys(env).find((k) => k.toLowerCase() === lowerName && env[k]);
  return key ? env[key] : undefined;
}

/** `proxy.corp:3128` means `http://proxy.corp:3128`, as curl reads it. */
function proxyUrl(value: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${source} is not a valid proxy URL`);
  }
  if (!['http:', 'https:', 'socks:', 'socks5:'].includes(url.protocol)) {
    throw new ConfigError(`${source} must be an http://, https:// or socks5:// URL, got ${url.protocol}//`);
  }
  return withScheme;
}
