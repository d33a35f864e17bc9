/**
 * URLs on the request path without a `URL` per request (about 3 µs each for the incoming target and
 * the upstream URL, BENCHMARKS.md). A plain URL, as clients and the upstream targets use them
 * (`/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`), is one the WHATWG parser would
 * return as it is, so it is split at its `/` and `?` instead; anything else (dot segments, `%` in the
 * path, characters the parser escapes or rewrites, a fragment, credentials) goes through `URL` as
 * before, so the result is the same either way (test/unit/proxy-url-split.test.ts compares them).
 */
import { HttpError } from './errors';

/** A path and query of characters the WHATWG parser leaves alone in an http(s) URL (an empty query it drops; a second `?` is left to it too). */
const PLAIN = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/%]+)?$/;
/** `.` or `..` as a whole segment: the parser removes them (a false match in the query only costs the slow path). */
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;
/** scheme://host[:port], no credentials; undici parses the origin itself (once per connection pool). */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?=\/)/;

const isPlain = (pathAndQuery: string): boolean => PLAIN.test(pathAndQuery) && !DOT_SEGMENT.test(pathAndQuery);

/** What routing and the key check read of an incoming request's target. */
export interface RequestUrl {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/** The request target (`req.url`) as a path: `//host/x` stays a path here, never a host. 400 when it is not origin-form. */
export function parseRequestUrl(target: string | undefined): RequestUrl {
  const raw = target ?? '/';
  if (isPlain(raw)) {
    const q = raw.indexOf('?');
    return q < 0 ? { pathname: raw, searchParams: new URLSearchParams() } : { pathname: raw.slice(0, q), searchParams: new URLSearchParams(raw.slice(q + 1)) };
  }
  try {
    if (!raw.startsWith('/')) throw new Error('not origin-form');
    return new URL(`http://localhost${raw}`);
  } catch {
    throw new HttpError(400, 'Malformed request URL', { reason: 'bad_url' });
  }
}

/**
 * An upstream URL as undici's `dispatcher.request` takes it: the origin, and the path with its query,
 * as undici's top-level `request(url)` derived them. Throws (TypeError) on a URL that does not parse.
 */
export function splitUpstreamUrl(url: string): { origin: string; path: string } {
  const origin = ORIGIN.exec(url)?.[0];
  if (origin !== undefined) {
    const path = url.slice(origin.length);
    if (isPlain(path)) return { origin, path };
  }
  const parsed = new URL(url);
  return { origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname };
}
