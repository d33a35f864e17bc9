import { join } from 'node:path';
import { startServer } from './procs';
import { runLoad } from './http-load';
import { makeDataDir } from './datadir';
import { median } from './stats';
async function main() {
  const up = await startServer('up', ['--import', 'tsx', join(__dirname, 'upstream.ts')], '/tmp/benchscratch/up.log');
  const base = await startServer('base', ['--import', 'tsx', join(__dirname, 'baseline-proxy.ts'), '--target', up.url], '/tmp/benchscratch/base.log');
  const dir = `/tmp/benchscratch/v1`;
  await makeDataDir(dir, 1, { apiKey: 'tp-x', upstreamUrl: up.url });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer tp-x' };
  const body = JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
  const path = '/v1/projects/bench/locations/us-central1/endpoints/openapi/chat/completions';
  const targets: [string, { url: string; headers: Record<string, string>; body: string; pid?: number }][] = [
    ['direct', { url: up.url + path, headers, body }],
    ['baseline', { url: base.url + path, headers, body, pid: base.pid }],
  ];
  const servers = [up, base];
  for (const v of ['orig', 'A', 'B']) {
    const s = await startServer(v, [`/tmp/benchscratch/cli-${v}.js`, 'serve', '--data-dir', dir, '--port', '0'], `/tmp/benchscratch/${v}.log`);
    servers.push(s);
    targets.push([v, { url: s.url + '/v1/chat/completions', headers, body, pid: s.pid }]);
  }
  for (const [, t] of targets) await runLoad(t, 16, 1);
  const res: Record<string, Record<number, { p50: number[]; cpu: number[]; rps: number[] }>> = {};
  for (let r = 0; r < 4; r++) for (const c of [1, 16]) for (const [name, t] of targets) {
    const x = await runLoad(t, c, 2);
    ((res[name] ??= {})[c] ??= { p50: [], cpu: [], rps: [] });
    res[name][c].p50.push(x.p50); res[name][c].cpu.push((x.cpuMsPerReq ?? NaN) * 1000); res[name][c].rps.push(x.rps);
  }
  for (const [name, byC] of Object.entries(res)) console.log(name.padEnd(9), [1, 16].map((c) => `c=${c} p50 ${median(byC[c].p50).toFixed(3)} rps ${median(byC[c].rps).toFixed(0)} cpu ${median(byC[c].cpu).toFixed(0)}µs`).join(' | '));
  for (const s of servers.reverse()) await s.stop();
}
void main();
