/**
 * Several VS Code windows sharing one port, without VS Code: each "window" is a PoolRuntime plus a
 * ProxyController on the same data directory, as the extension wires them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../src/core/config';
import { MemoryLogger, nullLogger } from '../../src/core/log';
import { serveClaimPath } from '../../src/core/serveClaim';
import { ProxyController, type ProxyState } from '../../src/vscode/proxyController';
import { PoolRuntime } from '../../src/vscode/runtime';
import { statusView } from '../../src/vscode/statusView';
import { freePort } from '../helpers/cli';


async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Window {
  runtime: PoolRuntime;
  proxy: ProxyController;
  close(): Promise<void>;
}

async function openWindow(dataDir: string, overrides: () => Partial<Config['proxy']>): Promise<Window> {
  const runtime = new PoolRuntime(async () => {
    const config = await loadConfig(dataDir);
    Object.assign(config.proxy, overrides());
    return { dataDir, config };
  }, nullLogger);
  const proxy = new ProxyController({ runtime, log: nullLogger, version: 'test', retryMs: 100 });
  await runtime.refresh();
  return {
    runtime,
    proxy,
    async close() {
      await proxy.close();
      await runtime.close();
    },
  };
}

const kind = (state: ProxyState) => state.kind;

void describe('several windows, one port', () => {
  let dataDir: string;
  const open: Window[] = [];
  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenpool-windows-'));
  });
  after(async () => {
    for (const w of open) await w.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  void test('the first window serves, the second says "served by another window" and takes over when the first closes', async () => {
    const port = await freePort();
    const settings = () => ({ port, auth_mode: 'strict' as const }); // healthz needs the shared key too
    const first = await openWindow(dataDir, settings);
    const second = await openWindow(dataDir, settings);
    open.push(first, second);

    assert.equal(kind(await first.proxy.start()), 'serving');
    assert.equal(kind(await second.proxy.start()), 'sibling');
    assert.equal(statusView(second.proxy.state, second.runtime.current?.pool.counts()).text, '$(radio-tower) served by another window');

    await first.proxy.stop();
    await until('the second window to take over', () => second.proxy.state.kind === 'serving');
    assert.deepEqual(second.proxy.state, { kind: 'serving', host: '127.0.0.1', port });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
      headers: { authorization: `Bearer ${second.runtime.current?.config.proxy.api_key}` },
    });
    assert.equal(((await health.json()) as { service: string }).service, 'tokenpool');
  });

  void test('a port held by another program is reported as such, in the error colour', async () => {
    const other = http.createServer((_req, res) => res.writeHead(404).end('not tokenpool'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    const w = await openWindow(dataDir, () => ({ port }));
    open.push(w);
    try {
      assert.equal(kind(await w.proxy.start()), 'foreign');
      assert.deepEqual(statusView(w.proxy.state, undefined), {
        text: `$(error) port ${port} in use by another program`,
        tooltip: `Port ${port} on 127.0.0.1 belongs to a program that is not Token Pool. Set tokenpool.proxy.port to a free port.`,
        background: 'error',
      });
    } finally {
      await w.proxy.stop();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  void test('changing the port setting moves the running proxy without a reload', async () => {
    let port = await freePort();
    const w = await openWindow(dataDir, () => ({ port }));
    open.push(w);
    assert.deepEqual(await w.proxy.start(), { kind: 'serving', host: '127.0.0.1', port });
    const pool = w.runtime.current?.pool;

    const oldPort = port;
    port = await freePort();
    await w.runtime.refresh();
    assert.deepEqual(w.proxy.state, { kind: 'serving', host: '127.0.0.1', port });
    assert.equal(w.runtime.current?.pool, pool, 'a proxy-only change keeps the pool (and its cooldowns)');
    await assert.rejects(fetch(`http://127.0.0.1:${oldPort}/healthz`), 'the old port is closed');
    // the pool has no accounts: tokenpool answers 503 "unavailable" there
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual([health.status, ((await health.json()) as { service: string; status: string }).status], [503, 'unavailable']);
  });

  void test('a window keeps the usage files only when no live tokenpool serve holds the data directory (serve.json)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenpool-claim-'));
    // a running process that holds the claim, as a `tokenpool serve` on another port would
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await fs.writeFile(serveClaimPath(dir), JSON.stringify({ pid: holder.pid, host: '127.0.0.1', port: 9, version: 'x', started: new Date().toISOString() }));
      const log = new MemoryLogger();
      const runtime = new PoolRuntime(async () => ({ dataDir: dir, config: await loadConfig(dir) }), nullLogger);
      await runtime.refresh();
      const proxy = new ProxyController({ runtime, log, version: 'test', retryMs: 100 });
      const port = await freePort();
      Object.assign(runtime.current!.config.proxy, { port });
      try {
        assert.equal(kind(await proxy.start()), 'serving');
        assert.ok(log.lines.some((l) => l.level === 'warn' && l.message.includes(`another tokenpool serve (pid ${holder.pid} at http://127.0.0.1:9) keeps the usage files`) && l.message.includes('this window counts in memory only')));
        assert.equal((JSON.parse(await fs.readFile(serveClaimPath(dir), 'utf8')) as { pid: number }).pid, holder.pid, 'the holder’s claim stays');
        await proxy.stop();
        assert.equal((JSON.parse(await fs.readFile(serveClaimPath(dir), 'utf8')) as { pid: number }).pid, holder.pid, 'and stays after this window stops');

        holder.kill();
        await once(holder, 'exit');
        assert.equal(kind(await proxy.start()), 'serving');
        assert.deepEqual(JSON.parse(await fs.readFile(serveClaimPath(dir), 'utf8')), { pid: process.pid, host: '127.0.0.1', port, version: 'test', started: (JSON.parse(await fs.readFile(serveClaimPath(dir), 'utf8')) as { started: string }).started });
        await proxy.stop();
        await assert.rejects(fs.stat(serveClaimPath(dir)), { code: 'ENOENT' }, 'given up when the window stops serving');
      } finally {
        await proxy.close();
        await runtime.close();
      }
    } finally {
      holder.kill();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
