/**
 * The proxy client's HTTP response as the attempt loop's sink (forward.ts): what a committed
 * upstream answer becomes on the wire, byte for byte or through its translation.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { AnswerSink, ForwardCall } from './forward';
import { clientHeaders } from './headers';
import { sendTranslatedAnswer } from './translatedAnswer';

/** A non-streamed answer up to this size is sent in one write; a larger one is passed through as it arrives. */
const MAX_BUFFERED_ANSWER_BYTES = 1024 * 1024;

/**
 * The proxy client's HTTP response as a sink. A stream: headers go out at once, then every chunk
 * as it arrives (backpressure from the client, no buffering, no compression). A non-streamed
 * answer: read whole, then headers and body in one write (the client waits for the whole answer
 * anyway); past MAX_BUFFERED_ANSWER_BYTES it is passed through like a stream. A translated answer
 * goes through its translation.
 */
export function httpSink(res: ServerResponse): AnswerSink {
  return {
    get started() {
      return res.headersSent;
    },
    get status() {
      return res.statusCode;
    },
    deliver: (response, call) => sendToClient(res, call, response),
  };
}

async function sendToClient(res: ServerResponse, call: ForwardCall, response: Dispatcher.ResponseData): Promise<void> {
  const { op } = call;
  const contentType = String(response.headers['content-type'] ?? '');
  const stream = op.stream || contentType.includes('event-stream');
  const headers = clientHeaders(response.headers, stream);
  if (call.answer) {
    await sendTranslatedAnswer(res, response.body, op.stream, call.answer);
    return;
  }
  if (stream) {
    res.writeHead(response.statusCode, headers);
    res.flushHeaders();
  } else {
    const start = await readUpTo(response.body, MAX_BUFFERED_ANSWER_BYTES);
    if (start.ended) {
      res.writeHead(response.statusCode, { ...headers, 'content-length': String(start.size) });
      res.end(Buffer.concat(start.chunks, start.size));
      return;
    }
    res.writeHead(response.statusCode, headers);
    for (const chunk of start.chunks) res.write(chunk);
  }
  await pipeline(response.body, res);
}

/**
 * Reads until the body ends or more than `limit` bytes have arrived; in the second case the stream is
 * left paused with the rest unread, for a pipe to carry on.
 */
function readUpTo(body: Readable, limit: number): Promise<{ chunks: Buffer[]; size: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      cleanup();
      body.pause();
      resolve({ chunks, size, ended: false });
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, size, ended: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    // destroyed without an error (no 'end' came first): the answer is incomplete
    const onClose = (): void => onError(new Error('upstream answer closed before its end'));
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}
