/**
 * Sends a committed upstream answer to the client in another protocol (DESIGN section 10): the
 * upstream codec decodes each arriving chunk into neutral events, the client codec encodes each
 * event, and what it says is written at once (no buffering of a stream). A whole answer is
 * decoded, collected and rendered as one JSON body.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { collectAnswer, type Answer, type AnswerEvent, type StreamDecoder, type StreamEncoder } from '../protocols/conversation';

/** How the client's protocol is made from the upstream's answer. */
export type AnswerTranslation =
  /** A conversation answer: upstream events -> neutral -> client events (streamed) or one rendered body. */
  | { kind: 'events'; decoder: (stream: boolean) => StreamDecoder; encoder: () => StreamEncoder; render: (answer: Answer) => unknown }
  /** A small JSON answer mapped whole (token counts). */
  | { kind: 'json'; transform: (upstream: unknown) => unknown };

/** The most a whole (non-streamed) translated answer may be; past it the answer is refused, not cut. */
const MAX_WHOLE_ANSWER_BYTES = 64 * 1024 * 1024;

export class UpstreamAnswerError extends Error {}

export async function sendTranslatedAnswer(
  res: ServerResponse,
  body: Readable,
  stream: boolean,
  translation: AnswerTranslation,
): Promise<void> {
  if (translation.kind === 'json' || !stream) return sendWhole(res, body, translation);
  const decoder = translation.decoder(true);
  const encoder = translation.encoder();
  const text = new TextDecoder();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const encode = (events: AnswerEvent[]): string => {
    let out = '';
    for (const event of events) out += encoder.push(event);
    return out;
  };
  for await (const chunk of body) {
    await write(res, encode(decoder.push(text.decode(chunk as Buffer, { stream: true }))));
  }
  const tail = text.decode();
  await write(res, encode([...(tail ? decoder.push(tail) : []), ...decoder.end()]) + encoder.end());
  res.end();
}

async function sendWhole(res: ServerResponse, body: Readable, translation: AnswerTranslation): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_WHOLE_ANSWER_BYTES) throw new UpstreamAnswerError(`the upstream answer is larger than ${MAX_WHOLE_ANSWER_BYTES} bytes`);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  let rendered: unknown;
  if (translation.kind === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UpstreamAnswerError('the upstream answer is not JSON');
    }
    rendered = translation.transform(parsed);
  } else {
    const decoder = translation.decoder(false);
    rendered = translation.render(collectAnswer([...decoder.push(text), ...decoder.end()]));
  }
  const out = JSON.stringify(rendered);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(out)) });
  res.end(out);
}

/** Writes with backpressure: waits for `drain` when the client reads slower than the model writes. */
async function write(res: ServerResponse, text: string): Promise<void> {
  if (!text || res.destroyed) return;
  if (res.write(text)) return;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
}
