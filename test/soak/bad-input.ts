/**
 * Bad input: a corpus of malformed bodies on every API route, hostile requests to the translation
 * layer (bad-translation.ts), wrong keys, hosts, origins and methods, broken HTTP, and clients that
 * stall or vanish. Never a 5xx, never a hang (10 s), every answer of ours (a JSON body) in the
 * caller's error shape for its path, and the server still answers /healthz after each case, a real
 * request while 20 clients stall, and a neighbour's request promptly while the worst translation
 * case runs.
 */
import { once } from 'node:events';
import { assertErrorShape, sampleRequest, type ErrorShape } from '../helpers/proxy-harness';
import { translationCases, worstCase } from './bad-translation';
import { call, makeDataDir, removeDir, serve, sleep, startFakes } from './env';
import { exchange, requestBytes, stalled, type RawRequest } from './raw-http';
import { Figures } from './report';

interface Case {
  name: string;
  request: RawRequest | Buffer | ((port: number) => Buffer);
}

const shapeOf = (path: string): ErrorShape => {
  const p = path.split('?')[0];
  if (p === '/v1/chat/completions' || p === '/v1/responses' || p.startsWith('/v1/models')) return 'openai';
  if (p.startsWith('/v1/messages')) return 'anthropic';
  return 'google';
};

const ROUTES: { name: string; path: string; valid: Record<string, unknown> }[] = [
  { name: 'chat', path: sampleRequest('openai').path, valid: sampleRequest('openai').body },
  { name: 'responses', path: '/v1/responses', valid: { model: 'gemini-2.5-flash', input: 'hi' } },
  { name: 'messages', path: sampleRequest('anthropic').path, valid: sampleRequest('anthropic').body },
  { name: 'gemini', path: sampleRequest('google').path, valid: sampleRequest('google').body },
];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function bodyCases(maxBody: number, apiKey: string): Case[] {
  const cases: Case[] = [];
  for (const { name, path, valid } of ROUTES) {
    const gemini = name === 'gemini';
    const listKey = gemini ? 'contents' : name === 'responses' ? 'input' : 'messages';
    const with_ = (extra: Record<string, unknown>): string => JSON.stringify({ ...valid, ...extra });
    const bodies: [string, string | Buffer, Record<string, string>?][] = [
      ['empty body', ''],
      ['null', 'null'],
      ['an array', '[]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['invalid JSON', '{'],
      ['truncated JSON', JSON.stringify(valid).slice(0, 30)],
      ['nesting 5000 deep', '['.repeat(5000) + ']'.repeat(5000)],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')])],
      ['text/plain content type', JSON.stringify(valid), { 'content-type': 'text/plain' }],
      ['no model / contents', JSON.stringify(gemini ? {} : { ...valid, model: undefined })],
      ['model is a number', with_({ model: 42 })],
      [`${listKey} is a string`, with_({ [listKey]: 'not a list' })],
      ['unknown role', with_({ [listKey]: [{ role: 'robot', content: 'hi', parts: [{ text: 'hi' }] }] })],
      ['content of a strange type', with_({ [listKey]: [{ role: 'user', content: { foo: 1 }, parts: 7 }] })],
      ['tools not a list', with_({ tools: 'x' })],
      ['stream is a string', with_({ stream: 'yes' })],
      ['max_tokens negative', with_({ max_tokens: -1, max_output_tokens: -1, generationConfig: { maxOutputTokens: -1 } })],
      ['__proto__ key', `{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`],
      ['body over max_body_bytes', JSON.stringify({ ...valid, pad: 'x'.repeat(maxBody + 1024) })],
      ['NUL characters', with_({ [listKey]: gemini ? [{ role: 'user', parts: [{ text: 'a\u0000b' }] }] : [{ role: 'user', content: 'a\u0000b' }] })],
      ['temperature 1e999', `{"temperature":1e999,${JSON.stringify(valid).slice(1)}`],
      ['an unknown model', with_({ model: 'no-such-model-anywhere' })],
    ];
    for (const [what, body, headers] of bodies) {
      const target = gemini && what === 'an unknown model' ? '/v1beta/models/no-such-model:generateContent' : path;
      cases.push({ name: `${name}: ${what}`, request: { path: target, body, headers: { authorization: `Bearer ${apiKey}`, ...headers } } });
    }
  }
  return cases;
}

function requestCases(apiKey: string): Case[] {
  const chat = sampleRequest('openai');
  const body = JSON.stringify(chat.body);
  const c = (name: string, r: RawRequest): Case => ({ name, request: { ...r, headers: { authorization: `Bearer ${apiKey}`, ...r.headers } } });
  return [
    c('no API key', { path: chat.path, body, headers: { authorization: undefined } }),
    c('wrong API key', { path: chat.path, body, headers: { authorization: 'Bearer tp-wrong' } }),
    c('wrong x-api-key on messages', { path: '/v1/messages', body: JSON.stringify(sampleRequest('anthropic').body), headers: { authorization: undefined, 'x-api-key': 'nope' } }),
    c('wrong ?key= on gemini', { path: '/v1beta/models/gemini-2.5-flash:generateContent?key=nope', body: JSON.stringify(sampleRequest('google').body), headers: { authorization: undefined } }),
    c('Basic authorization', { path: chat.path, body, headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
    c('empty Bearer', { path: chat.path, body, headers: { authorization: 'Bearer ' } }),
    c('a 10 KB API key', { path: chat.path, body, headers: { authorization: `Bearer ${'k'.repeat(10_000)}` } }),
    c('Host evil.example', { path: chat.path, body, headers: { host: 'evil.example' } }),
    c('Host with another port', { path: '/v1/models', method: 'GET', headers: { host: '127.0.0.1:1' } }),
    c('no Host header', { path: '/v1/models', method: 'GET', headers: { host: undefined } }),
    c('Origin evil.example', { path: chat.path, body, headers: { origin: 'https://evil.example' } }),
    c('Origin null', { path: chat.path, body, headers: { origin: 'null' } }),
    c('preflight from evil.example', { path: chat.path, method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }),
    c('OPTIONS without Origin', { path: chat.path, method: 'OPTIONS' }),
    c('PUT on chat', { path: chat.path, method: 'PUT', body }),
    c('DELETE on messages', { path: '/v1/messages', method: 'DELETE' }),
    c('PATCH on gemini', { path: '/v1beta/models/gemini-2.5-flash:generateContent', method: 'PATCH', body: '{}' }),
    c('GET on messages', { path: '/v1/messages', method: 'GET' }),
    c('TRACE /', { path: '/', method: 'TRACE' }),
    c('unknown path', { path: '/v2/whatever', method: 'GET' }),
    c('path traversal', { path: '/../../etc/passwd', method: 'GET' }),
    c('double-slash host-like path', { path: '//evil.example/v1/models', method: 'GET' }),
    c('absolute-form target', { path: 'http://evil.example/v1/models', method: 'GET' }),
    c('bad percent-encoding', { path: '/v1beta/models/%zz:generateContent', body: '{}' }),
    c('encoded slash in the model', { path: '/v1beta/models/x%2F..%2F..:generateContent', body: JSON.stringify(sampleRequest('google').body) }),
    c('gemini unknown method', { path: '/v1beta/models/gemini-2.5-flash:deleteEverything', body: '{}' }),
    c('a 6 KB path', { path: `/v1/${'a'.repeat(6000)}`, method: 'GET' }),
    c('admin without key', { path: '/admin/accounts', method: 'GET', headers: { authorization: undefined } }),
    c('chunked body', { path: chat.path, body: `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`, headers: { 'content-length': undefined, 'transfer-encoding': 'chunked' } }),
    c('bad chunk size', { path: chat.path, body: 'zz\r\nhello\r\n0\r\n\r\n', headers: { 'content-length': undefined, 'transfer-encoding': 'chunked' } }),
    c('Content-Length and Transfer-Encoding', { path: chat.path, body: `5\r\nhello\r\n0\r\n\r\n`, headers: { 'transfer-encoding': 'chunked' } }),
    c('Content-Length shorter than the body', { path: chat.path, body, headers: { 'content-length': '5' } }),
    c('Content-Length not a number', { path: chat.path, body, headers: { 'content-length': 'abc' } }),
    c('a 20 KB header', { path: '/v1/models', method: 'GET', headers: { 'x-filler': 'f'.repeat(20_000) } }),
    { name: 'garbage request line', request: Buffer.from('HELLO THERE\r\n\r\n') },
    { name: 'HTTP/2 preface', request: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') },
    { name: 'HTTP/1.0 without Host', request: Buffer.from('GET /healthz HTTP/1.0\r\n\r\n') },
    { name: 'binary noise', request: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)) },
  ];
}

export async function badInput(f: Figures): Promise<void> {
  const fakes = await startFakes({ pace: { chunks: 20, intervalMs: 50 } });
  const maxBody = 256 * 1024;
  const data = await makeDataDir(fakes, 2, { prefix: 'bad', configure: (c) => (c.proxy.max_body_bytes = maxBody) });
  const proc = await serve(data);
  const port = Number(new URL(proc.url).port);
  let fiveXX = 0;
  let hangs = 0;
  let wrongShape = 0;
  let notServing = 0;
  let byParser = 0;
  let checked = 0;
  const statuses = new Map<number, number>();
  const examples: string[] = [];
  const note = (text: string): void => void (examples.length < 8 && examples.push(text));
  try {
    const translation: Case[] = translationCases().map((t) => ({ name: t.name, request: { path: t.path, body: t.body, headers: { authorization: `Bearer ${data.apiKey}` } } }));
    const cases = [...bodyCases(maxBody, data.apiKey), ...translation, ...requestCases(data.apiKey)];
    const translationStatuses = new Map<number, number>();
    let slowestTranslation = 0;
    for (const k of cases) {
      const bytes = Buffer.isBuffer(k.request) ? k.request : typeof k.request === 'function' ? k.request(port) : requestBytes(port, k.request);
      const path = Buffer.isBuffer(k.request) || typeof k.request === 'function' ? '/' : k.request.path;
      const a = await exchange(port, bytes);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (translation.includes(k)) {
        translationStatuses.set(a.status, (translationStatuses.get(a.status) ?? 0) + 1);
        slowestTranslation = Math.max(slowestTranslation, a.ms);
      }
      if (a.timedOut) {
        hangs++;
        note(`${k.name}: no answer within 10 s`);
      } else if (a.status >= 500) {
        fiveXX++;
        note(`${k.name}: ${a.status} ${a.body.slice(0, 200)}`);
      }
      if (a.status >= 400 && (a.headers['content-type'] ?? '').includes('json')) {
        checked++;
        try {
          assertErrorShape(shapeOf(path.startsWith('/') ? path : '/'), a.status, JSON.parse(a.body));
        } catch (err) {
          wrongShape++;
          note(`${k.name}: ${a.status} not in the ${shapeOf(path)} error shape: ${a.body.slice(0, 160)} (${(err as Error).message.split('\n')[0]})`);
        }
      } else if (a.status >= 400) byParser++;
      const health = await call(proc.url, '/healthz', { apiKey: data.apiKey, timeoutMs: 5000 });
      if (health.status !== 200) {
        notServing++;
        note(`${k.name}: /healthz then answered ${health.status || health.error}`);
      }
    }

    // A neighbour while the worst translation case runs: a plain chat request sent 20 ms after it
    // (its time includes the fake upstream's, which shares this process with the runner), and a
    // GET /v1/models the proxy answers itself (its time is the proxy's event loop alone).
    const chat = sampleRequest('openai');
    const neighbourAlone: number[] = [];
    const neighbourBeside: number[] = [];
    const modelsBeside: number[] = [];
    const worstMs: number[] = [];
    const worst = worstCase();
    for (let round = 0; round < 5; round++) {
      neighbourAlone.push((await call(proc.url, chat.path, { body: chat.body, apiKey: data.apiKey, timeoutMs: 30_000 })).ms);
      const running = call(proc.url, worst.path, { body: worst.body, apiKey: data.apiKey, timeoutMs: 30_000 });
      await sleep(20);
      const [beside, models] = await Promise.all([
        call(proc.url, chat.path, { body: chat.body, apiKey: data.apiKey, timeoutMs: 30_000 }),
        call(proc.url, '/v1/models', { apiKey: data.apiKey, timeoutMs: 30_000 }),
      ]);
      modelsBeside.push(models.ms);
      const w = await running;
      if (beside.status !== 200 || w.status !== 200) {
        notServing++;
        note(`neighbour round ${round}: neighbour ${beside.status || beside.error}, worst case ${w.status || w.error}`);
      }
      neighbourBeside.push(beside.ms);
      worstMs.push(w.ms);
    }

    // Clients that stall: 20 sockets with half a body, and one with half its headers.
    const full = requestBytes(port, { path: chat.path, body: JSON.stringify(chat.body), headers: { authorization: `Bearer ${data.apiKey}` } });
    const sockets = await Promise.all([
      ...Array.from({ length: 20 }, () => stalled(port, full.subarray(0, full.length - 10))),
      stalled(port, Buffer.from('POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0')),
    ]);
    const during = await call(proc.url, chat.path, { body: chat.body, apiKey: data.apiKey, timeoutMs: 5000 });
    if (during.status !== 200 || during.ms > 2000) {
      notServing++;
      note(`while 21 clients stall: ${during.status || during.error} in ${Math.round(during.ms)} ms`);
    }
    for (const s of sockets) s.destroy();

    // Clients that vanish: mid-body, right after the request, and in the middle of a stream.
    (await stalled(port, full.subarray(0, 40))).destroy();
    (await stalled(port, full)).destroy();
    const streamReq = sampleRequest('openai', { stream: true });
    const before = fakes.upstream.requests.length;
    const streaming = await stalled(port, requestBytes(port, { path: streamReq.path, body: JSON.stringify(streamReq.body), headers: { authorization: `Bearer ${data.apiKey}` } }));
    await once(streaming, 'data');
    streaming.destroy();
    await sleep(1500);
    const upstreamOfVanished = fakes.upstream.requests.slice(before).find((r) => /stream/i.test(r.path) || (r.body as { stream?: boolean } | undefined)?.stream === true);
    const after = await call(proc.url, chat.path, { body: chat.body, apiKey: data.apiKey, timeoutMs: 5000 });
    if (after.status !== 200) {
      notServing++;
      note(`after the vanished clients: ${after.status || after.error}`);
    }
    const alive = proc.child.exitCode === null && proc.child.signalCode === null;

    f.goal('cases in the corpus', cases.length + 4, { min: 80 });
    f.goal('translation cases (chat, responses, messages)', translation.length, { min: 100 });
    f.goal('neighbour request while the worst translation case runs, slowest of 5', Math.max(...neighbourBeside), { max: 1000 }, 'ms');
    f.info('the same neighbour request alone, slowest of 5', Math.max(...neighbourAlone), 'ms');
    f.info('GET /v1/models (answered by the proxy itself) beside the worst case, slowest of 5', Math.max(...modelsBeside), 'ms');
    f.info('the same, median of 5', median(modelsBeside), 'ms');
    f.info('the worst translation case itself (a $ref graph of 2^20 copies), slowest of 5', Math.max(...worstMs), 'ms');
    f.info('slowest answer to a translation case', slowestTranslation, 'ms');
    f.note(`translation statuses: ${[...translationStatuses.entries()].sort((x, y) => x[0] - y[0]).map(([code, n]) => `${code}×${n}`).join(', ')}`);
    f.goal('5xx answers', fiveXX, { max: 0 });
    f.goal('hangs (no answer within 10 s)', hangs, { max: 0 });
    f.goal('JSON errors not in the caller\'s shape', wrongShape, { max: 0 });
    f.goal('times the server then failed to serve', notServing, { max: 0 });
    f.goal('crashes', alive ? 0 : 1, { max: 0 });
    f.goal('upstream stream of a vanished client aborted', upstreamOfVanished?.outcome === 'aborted' ? 1 : 0, { min: 1 });
    f.info('error answers of ours checked for the caller\'s shape', checked);
    f.note(`statuses: ${[...statuses.entries()].sort((x, y) => x[0] - y[0]).map(([code, n]) => `${code}×${n}`).join(', ')}`);
    f.info('errors answered by node\'s HTTP parser (no body, before our code)', byParser);
    for (const e of examples) f.note(e);
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop();
    await fakes.close();
    await removeDir(data.dir);
  }
}
