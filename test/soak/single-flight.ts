/**
 * Single-flight refresh: 500 requests at once on accounts whose access token has expired, then 500
 * at once on accounts whose token Google no longer accepts (upstream 401), with a token endpoint
 * that takes 1.5 s to answer. Each account must be refreshed exactly once.
 */
import { sampleRequest } from '../helpers/proxy-harness';
import { call, makeDataDir, removeDir, serve, startFakes } from './env';
import { Figures } from './report';

const ACCOUNTS = 4;

async function burst(f: Figures, what: string, token: 'expired' | 'unknown', concurrent: number): Promise<void> {
  const fakes = await startFakes();
  const data = await makeDataDir(fakes, ACCOUNTS, { token, prefix: `sf-${token}-` });
  const proc = await serve(data);
  try {
    fakes.google.script({ kind: 'slow', delayMs: 1500 });
    const shapes = ['openai', 'anthropic', 'google'] as const;
    const answers = await Promise.all(Array.from({ length: concurrent }, (_, i) => {
      const { path, body } = sampleRequest(shapes[i % 3], { prompt: `burst ${i}` });
      return call(proc.url, path, { body, apiKey: data.apiKey, timeoutMs: 60_000 });
    }));
    const perAccount = data.accounts.map((a) => fakes.google.tokenCalls(a.email));
    f.goal(`${what}: token calls, the most for one account`, Math.max(...perAccount), { max: 1 });
    f.goal(`${what}: token calls, the fewest for one account`, Math.min(...perAccount), { min: 1 });
    f.goal(`${what}: answers not 200`, answers.filter((a) => a.status !== 200).length, { max: 0 });
    if (token === 'unknown') {
      f.goal(`${what}: upstream 401 answers that led to the refresh`, fakes.upstream.requests.filter((r) => r.status === 401).length, { min: 1 });
    }
    f.info(`${what}: slowest answer`, Math.max(...answers.map((a) => a.ms)), 'ms');
    const bad = answers.find((a) => a.status !== 200);
    if (bad) f.note(`${what}: e.g. ${bad.status || bad.error} ${bad.text.slice(0, 200)}`);
  } finally {
    await proc.stop();
    await fakes.close();
    await removeDir(data.dir);
  }
}

export async function singleFlight(f: Figures, opts: { concurrent: number }): Promise<void> {
  await burst(f, 'expired token', 'expired', opts.concurrent);
  await burst(f, 'upstream 401', 'unknown', opts.concurrent);
}
