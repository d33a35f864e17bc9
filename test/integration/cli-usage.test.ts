/**
 * `tokenpool usage` and `tokenpool requests` (DESIGN section 11) as a black box: against a running
 * `tokenpool serve` (its admin API), then with the serve stopped (the files it wrote at shutdown),
 * agreeing with each other and with what the fake upstream reported; `--follow` prints requests
 * live; bad flags are usage errors naming the flag.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { UsageRow } from '../../src/core/usage/aggregates';
import type { RequestRecord } from '../../src/core/usage/record';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream } from '../fakes/upstream';
import { CLI, freePort, runCli, startServe, tempDataDir, type ServeProcess } from '../helpers/cli';
import { sampleRequest } from '../helpers/proxy-harness';

const API_KEY = 'tp-' + 'c'.repeat(32);


describe('tokenpool usage and tokenpool requests', () => {
  let google: FakeGoogle;
  let upstream: FakeUpstream;
  let dataDir: string;
  let port: number;
  let serve: ServeProcess | undefined;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);
  const outputs: string[] = [];

  const send = async (i: number): Promise<void> => {
    const shape = (['google', 'anthropic', 'openai'] as const)[i % 3];
    const { path, body } = sampleRequest(shape, { stream: i % 2 === 1, prompt: `request ${i} says a few words` });
    const r = await fetch(`${serve!.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, 200, text);
  };

  const reportedTokens = (): { input: number; output: number } => {
    let input = 0;
    let output = 0;
    for (const r of upstream.requests) {
      const u = r.reported as Record<string, number> | undefined;
      if (!u) continue;
      input += r.route === 'vertex-anthropic' ? u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens : u.promptTokenCount;
      output += r.route === 'vertex-anthropic' ? u.output_tokens : u.candidatesTokenCount;
    }
    return { input, output };
  };

  before(async () => {
    google = await FakeGoogle.start();
    upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t) });
    dataDir = await tempDataDir();
    port = await freePort();
    await fs.writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ proxy: { api_key: API_KEY, port }, oauth: google.oauthConfig(), upstream: { base_url: upstream.url, project_id: 'usage-project' } }),
    );
    for (const email of ['ann@example.com', 'ben@example.com']) {
      const added = await cli('accounts', 'add', '--refresh-token', google.addUser(email).refreshToken);
      assert.equal(added.code, 0, added.stderr);
    }
    serve = await startServe(['--data-dir', dataDir, '--port', String(port)]);
    for (let i = 0; i < 5; i++) await send(i);
  });

  after(async () => {
    await serve?.stop();
    await upstream.close();
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  let servedRows: UsageRow[] = [];
  let servedRequests: RequestRecord[] = [];

  test('usage --json asks the running serve: its rows, with the tokens the upstream reported', async () => {
    const r = await cli('usage', '--json');
    outputs.push(r.stdout, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { since: string; until: string; rows: UsageRow[] };
    servedRows = report.rows;
    const admin = (await (await fetch(`${serve!.url}/admin/usage`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { rows: UsageRow[] };
    assert.deepEqual(report.rows, admin.rows);
    const sum = (k: 'input_tokens' | 'output_tokens' | 'requests') => report.rows.reduce((n, row) => n + row[k], 0);
    assert.equal(sum('requests'), 5);
    assert.deepEqual({ input: sum('input_tokens'), output: sum('output_tokens') }, reportedTokens());
  });

  test('usage prints a table; --by model groups by model', async () => {
    const r = await cli('usage');
    outputs.push(r.stdout);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^\d{4}-\d{2}-\d{2}T.* \.\. \d{4}-/);
    assert.match(lines[1], /^ACCOUNT\s+MODEL\s+REQUESTS\s+OK\s+ERRORS\s+INPUT\s+OUTPUT\s+CACHED\s+THINKING\s+P50 MS\s+P95 MS$/);
    assert.equal(lines.length - 2, servedRows.length);
    assert.ok(lines.slice(2).every((l) => /^(ann|ben)@example\.com\s/.test(l)));
    const byModel = await cli('usage', '--by', 'model', '--json');
    const rows = (JSON.parse(byModel.stdout) as { rows: UsageRow[] }).rows;
    assert.deepEqual(rows.map((row) => row.model).sort(), ['claude-sonnet-4', 'gemini-2.5-flash']);
    assert.ok(rows.every((row) => !('account' in row)));
  });

  test('requests: the newest first, as JSON and as lines', async () => {
    const json = await cli('requests', '--json', '--limit', '3');
    outputs.push(json.stdout);
    assert.equal(json.code, 0, json.stderr);
    const three = (JSON.parse(json.stdout) as { requests: RequestRecord[] }).requests;
    assert.equal(three.length, 3);
    assert.ok(three[0].time >= three[1].time && three[1].time >= three[2].time);
    servedRequests = (JSON.parse((await cli('requests', '--json')).stdout) as { requests: RequestRecord[] }).requests;
    assert.equal(servedRequests.length, 5);
    const text = await cli('requests');
    outputs.push(text.stdout);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z {2}anthropic {2}claude-sonnet-4 {2}(ann|ben)@example\.com {2}200 ok {2}tokens in \d+ out \d+/);
  });

  test('requests --follow prints the last ones, then each new one live; SIGTERM ends it with 0', async () => {
    const child = spawn(process.execPath, [CLI, 'requests', '--follow', '--json', '--limit', '1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout });
    const seen: RequestRecord[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const waiters: (() => void)[] = [];
    const lineCount = (n: number) =>
      new Promise<void>((resolve, reject) => {
        waiters.push(() => seen.length >= n && resolve());
        child.once('exit', (code) => reject(new Error(`requests --follow exited with ${code}: ${stderr}`)));
      });
    lines.on('line', (line) => {
      seen.push(JSON.parse(line) as RequestRecord);
      for (const wake of waiters) wake();
    });
    await lineCount(1); // the backlog: it is following now
    await send(5);
    await lineCount(2);
    assert.equal(seen[0].id, servedRequests[0].id, 'the last recorded one first');
    assert.notEqual(seen[1].id, seen[0].id);
    assert.equal(seen[1].outcome, 'ok');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
  });

  test('with the serve stopped: the same figures from the files it wrote at shutdown', async () => {
    const before = (JSON.parse((await cli('usage', '--json')).stdout) as { rows: UsageRow[] }).rows;
    const beforeRequests = (JSON.parse((await cli('requests', '--json')).stdout) as { requests: RequestRecord[] }).requests;
    assert.equal(await serve!.stop(), 0);
    serve = undefined;
    const r = await cli('usage', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { rows: UsageRow[] }).rows, before);
    const requests = await cli('requests', '--json');
    assert.deepEqual((JSON.parse(requests.stdout) as { requests: RequestRecord[] }).requests, beforeRequests);
    const follow = await cli('requests', '--follow');
    assert.equal(follow.code, 1);
    assert.match(follow.stderr, /no tokenpool serve is running at http:\/\/127\.0\.0\.1:\d+ to follow/);
  });

  test('bad flags are usage errors that name the flag (exit 2)', async () => {
    for (const [args, flag] of [
      [['usage', '--since', 'yesterday'], '--since'],
      [['usage', '--by', 'colour'], '--by'],
      [['requests', '--limit', '0'], '--limit'],
    ] as const) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^tokenpool: ${flag}: `), r.stderr);
    }
  });

  test('no token or API key in any output', async () => {
    const secrets = [API_KEY, ...google.issuedTokens()];
    for (const text of outputs) for (const secret of secrets) assert.ok(!text.includes(secret));
  });
});
