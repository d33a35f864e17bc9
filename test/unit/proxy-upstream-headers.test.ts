/**
 * upstreamHeaders, case by case: what of the client's headers reaches Google (proxy-shapes.test.ts has
 * the full request a client sends; these are the Connection header's forms, header-name case, repeated
 * headers and the order the upstream sees).
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { upstreamHeaders } from '../../src/proxy/headers';

const SET_BY_PROXY = { authorization: 'Bearer ya29.t', 'content-type': 'application/json', 'accept-encoding': 'identity' };

describe('upstreamHeaders: which client headers cross', () => {
  const table: [string, IncomingHttpHeaders, Record<string, string>][] = [
    ['no Connection header: everything but the dropped ones', { 'user-agent': 'sdk/1', 'x-trace': '1', host: 'h', 'content-length': '2' }, { 'user-agent': 'sdk/1', 'x-trace': '1' }],
    ['Connection: keep-alive', { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-trace': '1' }, { 'x-trace': '1' }],
    ['Connection: close', { connection: 'close', 'x-trace': '1' }, { 'x-trace': '1' }],
    ['Connection naming a header, any case: that header is hop-by-hop', { connection: 'Keep-Alive, X-Trace', 'x-trace': '1', 'x-keep': '2' }, { 'x-keep': '2' }],
    ['Connection with empty entries and spaces', { connection: 'x-a,  , x-b ', 'x-a': '1', 'x-b': '2', 'x-c': '3' }, { 'x-c': '3' }],
    ['Connection naming a header that is not there', { connection: 'x-gone', 'x-c': '3' }, { 'x-c': '3' }],
    ['names in any case come out lower case; credentials in any case are dropped', { 'X-Custom': 'v', Authorization: 'Bearer tp-key', 'X-Api-Key': 'tp-key' }, { 'x-custom': 'v' }],
    ['a repeated header is joined', { 'x-multi': ['a', 'b'] }, { 'x-multi': 'a, b' }],
    ['an undefined value is left out', { 'x-none': undefined, 'x-some': 's' }, { 'x-some': 's' }],
    ['the client cannot set what the proxy sets', { 'accept-encoding': 'gzip', 'content-type': 'text/plain', 'x-goog-user-project': 'theirs', 'x-tokenpool-session': 's' }, {}],
  ];
  for (const [name, client, forwarded] of table) {
    test(name, () => assert.deepEqual(upstreamHeaders(client, 'ya29.t', {}), { ...forwarded, ...SET_BY_PROXY }));
  }

  test('order: the client\'s headers, then the upstream\'s own, then what the proxy sets', () => {
    const out = upstreamHeaders({ 'user-agent': 'sdk/1', 'anthropic-version': 'v' }, 'ya29.t', { 'x-goog-user-project': 'acct', 'user-agent': 'kept-in-place' });
    assert.deepEqual(Object.entries(out), [
      ['user-agent', 'kept-in-place'],
      ['anthropic-version', 'v'],
      ['x-goog-user-project', 'acct'],
      ['authorization', 'Bearer ya29.t'],
      ['content-type', 'application/json'],
      ['accept-encoding', 'identity'],
    ]);
  });

  test('the client\'s headers object is not changed', () => {
    const client: IncomingHttpHeaders = { connection: 'x-a', 'x-a': '1', authorization: 'Bearer k' };
    const copy = structuredClone(client);
    upstreamHeaders(client, 'ya29.t', { 'x-goog-user-project': 'p' });
    assert.deepEqual(client, copy);
  });
});
