/**
 * Streaming measurement: open SSE streams (chat completions, Gemini, Anthropic, Responses) and note when each chunk arrives. The bench
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

/** Where a stream is opened, and the plain request that opens the connection before it. */
export interface StreamEndpoint {
  url: string;
  headers: Record<string, string>;
  body: string;
  warm: { url: string; body: string };
}

/**
 * The streams of one round through `mine`, each beside a `direct` stream started at the same moment,
 * on fresh keep-alive agents warmed by one plain request each: `serial` streams one after another at
 * c = 1, else c at once. `cpu` (the measured process's CPU ms so far) is read right before and after
 * the streams, so the warm-up request is not counted.
 */
export async function streamBatch(
  mine: StreamEndpoint,
  direct: StreamEndpoint,
  c: number,
  serial: number,
  chunks: number,
  cpu?: () => number,
): Promise<{ pairs: StreamPair[]; cpuMs: number | null }> {
  const agent = new Agent({ keepAlive: true });
  const directAgent = new Agent({ keepAlive: true });
  const pair = async (): Promise<StreamPair> => {
    const [result, beside] = await Promise.all([
      openStream(agent, mine.url, mine.headers, mine.body, chunks),
      openStream(directAgent, direct.url, direct.headers, direct.body, chunks),
    ]);
    return { mine: result, direct: beside };
  };
  try {
    await postOnce(agent, mine.warm.url, mine.headers, mine.warm.body);
    await postOnce(directAgent, direct.warm.url, direct.headers, direct.warm.body);
    const before = cpu?.();
    let pairs: StreamPair[] = [];
    if (c === 1) {
      for (let i = 0; i < serial; i++) pairs.push(await pair());
    } else {
      pairs = await Promise.all(Array.from({ length: c }, pair));
    }
    return { pairs, cpuMs: cpu && before !== undefined ? cpu() - before : null };
  } finally {
    agent.destroy();
    directAgent.destroy();
  }
}

/** Per chunk, transit through the target minus transit of the same chunk index on the direct stream. */
export const addedPerChunk = (pair: StreamPair): number[] => pair.mine.transitMs.map((ms, i) => ms - pair.direct.transitMs[i]);

/**
 * A stamp as the only content of a text delta: Chat `content`, Gemini and Anthropic `text`, Responses
 * `delta`. Events that repeat the whole text (Responses `output_text.done`) hold stamps run together
 * and do not match.
 */
const STAMP = /"(?:content|text|delta)":"(\d+)@([\d.]+)"/;
/** The end of an SSE event: a blank line (Gemini's `?alt=sse` writes CRLF). */
const EVENT_END = /\r?\n\r?\n/;

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
        let end: RegExpExecArray | null;
        while ((end = EVENT_END.exec(pending))) {
          const event = pending.slice(0, end.index);
          pending = pending.slice(end.index + end[0].length);
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
