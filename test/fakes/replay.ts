/**
 * Recorded live answers replayed by the fake upstream (issue 16, item 9): a recording from
 * test/fixtures/recorded/ (see SOURCES.md there) becomes the exact body the fake sends for a model,
 * instead of the scripted model's answer.
 *
 * Recordings come in three shapes, each read as it was written:
 * - the Vercel AI SDK's `*.chunks.txt`: one upstream event's JSON per line, as received. Replayed as
 *   the provider's SSE framing around each line's own bytes: Anthropic's `event: TYPE\ndata: JSON\n\n`,
 *   Gemini's `data: JSON\r\n\r\n`;
 * - a whole JSON answer (`*.json` of the Vercel AI SDK, or ours in `built/`): replayed byte for byte;
 * - a `@google/genai` system-test recording (`recordID`, `interactions[].response.bodySegments`):
 *   its first interaction's segments, as SSE when the recorded `Content-Type` was an event stream,
 *   else its one JSON body.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the recordings are (read only when a test loads one: the demo bundles the fake without them). */
export const recordedDir = (): string => join(__dirname, '..', 'fixtures', 'recorded');

/** A recorded answer as the fake sends it: the body's bytes and whether it is a stream. */
export interface Recording {
  stream: boolean;
  body: string;
}

type Json = Record<string, unknown>;

/** Reads `test/fixtures/recorded/<path>` as the body the upstream sent. */
export function loadRecording(path: string): Recording {
  const text = readFileSync(join(recordedDir(), path), 'utf8');
  if (path.endsWith('.chunks.txt')) {
    const lines = text.split('\n').filter((line) => line.trim());
    const anthropic = lines.some((line) => (JSON.parse(line) as Json).type === 'message_start');
    const frame = anthropic ? (line: string) => `event: ${String((JSON.parse(line) as Json).type)}\ndata: ${line}\n\n` : (line: string) => `data: ${line}\r\n\r\n`;
    return { stream: true, body: lines.map(frame).join('') };
  }
  const json = JSON.parse(text) as Json;
  if (typeof json.recordID === 'string' && Array.isArray(json.interactions)) {
    const response = (json.interactions[0] as { response: { headers: Record<string, string>; bodySegments: unknown[] } }).response;
    if (/event-stream/.test(response.headers['Content-Type'] ?? '')) {
      return { stream: true, body: response.bodySegments.map((segment) => `data: ${JSON.stringify(segment)}\r\n\r\n`).join('') };
    }
    return { stream: false, body: JSON.stringify(response.bodySegments[0]) };
  }
  return { stream: false, body: text };
}

/** The replays a fake upstream serves, by model: a streamed and/or a whole recording each. */
export class Replays {
  private readonly byModel = new Map<string, { stream?: Recording; whole?: Recording }>();

  /** From now on, `model`'s answers are these recordings (each for the requests of its kind). */
  set(model: string, ...recordings: Recording[]): void {
    const entry = this.byModel.get(model) ?? {};
    for (const recording of recordings) entry[recording.stream ? 'stream' : 'whole'] = recording;
    this.byModel.set(model, entry);
  }

  clear(): void {
    this.byModel.clear();
  }

  /** The recording for a request on `model`, undefined when the model has none (the scripted model answers); an error when only the other kind was recorded. */
  find(model: string | undefined, stream: boolean): Recording | Error | undefined {
    const entry = model === undefined ? undefined : this.byModel.get(model);
    if (!entry) return undefined;
    return entry[stream ? 'stream' : 'whole'] ?? new Error(`FakeUpstream: ${model} replays a ${stream ? 'whole' : 'streamed'} recording only; this request is ${stream ? 'streamed' : 'whole'}`);
  }
}
