/**
 * The request body, buffered whole so an attempt can be replayed on another account (DESIGN
 * section 5), up to `max_body_bytes`. Over the limit we stop reading at once and answer 413 with
 * `Connection: close`, so the rest is never buffered.
 */
import type { IncomingMessage } from 'node:http';
import { tooDeepAt, MAX_JSON_DEPTH } from '../protocols/json-depth';
import { HttpError } from './errors';

const tooLarge = (limit: number): HttpError =>
  new HttpError(413, `Request body is larger than the proxy's limit of ${limit} bytes (proxy.max_body_bytes)`, {
    reason: 'request_too_large',
    headers: { connection: 'close' },
  });

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new HttpError(400, 'The client closed the connection before sending the whole body', { reason: 'incomplete_body' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The body as a JSON object, or 400 in the caller's shape. Nesting deeper than MAX_JSON_DEPTH is a
 * 400 naming where, checked here, before any route walks the value (a recursive walk of a value
 * nested thousands deep runs out of stack).
 */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `Request body is not valid JSON: ${(err as Error).message}`, { reason: 'invalid_json' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'Request body must be a JSON object', { reason: 'invalid_json' });
  }
  const at = tooDeepAt(parsed);
  if (at !== undefined) {
    throw new HttpError(400, `Request body nests JSON deeper than ${MAX_JSON_DEPTH} levels, at ${at} (the proxy's limit)`, { reason: 'json_too_deep' });
  }
  return parsed as Record<string, unknown>;
}
