/**
 * Who may talk to the local server (DESIGN section 6, Security). A local server is reachable from
 * every web page the user opens, so: the Host header must name this server (DNS rebinding), a
 * cross-site Origin is refused unless allowed, and the API key is compared in constant time.
 * Pure functions, table-tested.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMode } from '../core/config';
import { isLoopbackHost } from '../core/config';

/** What a route needs: `health` follows auth_mode's exception, `admin` always needs the key. */
export type Access = 'health' | 'api' | 'admin';

export function keyRequired(access: Access, authMode: AuthMode): boolean {
  if (access === 'admin') return true;
  if (authMode === 'off') return false;
  return access === 'api' || authMode === 'strict';
}

/** Splits a Host header into name and port (80 when absent); undefined when it is not a valid host. */
export function parseHostHeader(host: string): { name: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!match) return undefined;
  const port = match[2] === undefined ? 80 : Number(match[2]);
  if (port > 65535) return undefined;
  return { name: match[1].toLowerCase(), port };
}

const WILDCARD_BINDS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The Host header must be a loopback name with the port we listen on, or the address we were told to
 * bind (an explicit address cannot be rebound), or an entry of `allowed_hosts` (`name` matches any
 * port, `name:port` only that one).
 */
export function isAllowedHost(
  hostHeader: string | undefined,
  server: { port: number; bindHost: string; allowedHosts: readonly string[] },
): boolean {
  if (!hostHeader) return false;
  const host = parseHostHeader(hostHeader);
  if (!host) return false;
  const whole = hostHeader.trim().toLowerCase();
  for (const entry of server.allowedHosts) {
    const allowed = entry.trim().toLowerCase();
    if (allowed === whole || allowed === host.name) return true;
  }
  if (host.port !== server.port) return false;
  if (isLoopbackHost(host.name)) return true;
  const bind = server.bindHost.toLowerCase();
  if (WILDCARD_BINDS.has(bind)) return false;
  return host.name === bind || host.name === `[${bind}]`;
}

const normalizeOrigin = (origin: string): string => origin.trim().replace(/\/+$/, '').toLowerCase();

/** No Origin header (not a browser, or same-origin GET) passes; any other must be allowed by name. */
export function isAllowedOrigin(origin: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (origin === undefined) return true;
  const wanted = normalizeOrigin(origin);
  return allowedOrigins.some((o) => normalizeOrigin(o) === wanted);
}

/**
 * The key the client presented, from the first of: `Authorization: Bearer` (OpenAI SDK),
 * `x-api-key` (Anthropic SDK), `x-goog-api-key` (Gemini SDK), `?key=` (Gemini REST).
 */
export function presentedKey(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value) || undefined;
  };
  return bearer || header('x-api-key') || header('x-goog-api-key') || query.get('key') || undefined;
}

const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * The API key check, with the configured key hashed once. Constant-time: the presented key is hashed
 * to the same length first, so neither the content nor the length of the key leaks through timing.
 * An empty configured key matches nothing.
 */
export function keyMatcher(expected: string): (presented: string | undefined) => boolean {
  if (!expected) return () => false;
  const expectedDigest = digest(expected);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expectedDigest);
}
