/**
 * A tool call without arguments reaches every client as the JSON `{}` (issue 16, item 4): every
 * upstream decoder (Gemini, Claude) crossed with every client encoder (Anthropic, Chat, Responses),
 * streamed and whole, on answers recorded from the live APIs (test/fixtures/recorded/SOURCES.md),
 * read by the clients' real SDKs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadRecording } from '../fakes/replay';
import { anthropicReads, chatReads, decodeUpstream, encodeFor, responsesReads, type Client, type Upstream } from '../helpers/client-view';

/** Gemini's whole answer: the recorded stream's chunks as the one array `streamGenerateContent` answers without `alt=sse`. */
function geminiWhole(chunksFile: string): string {
  const { body } = loadRecording(chunksFile);
  return `[${body.split('\r\n\r\n').filter(Boolean).map((event) => event.replace(/^data: /, '')).join(',')}]`;
}

/** Per upstream: the recorded no-argument call's name, and its answer streamed and whole. */
const UPSTREAMS: Record<Upstream, { tool: string; body: (stream: boolean) => string }> = {
  // Claude: `tool_use` with `input: {}`, then one `input_json_delta` with `partial_json: ""`.
  anthropic: { tool: 'updateIssueList', body: (stream) => loadRecording(stream ? 'vercel-ai/anthropic-tool-no-args.chunks.txt' : 'vercel-ai/anthropic-tool-no-args.json').body },
  // Gemini 3: a `functionCall` with no `args` at all.
  gemini: { tool: 'read_theme', body: (stream) => (stream ? loadRecording('vercel-ai/google-stream-no-args-tool-call.chunks.txt').body : geminiWhole('vercel-ai/google-stream-no-args-tool-call.chunks.txt')) },
};

/** The arguments text (or input object) of the client's first call named `tool`, as its SDK hands it over. */
const READ: Record<Client, (body: string, stream: boolean, tool: string) => Promise<unknown>> = {
  anthropic: async (body, stream, tool) => {
    const message = await anthropicReads(body, stream);
    const call = message.content.find((block) => block.type === 'tool_use' && block.name === tool);
    return call?.type === 'tool_use' ? call.input : 'no tool_use block';
  },
  chat: async (body, stream, tool) => {
    const completion = await chatReads(body, stream);
    const call = completion.choices[0]!.message.tool_calls?.find((c) => c.type === 'function' && c.function.name === tool);
    return call?.type === 'function' ? call.function.arguments : 'no tool call';
  },
  responses: async (body, stream, tool) => {
    const { response } = await responsesReads(body, stream);
    const call = response.output.find((item) => item.type === 'function_call' && item.name === tool);
    return call?.type === 'function_call' ? call.arguments : 'no function_call item';
  },
};

const WANT: Record<Client, unknown> = { anthropic: {}, chat: '{}', responses: '{}' };

describe('a tool call without arguments: {} on every decoder x encoder pair', () => {
  for (const upstream of ['anthropic', 'gemini'] as const) {
    for (const client of ['anthropic', 'chat', 'responses'] as const) {
      for (const stream of [true, false]) {
        test(`${upstream} -> ${client}, ${stream ? 'streamed' : 'whole'}`, async () => {
          const { tool, body } = UPSTREAMS[upstream];
          const clientBody = encodeFor(client, decodeUpstream(upstream, body(stream), stream), stream);
          assert.deepEqual(await READ[client](clientBody, stream, tool), WANT[client]);
        });
      }
    }
  }
});
