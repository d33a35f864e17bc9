/**
 * Which headers cross the proxy. Upstream: the client's headers minus its own credentials, hop-by-hop
 * headers and anything the proxy sets itself, plus the account's Bearer token. Back to the client:
 * only a small allowlist, never upstream headers wholesale (they could name the account).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Header the client may send to pin a session to one account (not forwarded). */
export const SESSION_HEADER = 'x-tokenpool-session';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings',
]);

/** The client's credentials and browser context: never sent to Google. */
const CLIENT_CREDENTIALS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'cookie']);

/** Set by the proxy for each attempt (length, compression, host, billing project). */
const PROXY_OWNED = new Set([
  'host', 'content-length', 'content-type', 'accept-encoding', 'x-goog-user-project', 'origin', 'referer', SESSION_HEADER,
]);

/** Every header name dropped whatever the client's Connection header says: one lookup per header. */
const DROPPED = new Set([...HOP_BY_HOP, ...CLIENT_CREDENTIALS, ...PROXY_OWNED]);

/** Built as one object, with no Set per request unless Connection names more than `keep-alive` (BENCHMARKS.md). */
export function upstreamHeaders(
  client: IncomingHttpHeaders,
  accessToken: string,
  extra: Record<string, string>,
): Record<string, string> {
  const named = connectionNamed(client.connection);
  const out: Record<string, string> = {}; // a header named __proto__ is dropped: assigning a string to it is a no-op
  for (const name in client) {
    const value = client[name];
    const key = name.toLowerCase();
    if (value === undefined || DROPPED.has(key) || named?.has(key)) continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  for (const name in extra) out[name] = extra[name];
  out.authorization = `Bearer ${accessToken}`;
  out['content-type'] = 'application/json';
  // Chunks must pass through as they arrive: no compression to buffer behind.
  out['accept-encoding'] = 'identity';
  return out;
}

/** The header names a Connection header lists (hop-by-hop too); undefined for none or only `keep-alive`, which is dropped anyway. */
function connectionNamed(connection: string | undefined): Set<string> | undefined {
  if (!connection || connection === 'keep-alive') return undefined;
  return new Set(
    connection
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}

const RESPONSE_ALLOWLIST = ['content-type', 'content-length', 'content-encoding'];

/** What of a 2xx upstream answer's headers the client sees. A stream is marked never to be buffered or cached. */
export function clientHeaders(
  upstream: Record<string, string | string[] | undefined>,
  stream: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RESPONSE_ALLOWLIST) {
    const value = upstream[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value[0] : value;
  }
  if (stream) {
    delete out['content-length'];
    out['cache-control'] = 'no-cache';
    out['x-accel-buffering'] = 'no';
  }
  return out;
}
