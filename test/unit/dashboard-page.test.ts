/** The dashboard's page HTML and its CSP, the messages the page may send, and where the data comes from. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy, dashboardHtml, newNonce } from '../../src/vscode/dashboard/html';
import { dataSource, needsProbe } from '../../src/vscode/dashboard/source';
import type { ProxyState } from '../../src/vscode/proxyController';
import { cardActions, parseToExtension, type Source } from '../../src/webview/dashboard/protocol';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

void test('the CSP allows nothing by default, scripts only with the nonce, styles from the extension, no connections', () => {
  const csp = contentSecurityPolicy(CSP_SOURCE, 'abc123');
  const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives['default-src'], "'none'");
  assert.equal(directives['script-src'], "'nonce-abc123'");
  assert.equal(directives['style-src'], `${CSP_SOURCE} 'nonce-abc123'`);
  assert.equal(directives['connect-src'], "'none'");
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
});

void test('the page loads exactly one script and one stylesheet, both with this render\'s nonce', () => {
  const nonce = newNonce();
  const html = dashboardHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: `${CSP_SOURCE}/dist/webview/dashboard.js`, styleUri: `${CSP_SOURCE}/dist/webview/dashboard.css` });
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="${CSP_SOURCE}/dist/webview/dashboard.js">`]);
  assert.ok(html.includes(`<link rel="stylesheet" nonce="${nonce}" href="${CSP_SOURCE}/dist/webview/dashboard.css">`), html);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-/);
  assert.doesNotMatch(html, /https?:\/\/(?!file\+\.vscode-resource)/, 'nothing from the network');
});

void test('each render gets a fresh 128-bit nonce', () => {
  const nonces = new Set(Array.from({ length: 50 }, newNonce));
  assert.equal(nonces.size, 50);
  for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
});

const messages: [string, unknown, unknown][] = [
  ['ready', { type: 'ready', range: '7d', filter: { account: '', model: 'm', outcome: '' } }, { type: 'ready', range: '7d', filter: { account: '', model: 'm', outcome: '' } }],
  ['a range', { type: 'range', range: '30d' }, { type: 'range', range: '30d' }],
  ['an unknown range', { type: 'range', range: '1y' }, undefined],
  ['a range from the prototype', { type: 'range', range: 'toString' }, undefined],
  ['a filter', { type: 'filter', filter: { account: 'a', model: '', outcome: 'ok' } }, { type: 'filter', filter: { account: 'a', model: '', outcome: 'ok' } }],
  ['a filter missing a key', { type: 'filter', filter: { account: 'a' } }, undefined],
  ['a card action', { type: 'action', action: 'proxyEnable', accountId: 'id1' }, { type: 'action', action: 'proxyEnable', accountId: 'id1' }],
  ['an action that is no card action', { type: 'action', action: 'removeAccount', accountId: 'id1' }, undefined],
  ['start the proxy', { type: 'startProxy' }, { type: 'startProxy' }],
  ['an unknown type', { type: 'eval', code: '1' }, undefined],
  ['not an object', 'ready', undefined],
];
for (const [name, raw, parsed] of messages) {
  void test(`a message from the page: ${name}`, () => assert.deepEqual(parseToExtension(raw), parsed));
}

const configured = { host: '127.0.0.1', port: 8046 };
const sources: [string, ProxyState, 'tokenpool' | 'other' | undefined, Source | RegExp][] = [
  ['this window serves', { kind: 'serving', host: '0.0.0.0', port: 9000 }, undefined, { kind: 'connected', baseUrl: 'http://127.0.0.1:9000', servedHere: true }],
  ['another window serves', { kind: 'sibling', host: '127.0.0.1', port: 8046 }, undefined, { kind: 'connected', baseUrl: 'http://127.0.0.1:8046', servedHere: false }],
  ['stopped here, the CLI serves the port', { kind: 'stopped' }, 'tokenpool', { kind: 'connected', baseUrl: 'http://127.0.0.1:8046', servedHere: false }],
  ['stopped, nothing serves', { kind: 'stopped' }, 'other', /The proxy is stopped/],
  ['failed', { kind: 'failed', message: 'bad config.json' }, 'other', /cannot start: bad config\.json/],
  ['another program holds the port', { kind: 'foreign', host: '127.0.0.1', port: 8046 }, undefined, /Port 8046 is in use by another program/],
  ['starting', { kind: 'starting', host: '127.0.0.1', port: 8046 }, undefined, /starting/],
];
for (const [name, state, holder, expected] of sources) {
  void test(`data source: ${name}`, () => {
    const source = dataSource(state, configured, holder);
    if (expected instanceof RegExp) {
      assert.equal(source.kind, 'unavailable');
      assert.match((source as { message: string }).message, expected);
    } else {
      assert.deepEqual(source, expected);
    }
  });
}

void test('the port is probed only when this window\'s state does not say who serves', () => {
  assert.deepEqual((['stopped', 'failed', 'serving', 'sibling', 'foreign', 'starting'] as const).map((kind) => needsProbe({ kind } as ProxyState)),
    [true, true, false, false, false, false]);
});

void test('a card offers Re-authenticate when disabled, Enable when proxy disabled, Disable otherwise', () => {
  assert.deepEqual((['healthy', 'cooling', 'proxy_disabled', 'disabled'] as const).map((state) => cardActions(state)),
    [
      [{ action: 'proxyDisable', label: 'Disable' }],
      [{ action: 'proxyDisable', label: 'Disable' }],
      [{ action: 'proxyEnable', label: 'Enable' }],
      [{ action: 'reauthenticate', label: 'Re-authenticate' }],
    ]);
});
