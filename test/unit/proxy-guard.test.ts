import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuthMode } from '../../src/core/config';
import { isAllowedHost, isAllowedOrigin, keyMatcher, keyRequired, parseHostHeader, presentedKey, type Access } from '../../src/proxy/guard';

describe('keyRequired: which routes need the API key under each auth_mode', () => {
  const table: [Access, AuthMode, boolean][] = [
    ['api', 'all_except_health', true],
    ['api', 'strict', true],
    ['api', 'off', false],
    ['health', 'all_except_health', false],
    ['health', 'strict', true],
    ['health', 'off', false],
    ['admin', 'all_except_health', true],
    ['admin', 'strict', true],
    ['admin', 'off', true],
  ];
  for (const [access, mode, expected] of table) {
    test(`${access} under ${mode} -> ${expected ? 'key' : 'no key'}`, () => assert.equal(keyRequired(access, mode), expected));
  }
});

describe('parseHostHeader', () => {
  const table: [string, ReturnType<typeof parseHostHeader>][] = [
    ['127.0.0.1:8046', { name: '127.0.0.1', port: 8046 }],
    ['LOCALHOST:8046', { name: 'localhost', port: 8046 }],
    ['[::1]:8046', { name: '[::1]', port: 8046 }],
    ['localhost', { name: 'localhost', port: 80 }],
    ['example.com:99999', undefined],
    ['a:b:c', undefined],
    ['::1', undefined],
    ['', undefined],
    ['evil.com:8046/x', undefined],
  ];
  for (const [header, expected] of table) {
    test(JSON.stringify(header), () => assert.deepEqual(parseHostHeader(header), expected));
  }
});

describe('isAllowedHost: DNS rebinding guard', () => {
  const loopback = { port: 8046, bindHost: '127.0.0.1', allowedHosts: [] as string[] };
  const table: [string | undefined, typeof loopback, boolean][] = [
    ['127.0.0.1:8046', loopback, true],
    ['localhost:8046', loopback, true],
    ['127.5.6.7:8046', loopback, true],
    ['[::1]:8046', loopback, true],
    ['localhost:9999', loopback, false],
    ['localhost', loopback, false],
    ['evil.example:8046', loopback, false],
    ['attacker.localtest.me:8046', loopback, false],
    [undefined, loopback, false],
    ['127.0.0.1.evil.example:8046', loopback, false],
    ['myhost.lan:8046', { ...loopback, allowedHosts: ['myhost.lan'] }, true],
    ['myhost.lan:9000', { ...loopback, allowedHosts: ['myhost.lan'] }, true],
    ['myhost.lan:9000', { ...loopback, allowedHosts: ['myhost.lan:8046'] }, false],
    ['MyHost.Lan:8046', { ...loopback, allowedHosts: ['myhost.lan:8046'] }, true],
    ['192.168.1.5:8046', { ...loopback, bindHost: '192.168.1.5' }, true],
    ['192.168.1.5:8046', { ...loopback, bindHost: '0.0.0.0' }, false],
    ['[fd00::5]:8046', { ...loopback, bindHost: 'fd00::5' }, true],
  ];
  for (const [header, server, expected] of table) {
    test(`${header} (bind ${server.bindHost}, allowed ${JSON.stringify(server.allowedHosts)}) -> ${expected}`, () =>
      assert.equal(isAllowedHost(header, server), expected));
  }
});

describe('isAllowedOrigin: no CORS unless listed', () => {
  const table: [string | undefined, string[], boolean][] = [
    [undefined, [], true],
    ['https://evil.example', [], false],
    ['null', [], false],
    ['http://127.0.0.1:8046', [], false],
    ['https://app.example', ['https://app.example'], true],
    ['https://APP.example', ['https://app.example/'], true],
    ['https://app.example.evil', ['https://app.example'], false],
  ];
  for (const [origin, allowed, expected] of table) {
    test(`${origin} with ${JSON.stringify(allowed)} -> ${expected}`, () => assert.equal(isAllowedOrigin(origin, allowed), expected));
  }
});

describe('presentedKey: every SDK puts the key somewhere else', () => {
  const q = (s = '') => new URLSearchParams(s);
  const table: [string, Record<string, string>, URLSearchParams, string | undefined][] = [
    ['OpenAI: Authorization Bearer', { authorization: 'Bearer tp-1' }, q(), 'tp-1'],
    ['lower-case bearer', { authorization: 'bearer tp-1' }, q(), 'tp-1'],
    ['Anthropic: x-api-key', { 'x-api-key': 'tp-2' }, q(), 'tp-2'],
    ['Gemini SDK: x-goog-api-key', { 'x-goog-api-key': 'tp-3' }, q(), 'tp-3'],
    ['Gemini REST: ?key=', {}, q('key=tp-4'), 'tp-4'],
    ['Basic auth is not a key', { authorization: 'Basic dXNlcjpwYXNz' }, q(), undefined],
    ['nothing', {}, q(), undefined],
    ['Bearer wins over x-api-key', { authorization: 'Bearer a', 'x-api-key': 'b' }, q(), 'a'],
  ];
  for (const [name, headers, query, expected] of table) {
    test(name, () => assert.equal(presentedKey(headers, query), expected));
  }
});

describe('keyMatcher', () => {
  const table: [string | undefined, string, boolean][] = [
    ['tp-abc', 'tp-abc', true],
    ['tp-abd', 'tp-abc', false],
    ['tp-ab', 'tp-abc', false],
    ['tp-abcd', 'tp-abc', false],
    [undefined, 'tp-abc', false],
    ['', '', false],
    [undefined, '', false],
  ];
  for (const [presented, expected, result] of table) {
    test(`${JSON.stringify(presented)} vs ${JSON.stringify(expected)} -> ${result}`, () => assert.equal(keyMatcher(expected)(presented), result));
  }
  test('one matcher answers every request alike', () => {
    const matches = keyMatcher('tp-abc');
    assert.deepEqual(['tp-abc', 'tp-abd', 'tp-abc', undefined, 'tp-abc'].map(matches), [true, false, true, false, true]);
  });
});
