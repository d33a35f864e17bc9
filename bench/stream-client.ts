/**
 * Streaming measurement: open SSE chat completions and note when each chunk arrives. The bench
 * upstream stamps every chunk with its send time (same clock: performance.timeOrigin + now), so a
 * chunk's transit time is arrival minus send. Each stream through a target runs alongside a direct
 * stream started at the same moment; chunk i of one is compared with chunk i of the other, so a
 * stall of the machine (which delays both) cancels and what remains is what the proxy adds.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { wallNow } from './upstream';

export interface StreamResult {
  /** ms from sending the request to the first chunk's arrival. */
  ttfcMs: number;
  /** Per chunk, ms between the upstream writing it and the client reading it. */
  transitMs: number[];
}

/** One plain request over `agent`, so the measured streams that follow start on an open connection. */
export function postOnce(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A stream through the target and the direct stream that ran beside it. */
export interface StreamPair {
  mine: StreamResult;
  direct: StreamResult;
}

/** Per chunk, transit through the target minus transit of the same chunk index on the direct stream. */
export const addedPerChunk = (pair: StreamPair): number[] => pair.mine.transitMs.map((ms, i) => ms - pair.direct.transitMs[i]);

const STAMP = /"content":"(\d+)@([\d.]+)"/;

export function openStream(agent: Agent, url: string, headers: Record<string, string>, body: string, expectChunks: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ttfcMs = NaN;
    const transitMs: number[] = [];
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let pending = '';
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (data: string) => {
        const now = wallNow();
        if (res.statusCode !== 200) {
          text += data;
          return;
        }
        pending += data;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const event = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const stamp = STAMP.exec(event);
          if (!stamp) continue;
          if (transitMs.length === 0) ttfcMs = performance.now() - started;
          transitMs.push(now - Number(stamp[2]));
        }
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
        if (transitMs.length !== expectChunks) {
          return reject(new Error(`${url}: got ${transitMs.length} of ${expectChunks} chunks`));
        }
        resolve({ ttfcMs, transitMs });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => reject(new Error(`${url}: ${err.message} after ${transitMs.length} chunks`)));
    req.end(body);
  });
}
