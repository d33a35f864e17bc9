import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { startServer } from './procs';
import { runLoad } from './http-load';
import { makeDataDir } from './datadir';
import { summarizeProfile, formatProfile } from './profile';
async function main() {
  const n = Number(process.argv[2]);
  const up = await startServer('up', ['--import', 'tsx', join(__dirname, 'upstream.ts')], '/tmp/benchscratch/up.log');
  const dir = `/tmp/benchscratch/d${n}`;
  await makeDataDir(dir, n, { apiKey: 'tp-x', upstreamUrl: up.url });
  const prof = `/tmp/benchscratch/prof${n}`;
  const tp = await startServer('tp', ['--cpu-prof', '--cpu-prof-dir', prof, join(__dirname, '../dist/cli.js'), 'serve', '--data-dir', dir, '--port', '0'], '/tmp/benchscratch/tp.log');
  const headers = { 'content-type': 'application/json', authorization: 'Bearer tp-x' };
  const body = JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
  const r = await runLoad({ url: tp.url + '/v1/chat/completions', headers, body, pid: tp.pid }, 16, 5);
  console.log(JSON.stringify(r));
  await tp.stop(); await up.stop();
  const f = readdirSync(prof)[0];
  console.log(formatProfile(f, summarizeProfile(join(prof, f), join(__dirname, '../dist/cli.js'), 30)));
}
void main();
