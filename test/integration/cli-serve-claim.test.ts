/**
 * serve.json (README, "Usage"): `tokenpool serve` says where it listens, so `tokenpool usage` finds
 * a serve started on any `--port`; a second serve on the same data directory counts in memory only
 * and leaves the first one's usage files alone; a claim whose process is gone is ignored by readers
 * and replaced by the next serve; the claim goes when the serve stops. Real processes, real files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { claimDecision, serveClaimPath, type ServeClaim } from '../../src/core/serveClaim';
import type { UsageRow } from '../../src/core/usage/aggregates';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream } from '../fakes/upstream';
import { CLI, eventually, freePort, runCli, startServe, tempDataDir, type ServeProcess } from '../helpers/cli';
import { sampleRequest } from '../helpers/proxy-harness';

const API_KEY = 'tp-' + 'd'.repeat(32);

describe('who keeps the usage files: the decision', () => {
  const claim = (pid: number): ServeClaim => ({ pid, host: '127.0.0.1', port: 8046, version: 'x', started: '2026-12-03T00:00:00.000Z' });
  const table: { name: string; found: ServeClaim | undefined; runs: boolean; want: ReturnType<typeof claimDecision> }[] = [
    { name: 'no claim (or one that does not parse)', found: undefined, runs: false, want: 'take' },
    { name: 'a live serve holds it', found: claim(111), runs: true, want: 'leave' },
    { name: 'its process is gone', found: claim(111), runs: false, want: 'replace' },
    { name: 'it is this process’s own', found: claim(222), runs: true, want: 'replace' },
  ];
  for (const row of table) test(row.name, () => assert.equal(claimDecision(row.found, row.runs, 222), row.want));
});


/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('serve.json: finding the serve, one writer per data directory', () => {
  let google: FakeGoogle;
  let upstream: FakeUpstream;
  let dataDir: string;
  const serves: ServeProcess[] = [];
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);
  const send = async (serve: ServeProcess, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const { path, body } = sampleRequest('google', { prompt: `request ${i}` });
      const r = await fetch(`${serve.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, await r.text());
    }
  };
  const usageRequests = async (): Promise<number> => {
    const r = await cli('usage', '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { rows: UsageRow[] }).rows.reduce((n, row) => n + row.requests, 0);
  };

  before(async () => {
    google = await FakeGoogle.start();
    upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t) });
    dataDir = await tempDataDir();
    // the configured port has nothing on it: the serves below listen on ports of their own (--port 0)
    await fs.writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ proxy: { api_key: API_KEY, port: await freePort() }, oauth: google.oauthConfig(), upstream: { base_url: upstream.url, project_id: 'claim-project' } }),
    );
    const added = await cli('accounts', 'add', '--refresh-token', google.addUser('cat@example.com').refreshToken);
    assert.equal(added.code, 0, added.stderr);
  });

  after(async () => {
    for (const s of serves) await s.stop();
    await upstream.close();
    await google.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  test('a stale claim (its process is gone) is ignored by the CLI and replaced by the next serve', async () => {
    const stale = { pid: deadPid(), host: '127.0.0.1', port: 9, version: 'old', started: '2026-01-01T00:00:00.000Z' };
    await fs.writeFile(serveClaimPath(dataDir), JSON.stringify(stale));
    assert.equal(await usageRequests(), 0, 'no serve: the (empty) files');
    const first = await startServe(['--data-dir', dataDir]);
    serves.push(first);
    const claim = JSON.parse(await fs.readFile(serveClaimPath(dataDir), 'utf8')) as ServeClaim;
    assert.equal(claim.pid, first.child.pid);
    assert.equal(`http://${claim.host}:${claim.port}`, first.url);
    assert.equal((await fs.stat(serveClaimPath(dataDir))).mode & 0o777, 0o600);
    assert.ok(!JSON.stringify(claim).includes(API_KEY), 'no key in serve.json');
  });

  test('tokenpool usage asks the serve where serve.json says it listens, not the configured port', async () => {
    await send(serves[0], 3);
    // the files are written every 5 s: right away only the serve itself can know of these three
    assert.equal(await usageRequests(), 3);
    const requests = await cli('requests', '--json');
    assert.equal((JSON.parse(requests.stdout) as { requests: unknown[] }).requests.length, 3);
    // --follow has no files to fall back on: it reaches the serve through serve.json or fails
    const follow = spawn(process.execPath, [CLI, 'requests', '--follow', '--json', '--limit', '1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      follow.stderr.on('data', (d: Buffer) => (stderr += d));
      const exited = once(follow, 'exit').then(() => {
        throw new Error(`requests --follow ended without a line: ${stderr}`);
      });
      const [line] = (await Promise.race([once(createInterface({ input: follow.stdout }), 'line'), exited])) as [string];
      assert.equal((JSON.parse(line) as { protocol: string }).protocol, 'gemini');
    } finally {
      if (follow.exitCode === null) {
        follow.kill('SIGINT');
        await once(follow, 'exit');
      }
    }
  });

  test('a second serve on the same data directory counts in memory only and says so; the first keeps the files', async () => {
    const second = await startServe(['--data-dir', dataDir]);
    serves.push(second);
    await eventually(async () => second.log().includes('counts in memory only'), 5000, 'the second serve’s warning');
    assert.match(second.log(), /stop the other one, or give this one its own data directory/);
    assert.match(second.log(), new RegExp(`another tokenpool serve \\(pid ${serves[0].child.pid} at ${serves[0].url.replace(/[.]/g, '\\.')}\\)`));
    await send(second, 2);
    const own = (await (await fetch(`${second.url}/admin/usage`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { rows: UsageRow[] };
    assert.equal(own.rows.reduce((n, row) => n + row.requests, 0), 2, 'the second serve counts its own requests');
    assert.equal((await second.stop()) ?? 0, 0);
    const claim = JSON.parse(await fs.readFile(serveClaimPath(dataDir), 'utf8')) as ServeClaim;
    assert.equal(claim.pid, serves[0].child.pid, 'the second serve leaves the first one’s claim');
    assert.equal(await usageRequests(), 3, 'still asked of the first serve');
  });

  test('the claim goes when the serve stops; the files hold what it counted, not the second serve’s', async () => {
    assert.equal(await serves[0].stop(), 0);
    await assert.rejects(fs.stat(serveClaimPath(dataDir)), { code: 'ENOENT' });
    assert.equal(await usageRequests(), 3, 'read from the files now');
    const follow = await cli('requests', '--follow');
    assert.equal(follow.code, 1);
    assert.match(follow.stderr, /no tokenpool serve is running at http:\/\/127\.0\.0\.1:\d+ to follow/);
  });
});
