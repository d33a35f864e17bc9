import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyState } from '../../src/vscode/proxyController';
import { statusView } from '../../src/vscode/statusView';
import { baseUrl, connectHost } from '../../src/vscode/healthProbe';

const counts = (healthy: number, total: number) => ({ total, healthy, cooling: 0, proxy_disabled: 0, disabled: total - healthy });

const rows: [string, ProxyState, ReturnType<typeof counts> | undefined, string, string | undefined][] = [
  ['serving', { kind: 'serving', host: '127.0.0.1', port: 8046 }, counts(3, 5), '$(radio-tower) 3/5 :8046', undefined],
  ['serving, none healthy: warning', { kind: 'serving', host: '127.0.0.1', port: 8046 }, counts(0, 2), '$(radio-tower) 0/2 :8046', 'warning'],
  ['another window serves', { kind: 'sibling', host: '127.0.0.1', port: 8046 }, counts(1, 1), '$(radio-tower) served by another window', undefined],
  ['another program holds the port', { kind: 'foreign', host: '127.0.0.1', port: 8046 }, undefined, '$(error) port 8046 in use by another program', 'error'],
  ['stopped', { kind: 'stopped' }, counts(1, 1), '$(circle-slash) stopped', undefined],
  ['failed', { kind: 'failed', message: 'bad config' }, undefined, '$(error) Token Pool', 'error'],
];
for (const [name, state, c, text, background] of rows) {
  void test(`status bar: ${name}`, () => {
    const view = statusView(state, c);
    assert.equal(view.text, text);
    assert.equal(view.background, background);
  });
}

void test('a wildcard bind is reached on loopback; IPv6 gets brackets', () => {
  assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
  assert.equal(baseUrl('0.0.0.0', 8046), 'http://127.0.0.1:8046');
  assert.equal(baseUrl('::', 8046), 'http://[::1]:8046');
  assert.equal(baseUrl('127.0.0.1', 9000), 'http://127.0.0.1:9000');
});
