/**
 * The request path splits URLs itself when they are plain (urlSplit.ts); the answer must be the one
 * the WHATWG `URL` gives, for every target a client or a config could produce. Each table row is
 * checked against `URL` directly, and so are a few thousand generated from the characters the parser
 * treats specially.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpError } from '../../src/proxy/errors';
import { parseRequestUrl, splitUpstreamUrl } from '../../src/proxy/urlSplit';

/** What the server read from a target before: `new URL` against a dummy origin. */
const viaUrl = (target: string) => new URL(`http://localhost${target}`);
const params = (p: URLSearchParams): [string, string][] => [...p];

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const ALPHABET = ['a', 'Z', '0', '/', '/', '.', '..', '?', '&', '=', '%', '%2e', '%2E', '%41', '#', ' ', '"', "'", '<', '>', '\\', '^', '`', '{', '}', '|', '[', ']', '+', ':', '@', '!', '$', '~', '-', '_', ',', ';', '*', '(', ')', 'é', '\t', '%zz', '?a=b'];
function targets(count: number, seed: number): string[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    let t = '/';
    const length = 1 + Math.floor(next() * 12);
    for (let i = 0; i < length; i++) t += ALPHABET[Math.floor(next() * ALPHABET.length)];
    return t;
  });
}

describe('parseRequestUrl: the incoming target, as URL reads it', () => {
  const table = [
    '/',
    '/v1/chat/completions',
    '/v1/messages?beta=true',
    '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    '/v1beta/models/gemini-2.5-flash:generateContent?key=tp-abc&alt=json',
    '/v1/models/',
    '//evil.example/v1/chat/completions',
    '/v1/../v1/chat/completions',
    '/v1/./chat/completions',
    '/v1/%2e%2e/admin/accounts',
    '/v1/chat/completions?',
    '/v1/chat/completions?a=1&a=2&b',
    '/v1/chat/completions??a=b',
    '/v1/chat/completions?q=a+b%20c',
    '/v1/chat/completions?q="x"&r=<y>',
    '/v1/chat/completions#frag',
    '/v1 /chat',
    '/v1\\chat',
    '/v1/chat/completions?key=%ZZ',
    "/v1/it's/fine?it's=too",
    '/v1/models/claude-sonnet-4@20250514:rawPredict',
  ];
  const check = (target: string): void => {
    const mine = parseRequestUrl(target);
    const theirs = viaUrl(target);
    assert.equal(mine.pathname, theirs.pathname, target);
    assert.deepEqual(params(mine.searchParams), params(theirs.searchParams), target);
  };
  for (const target of table) test(JSON.stringify(target), () => check(target));
  test('generated targets', () => targets(3000, 14).forEach(check));

  test('a plain target is split, not parsed', () => {
    assert.ok(!(parseRequestUrl('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse') instanceof URL));
    assert.ok(parseRequestUrl('/v1/../v1/chat/completions') instanceof URL, 'a dot segment goes through URL');
  });

  test('no target is the root', () => assert.equal(parseRequestUrl(undefined).pathname, '/'));

  for (const target of ['http://localhost/v1/chat/completions', '*', 'v1/chat/completions', '']) {
    test(`${JSON.stringify(target)} is not origin-form: 400 bad_url`, () => {
      assert.throws(() => parseRequestUrl(target), (err: unknown) => err instanceof HttpError && err.status === 400 && err.options.reason === 'bad_url');
    });
  }
});

describe('splitUpstreamUrl: origin and path as undici derived them from the URL', () => {
  /** What undici's top-level request(url) sent: url.origin, and pathname + search. */
  const viaUndici = (url: string) => {
    const u = new URL(url);
    return { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
  };
  const table = [
    'https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1/endpoints/openapi/chat/completions',
    'https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict',
    'http://127.0.0.1:41234/v1/projects/bench/locations/us-central1/endpoints/openapi/chat/completions',
    'http://127.0.0.1:41234/gateway/v1beta/openai/chat/completions',
    'https://example.com/v1/projects/a%20b/locations/x/endpoints/openapi/chat/completions',
    'https://example.com/prefix/../v1/models/m:generateContent',
    'https://example.com/v1/models/m:streamGenerateContent?alt=s%20e',
    'https://example.com/v1/models/m:streamGenerateContent?alt="sse"',
    'https://example.com/v1/models/m:streamGenerateContent?',
    'https://example.com/v1/models/m:streamGenerateContent??alt=sse',
    'https://user:secret@example.com/v1/models/m:generateContent',
    'https://EXAMPLE.com/v1/x',
    'https://example.com:443/v1/x',
    'http://example.com:80/v1/x',
    'https://example.com/v1/x#fragment',
    'https://example.com/v1 x',
  ];
  for (const url of table) {
    test(url, () => {
      const mine = splitUpstreamUrl(url);
      const theirs = viaUndici(url);
      assert.equal(mine.path, theirs.path);
      // undici parses the origin again for its connection pool: the same origin either way.
      assert.equal(new URL(mine.origin).origin, theirs.origin);
      assert.equal(new URL(mine.origin).pathname, '/', 'nothing but the origin');
      assert.equal(new URL(mine.origin).username, '', 'no credentials in the origin');
    });
  }
  test('generated paths on a Vertex origin', () => {
    for (const path of targets(3000, 15)) {
      const url = `https://us-central1-aiplatform.googleapis.com${path}`;
      const mine = splitUpstreamUrl(url);
      const theirs = viaUndici(url);
      assert.equal(mine.path, theirs.path, url);
      assert.equal(new URL(mine.origin).origin, theirs.origin, url);
    }
  });
  test('a URL that does not parse throws, as before', () => assert.throws(() => splitUpstreamUrl('not a url'), TypeError));
});
