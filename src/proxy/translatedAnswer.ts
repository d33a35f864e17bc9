/**
 * Sends a committed upstream answer to the client in another protocol (DESIGN section 10): the
 * upstream codec decodes each arriving chunk into neutral events, the client codec encodes each
 * event, and what it says is written at once (no buffering of a stream). A whole answer is
 * decoded, collected and rendered as one JSON body.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { collectAnswer, type Answer, type AnswerEvent, type StreamDecoder, type StreamEncoder } from '../protocols/conversation';

/** How the client's protocol is made from the upstream's answer. */
export type AnswerTranslation =
  /** A conversation answer: upstream events -> neutral -> client events (streamed) or one rendered body. */
  | { kind: 'events'; decoder: (stream: boolean) => StreamDecoder; encoder: () => StreamEncoder; render: (answer: Answer) => unknown }
  /** A small JSON answer mapped whole (token counts). */
  | { kind: 'json'; transform: (upstream: unknown) => unknown };

/** The most a whole (non-streamed) translated answer may be; past it the answer is refused, not cut. */
const MAX_WHOLE_ANSWER_BYTES = 64 * 1024 * 1024;

/** The upstream's answer itself is unusable (cut short, not JSON, too large): its fault, unlike a failure to translate it, which is ours. */
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
  // node's own UTF-8 decoder (a character split between chunks waits for its rest): about a
  // third of TextDecoder's time per chunk, which goes through an ICU converter
  const text = new StringDecoder('utf8');
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const encode = (events: AnswerEvent[]): string => {
    let out = '';
    for (const event of events) out += encoder.push(event);
    return out;
  };
  await pump(body, res, (chunk) => encode(decoder.push(text.write(chunk))));
  const tail = text.end();
  if (!res.destroyed) res.write(encode([...(tail ? decoder.push(tail) : []), ...decoder.end()]) + encoder.end());
  res.end();
}

/**
 * Translates and writes each upstream chunk as it arrives, synchronously in its `data` event (no
 * async iterator, no promise per chunk: measured, about half the proxy CPU per streamed event).
 * Backpressure: the upstream is paused while the client's socket is full, resumed on `drain`.
 * Resolves at the upstream's end; rejects on its error or when translating throws.
 */
function pump(body: Readable, res: ServerResponse, translate: (chunk: Buffer) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      res.off('drain', onDrain);
      res.off('close', onResClose);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      let out: string;
      try {
        out = translate(chunk);
      } catch (err) {
        done(err);
        // undici answers destroy() with an 'error' event, after done() took our listener away:
        // without this one, a translation failure would be an uncaught exception (the process dies)
        body.on('error', () => {});
        body.destroy();
        return;
      }
      if (out && !res.write(out)) body.pause();
    };
    const onDrain = (): void => void body.resume();
    const onEnd = (): void => done();
    const onError = (err: Error): void => done(err);
    // destroyed without an error (no 'end' came first): the answer is incomplete
    const onClose = (): void => done(new UpstreamAnswerError('upstream answer closed before its end'));
    // The client went away: the forward loop's signal aborts the upstream request; stop here.
    const onResClose = (): void => done();
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
    res.on('drain', onDrain);
    res.once('close', onResClose);
  });
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
