/**
 * Secrets: a CLI story (add, list, check, proxy-disable/enable, remove --revoke, a bad token, a
 * revoked one) and a serve at -v, then everything the whole run made the product say (every log
 * line at -v, every response header and body, every CLI output, the usage views and the usage
 * files under usage/) scanned for every token any FakeGoogle issued, whole and as 8-character
 * pieces, and for every API key. Runs last.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { sampleRequest } from '../helpers/proxy-harness';
import { call, cli, googles, makeDataDir, removeDir, serve, startFakes, transcript, type DataDir } from './env';
import { Figures } from './report';

const PIECE = 8;

/** The random part of a token: what follows its fixed prefix (`ya29.fake-`, `1//fake-`). */
const randomPart = (token: string): string => token.slice(token.lastIndexOf('-') + 1);

async function cliStory(f: Figures): Promise<void> {
  const fakes = await startFakes();
  const data = await makeDataDir(fakes, 2, { prefix: 'secret' });
  try {
    const added = fakes.google.addUser('added@soak.example');
    const steps: [string, string[]][] = [
      ['add', ['accounts', 'add', '--refresh-token', added.refreshToken]],
      ['list', ['accounts', 'list']],
      ['list --json', ['accounts', 'list', '--json']],
      ['check', ['accounts', 'check']],
      ['check --json', ['accounts', 'check', data.accounts[0].email, '--json']],
      ['proxy-disable', ['accounts', 'proxy-disable', data.accounts[1].email]],
      ['proxy-enable', ['accounts', 'proxy-enable', data.accounts[1].email]],
      ['add a bad token', ['accounts', 'add', '--refresh-token', '1//not-a-token-issued-by-google']],
    ];
    let ran = 0;
    for (const [, args] of steps) {
      await cli(data, args);
      ran++;
    }
    fakes.google.revokeRefreshToken(data.accounts[0].refreshToken);
    await cli(data, ['accounts', 'check', data.accounts[0].email]);
    await cli(data, ['accounts', 'remove', 'added@soak.example', '--revoke']);
    ran += 2;
    const proc = await serve(data);
    for (const shape of ['openai', 'anthropic', 'google'] as const) {
      for (const stream of [false, true]) {
        const { path, body } = sampleRequest(shape, { stream });
        await call(proc.url, path, { body, apiKey: data.apiKey });
      }
    }
    fakes.upstream.fail({ kind: 'status', status: 403, times: 3, message: 'denied' });
    await call(proc.url, sampleRequest('openai').path, { body: sampleRequest('openai').body, apiKey: data.apiKey });
    await call(proc.url, '/admin/accounts', { apiKey: data.apiKey });
    await call(proc.url, '/v1/models', { apiKey: 'tp-wrong' });
    // the usage views (DESIGN section 11), the live follow included
    for (const path of ['/admin/usage', '/admin/usage?by=hour,model', '/admin/requests', '/admin/headroom', '/metrics']) {
      await call(proc.url, path, { apiKey: data.apiKey });
    }
    await call(proc.url, '/admin/requests', { apiKey: data.apiKey, headers: { accept: 'text/event-stream' }, timeoutMs: 1000 });
    await proc.stop();
    // the CLI's usage views read the files the serve wrote at shutdown
    for (const args of [['usage'], ['usage', '--json', '--by', 'day'], ['requests'], ['requests', '--json']]) {
      await cli(data, args);
      ran++;
    }
    f.info('usage files scanned', await addUsageFiles(data));
    f.info('CLI commands run for the scan', ran);
  } finally {
    await fakes.close();
    await removeDir(data.dir);
  }
}

/** Every file under the data directory's usage/ joins the transcript; how many there were. */
async function addUsageFiles(data: DataDir): Promise<number> {
  const dir = join(data.dir, 'usage');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) transcript.add(await fs.readFile(join(dir, name), 'utf8'));
  return names.length;
}

export async function secrets(f: Figures): Promise<void> {
  await cliStory(f);
  const tokens = new Set(googles.flatMap((g) => g.issuedTokens()));
  const pieces = new Map<string, string>();
  for (const token of tokens) {
    const part = randomPart(token);
    for (let i = 0; i + PIECE <= part.length; i++) pieces.set(part.slice(i, i + PIECE), token.startsWith('1//') ? 'refresh token' : 'access token');
  }
  // API keys: whole, and their two 16-hex-digit halves (8 hex digits recur by chance in ids).
  const keyParts = [...transcript.apiKeys].flatMap((k) => [k, k.slice(3, 19), k.slice(19)]);

  let hits = 0;
  let bytes = 0;
  const examples: string[] = [];
  const scan = (text: string, onHit: (what: string, at: number, len: number) => void): void => {
    for (let i = 0; i + PIECE <= text.length; i++) {
      const kind = pieces.get(text.slice(i, i + PIECE));
      if (kind) onHit(`a piece of ${kind}`, i, PIECE);
    }
    for (const key of keyParts) {
      const at = text.indexOf(key);
      if (at >= 0) onHit('the API key', at, key.length);
    }
  };
  for (const text of transcript.texts) {
    bytes += text.length;
    scan(text, (what, at, len) => {
      hits++;
      if (examples.length < 5) examples.push(`${what} in: …${text.slice(Math.max(0, at - 60), at)}<${len} chars>${text.slice(at + len, at + len + 60)}…`);
    });
  }
  // The scan itself must see a leak: 8 characters from the middle of a token, and a key.
  const sample = [...tokens][0] ?? '';
  let planted = 0;
  scan(`refreshed …${randomPart(sample).slice(10, 10 + PIECE)}… for`, () => planted++);
  scan(`key ${[...transcript.apiKeys][0] ?? ''}`, () => planted++);
  f.goal('hits (tokens, 8-character pieces, API keys)', hits, { max: 0 });
  f.goal('planted leaks the scan catches (a token piece, an API key)', planted, { min: 2 });
  f.goal('tokens issued by the fakes and looked for', tokens.size, { min: 10 });
  f.info('API keys looked for', transcript.apiKeys.size);
  f.info('texts scanned (logs, answers, CLI outputs)', transcript.texts.length);
  f.info('characters scanned', Math.round(bytes / 1e5) / 10, 'M');
  for (const e of examples) f.note(e);
}
