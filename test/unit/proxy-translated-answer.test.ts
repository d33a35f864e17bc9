import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { anthropicStreamEncoder, renderAnthropicAnswer } from '../../src/protocols/anthropic';
import { geminiAnswerDecoder } from '../../src/protocols/gemini-answer';
import { sendTranslatedAnswer, type AnswerTranslation } from '../../src/proxy/translatedAnswer';

const MODEL = 'claude-sonnet-4-5';
const translation: AnswerTranslation = {
  kind: 'events',
  decoder: (stream) => geminiAnswerDecoder({ stream, model: 'gemini-2.5-pro' }),
  encoder: () => anthropicStreamEncoder({ model: MODEL }),
  render: (answer) => renderAnthropicAnswer(answer, MODEL),
};

const geminiEvent = (text: string, finish?: string): string =>
  `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}) }], responseId: 'r1' })}\r\n\r\n`;

/** Each request's upstream body is whatever the test puts in `next`. */
let next: () => Readable;
let base = '';
const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
  sendTranslatedAnswer(res, next(), true, translation).catch((err: Error) => res.destroy(err));
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** The text of every `text_delta` in an Anthropic stream, joined, and the event types in order. */
function readStream(body: string): { text: string; types: string[] } {
  const events = body.split('\n\n').filter(Boolean).map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
  const text = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta').map((e) => e.delta.text).join('');
  return { text, types: events.map((e) => e.type as string) };
}

describe('sendTranslatedAnswer (streamed)', () => {
  test('a UTF-8 character split between two upstream chunks arrives whole', async () => {
    const bytes = Buffer.from(geminiEvent('naïve 🚀 ok') + geminiEvent('.', 'STOP'));
    const rocket = bytes.indexOf(Buffer.from('🚀'));
    // cut inside the 4-byte rocket and inside the 2-byte ï
    const bounds = [0, bytes.indexOf(Buffer.from('ï')) + 1, rocket + 2, rocket + 3, bytes.length];
    const pieces = bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
    assert.equal(Buffer.concat(pieces).toString(), bytes.toString());
    next = () => Readable.from(pieces, { objectMode: false });
    const res = await fetch(base);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const { text, types } = readStream(await res.text());
    assert.equal(text, 'naïve 🚀 ok.');
    assert.equal(types.at(-1), 'message_stop');
  });

  test('a last upstream event without its blank line is still translated, and the stream closes', async () => {
    next = () => Readable.from([Buffer.from(geminiEvent('Hello') + geminiEvent(' there', 'STOP').trimEnd())]);
    const { text, types } = readStream(await (await fetch(base)).text());
    assert.equal(text, 'Hello there');
    assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
  });

  test('the upstream is held back while the client reads nothing, and every event arrives once it does', async () => {
    const upstream = new PassThrough();
    next = () => upstream;
    const big = 'x'.repeat(16 * 1024);
    const events = 2000; // 32 MiB of text: more than the sockets between here and the client hold
    const req = request(base);
    const response = new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    req.end();
    const res = await response;
    res.pause(); // the client reads nothing: the proxy's socket fills up
    /** Writes one event; false when the upstream stays full for 300 ms (nobody reads it). */
    const feed = async (): Promise<boolean> => {
      if (upstream.write(geminiEvent(big))) return true;
      const drained = new Promise<boolean>((resolve) => upstream.once('drain', () => resolve(true)));
      return Promise.race([drained, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))]);
    };
    let written = 0;
    while (written < events && (await feed())) written++;
    assert.ok(written < events / 2, `the upstream was read without limit (${written} of ${events} events taken)`);
    const body: Buffer[] = [];
    res.on('data', (chunk: Buffer) => body.push(chunk));
    res.resume();
    await new Promise((resolve) => upstream.once('drain', resolve));
    for (written++; written < events; written++) {
      if (!upstream.write(geminiEvent(big))) await new Promise((resolve) => upstream.once('drain', resolve));
    }
    upstream.end(geminiEvent('', 'STOP'));
    await new Promise((resolve) => res.once('end', resolve));
    const { text, types } = readStream(Buffer.concat(body).toString('utf8'));
    assert.equal(text.length, events * big.length);
    assert.equal(types.at(-1), 'message_stop');
  });
});
