/**
 * The usage files (DESIGN section 11) under a real data directory: after a restart the totals are
 * still what the fake upstream reported; a file that does not parse is moved aside with a log line
 * and counting starts afresh; a directory that cannot be written keeps the figures in memory and
 * says so once; history files are kept `history_days` and capped in size.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { UsageRow } from '../../src/core/usage/aggregates';
import { UsageLedger } from '../../src/core/usage/ledger';
import type { RequestRecord } from '../../src/core/usage/record';
import { UsageFiles, usageDir } from '../../src/core/usage/usageFiles';
import { MemoryLogger } from '../../src/core/log';
import { ProxyServer } from '../../src/proxy/server';
import { sampleRequest, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const today = (): string => new Date().toISOString().slice(0, 10);

async function mixedRun(h: ProxyHarness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const shape = (['openai', 'anthropic', 'google'] as const)[i % 3];
    const { path, body } = sampleRequest(shape, { stream: i % 2 === 0, prompt: `request number ${i} with a few words` });
    const r = await h.request(path, { body });
    assert.equal(r.status, 200, r.text);
  }
}

/** Reported tokens summed over the whole run: input, output. */
function reported(h: ProxyHarness): { input: number; output: number } {
  let input = 0;
  let output = 0;
  for (const r of h.upstream.requests) {
    const u = r.reported as Record<string, number> | undefined;
    if (!u) continue;
    input += r.route === 'vertex-anthropic' ? u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens : u.promptTokenCount;
    output += r.route === 'vertex-anthropic' ? u.output_tokens : u.candidatesTokenCount;
  }
  return { input, output };
}

/** A second server on the same data directory: a fresh ledger loaded from the files, as after a restart. */
async function restarted(h: ProxyHarness): Promise<{ url: string; log: MemoryLogger; close(): Promise<void>; usage: UsageLedger }> {
  const log = new MemoryLogger();
  const usage = new UsageLedger();
  const files = new UsageFiles(h.dataDir, usage, log);
  await files.load({ repair: true });
  const server = new ProxyServer({ config: h.config, pool: h.pool, log, version: 'test', usage });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, log, usage, close: () => server.close() };
}

async function getJson<T>(url: string, key: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as T;
}

describe('usage files: a restart keeps the figures', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ accounts: 2, usageFiles: { flushMs: 60_000 } });
    await mixedRun(h, 6);
    await h.files!.close(); // the shutdown flush
  });
  after(() => h.close());

  test('the files: hourly, daily and the day’s request history, private to the user', async () => {
    const dir = usageDir(h.dataDir);
    const names = (await fs.readdir(dir)).sort();
    assert.deepEqual(names, [`daily-${today().slice(0, 7)}.json`, `hourly-${today()}.json`, `requests-${today()}.jsonl`]);
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
    for (const name of names) assert.equal((await fs.stat(join(dir, name))).mode & 0o777, 0o600, name);
    const lines = (await fs.readFile(join(dir, `requests-${today()}.jsonl`), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 6);
    const text = (await Promise.all(names.map((n) => fs.readFile(join(dir, n), 'utf8')))).join('\n');
    assert.ok(!text.includes(h.apiKey));
    for (const secret of await h.secrets()) if (!secret.includes('@')) assert.ok(!text.includes(secret), 'no token in the usage files');
  });

  test('after a restart /admin/usage totals and /admin/requests are what they were, and equal what the fake reported', async () => {
    const before = await getJson<{ rows: UsageRow[] }>(`${h.url}/admin/usage?by=account,model`, h.apiKey);
    const beforeRequests = await getJson<{ requests: RequestRecord[] }>(`${h.url}/admin/requests`, h.apiKey);
    const again = await restarted(h);
    try {
      const after = await getJson<{ rows: UsageRow[] }>(`${again.url}/admin/usage?by=account,model`, h.apiKey);
      assert.deepEqual(after.rows, before.rows);
      const sum = (k: 'input_tokens' | 'output_tokens' | 'requests') => after.rows.reduce((n, r) => n + r[k], 0);
      assert.deepEqual({ input: sum('input_tokens'), output: sum('output_tokens') }, reported(h));
      assert.equal(sum('requests'), 6);
      const afterRequests = await getJson<{ requests: RequestRecord[] }>(`${again.url}/admin/requests`, h.apiKey);
      assert.deepEqual(afterRequests.requests, beforeRequests.requests);
      const daily = await getJson<{ rows: UsageRow[] }>(`${again.url}/admin/usage?since=30d&by=day`, h.apiKey);
      assert.equal(daily.rows.reduce((n, r) => n + r.requests, 0), 6);
      const headroom = again.usage.headroomOf(h.accounts[0].email);
      assert.ok(headroom.reduce((n, v) => n + v.today.requests, 0) > 0, 'today’s requests are counted again from the history');
    } finally {
      await again.close();
    }
  });
});

describe('usage files: faults', () => {
  test('a usage file and a history file that do not parse are moved aside with a log line; counting starts afresh', async () => {
    const h = await startProxyHarness({ accounts: 1, usageFiles: { flushMs: 60_000 } });
    try {
      await mixedRun(h, 3);
      await h.files!.close();
      const dir = usageDir(h.dataDir);
      await fs.writeFile(join(dir, `hourly-${today()}.json`), '{"version": 1, "kind": "hourly", "buckets": [{"t": "soon"}]');
      const history = join(dir, `requests-${today()}.jsonl`);
      const lines = (await fs.readFile(history, 'utf8')).split('\n');
      await fs.writeFile(history, [lines[0], 'not json at all', ...lines.slice(1)].join('\n'));
      const again = await restarted(h);
      try {
        const rows = (await getJson<{ rows: UsageRow[] }>(`${again.url}/admin/usage`, h.apiKey)).rows;
        assert.deepEqual(rows.filter((r) => r.account !== undefined && r.requests > 0).length, 0, 'the hourly figures start afresh');
        assert.deepEqual((await getJson<{ requests: unknown[] }>(`${again.url}/admin/requests`, h.apiKey)).requests, []);
        const warnings = again.log.lines.filter((l) => l.level === 'warn').map((l) => l.message);
        assert.ok(warnings.some((w) => /hourly-.*does not parse.*moved aside/.test(w)), warnings.join('\n'));
        assert.ok(warnings.some((w) => /requests-.*line 2 is not JSON.*moved aside/.test(w)), warnings.join('\n'));
        const names = await fs.readdir(dir);
        assert.equal(names.filter((n) => n.includes('.corrupt-')).length, 2);
        // and the server serves and counts on
        const r = await fetch(`${again.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(sampleRequest('google').body),
        });
        assert.equal(r.status, 200);
        assert.equal((await getJson<{ requests: unknown[] }>(`${again.url}/admin/requests`, h.apiKey)).requests.length, 1);
      } finally {
        await again.close();
      }
    } finally {
      await h.close();
    }
  });

  test('a torn last history line (a crash mid-append) is left out, the rest kept', async () => {
    const h = await startProxyHarness({ accounts: 1, usageFiles: { flushMs: 60_000 } });
    try {
      await mixedRun(h, 2);
      await h.files!.close();
      const history = join(usageDir(h.dataDir), `requests-${today()}.jsonl`);
      await fs.appendFile(history, '{"id": "torn", "time": "20');
      const again = await restarted(h);
      try {
        assert.equal((await getJson<{ requests: unknown[] }>(`${again.url}/admin/requests`, h.apiKey)).requests.length, 2);
        assert.ok(!again.log.lines.some((l) => /moved aside/.test(l.message)));
      } finally {
        await again.close();
      }
    } finally {
      await h.close();
    }
  });

  test('a directory that cannot be written: requests are served and counted in memory, said once, and written when it can be again', async () => {
    const h = await startProxyHarness({ accounts: 1, usageFiles: { flushMs: 60_000 } });
    try {
      const dir = usageDir(h.dataDir);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.writeFile(dir, 'in the way'); // usage/ cannot be made: every write fails (as root too)
      await mixedRun(h, 2);
      await h.files!.flush();
      await mixedRun(h, 2);
      await h.files!.flush();
      const warnings = h.log.lines.filter((l) => /\[usage\] cannot write/.test(l.message));
      assert.equal(warnings.length, 1, 'said once');
      assert.match(warnings[0].message, /kept in memory only/);
      const rows = (await h.request('/admin/usage')).json as { rows: UsageRow[] };
      assert.equal(rows.rows.reduce((n, r) => n + r.requests, 0), 4);
      await fs.rm(dir);
      await h.files!.flush();
      assert.ok(h.log.lines.some((l) => /\[usage\] writing .* again/.test(l.message)));
      const lines = (await fs.readFile(join(dir, `requests-${today()}.jsonl`), 'utf8')).trim().split('\n');
      assert.equal(lines.length, 4, 'nothing counted meanwhile was lost');
    } finally {
      await h.close();
    }
  });

  test('history files: kept history_days, each day capped in size (said once)', async () => {
    const h = await startProxyHarness({ accounts: 1, usageFiles: { flushMs: 60_000, historyDays: 2, maxDayBytes: 2000 } });
    try {
      const dir = usageDir(h.dataDir);
      await fs.mkdir(dir, { recursive: true });
      const old = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
      const recent = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const oldHour = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
      await fs.writeFile(join(dir, `requests-${old}.jsonl`), '');
      await fs.writeFile(join(dir, `requests-${recent}.jsonl`), '');
      await fs.writeFile(join(dir, `hourly-${oldHour}.json`), JSON.stringify({ version: 1, kind: 'hourly', buckets: [] }));
      await mixedRun(h, 6);
      await h.files!.flush();
      await mixedRun(h, 2);
      await h.files!.flush();
      const names = await fs.readdir(dir);
      assert.ok(!names.includes(`requests-${old}.jsonl`), 'older than history_days: removed');
      assert.ok(names.includes(`requests-${recent}.jsonl`), 'within history_days: kept');
      assert.ok(!names.includes(`hourly-${oldHour}.json`), 'hourly figures older than 14 days: removed');
      const size = (await fs.stat(join(dir, `requests-${today()}.jsonl`))).size;
      assert.ok(size <= 2000 && size > 0, `capped: ${size} bytes`);
      const text = await fs.readFile(join(dir, `requests-${today()}.jsonl`), 'utf8');
      assert.ok(text.endsWith('\n'), 'whole lines only');
      assert.equal(h.log.lines.filter((l) => /reached its cap/.test(l.message)).length, 1);
      assert.equal(((await h.request('/admin/requests')).json as { requests: unknown[] }).requests.length, 8, 'memory keeps them all');
    } finally {
      await h.close();
    }
  });
});
