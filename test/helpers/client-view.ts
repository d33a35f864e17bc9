/**
 * What a client reads from a translated answer: an upstream body decoded into neutral events,
 * encoded for the client's protocol (streamed, or rendered whole), and read by that protocol's
 * real SDK (`@anthropic-ai/sdk`, `openai`) through an in-process `fetch`, so a test asserts what the
 * SDK's user sees: the final message, completion or response the SDK's own accumulator builds.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicAnswerDecoder, anthropicStreamEncoder, renderAnthropicAnswer } from '../../src/protocols/anthropic';
import { collectAnswer, type AnswerEvent, type StreamDecoder } from '../../src/protocols/conversation';
import { geminiAnswerDecoder } from '../../src/protocols/gemini';
import { chatStreamEncoder, renderChatAnswer } from '../../src/protocols/openai-chat';
import { renderResponsesAnswer, responsesStreamEncoder, type ResponsesAnswerOptions } from '../../src/protocols/openai-responses';

export type Upstream = 'gemini' | 'anthropic';
export type Client = 'anthropic' | 'chat' | 'responses';

/** The neutral events of an upstream answer body (SSE when `stream`, else one JSON), fed in small pieces. */
export function decodeUpstream(upstream: Upstream, body: string, stream: boolean): AnswerEvent[] {
  const decoder: StreamDecoder = upstream === 'gemini' ? geminiAnswerDecoder({ stream, model: 'gemini-2.5-flash' }) : anthropicAnswerDecoder({ stream });
  const out: AnswerEvent[] = [];
  for (let i = 0; i < body.length; i += 29) out.push(...decoder.push(body.slice(i, i + 29)));
  return [...out, ...decoder.end()];
}

const responsesOptions = (): ResponsesAnswerOptions => ({ model: 'gpt-5', includeEncrypted: false, tools: new Map(), echo: {} });

/** The client's bytes for neutral events: its stream, or its whole JSON body. */
export function encodeFor(client: Client, events: AnswerEvent[], stream: boolean): string {
  if (!stream) {
    const answer = collectAnswer(events);
    const rendered = client === 'anthropic' ? renderAnthropicAnswer(answer, 'claude-x') : client === 'chat' ? renderChatAnswer(answer, 'gpt-x') : renderResponsesAnswer(answer, responsesOptions());
    return JSON.stringify(rendered);
  }
  const encoder = client === 'anthropic' ? anthropicStreamEncoder({ model: 'claude-x' }) : client === 'chat' ? chatStreamEncoder({ model: 'gpt-x', includeUsage: false }) : responsesStreamEncoder(responsesOptions());
  return events.map((event) => encoder.push(event)).join('') + encoder.end();
}

/** A fetch that answers every request with `body`, cut into small pieces as a socket delivers it. */
function fetchServing(body: string, stream: boolean): typeof fetch {
  return () => {
    const bytes = new TextEncoder().encode(body);
    const pieces = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 41) controller.enqueue(bytes.subarray(i, i + 41));
        controller.close();
      },
    });
    return Promise.resolve(new Response(pieces, { status: 200, headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' } }));
  };
}

const BASE = 'http://tokenpool.invalid';

/** What `@anthropic-ai/sdk` gives for the body: `messages.stream(...).finalMessage()` or `messages.create(...)`. */
export async function anthropicReads(body: string, stream: boolean): Promise<Anthropic.Message> {
  const client = new Anthropic({ apiKey: 'k', baseURL: BASE, maxRetries: 0, fetch: fetchServing(body, stream) });
  const params = { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user' as const, content: 'hi' }] };
  return stream ? client.messages.stream(params).finalMessage() : client.messages.create(params);
}

/** What `openai` gives for a Chat body: `chat.completions.stream(...).finalChatCompletion()` or `create(...)`. */
export async function chatReads(body: string, stream: boolean): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${BASE}/v1`, maxRetries: 0, fetch: fetchServing(body, stream) });
  const params = { model: 'gpt-x', messages: [{ role: 'user' as const, content: 'hi' }] };
  return stream ? client.chat.completions.stream(params).finalChatCompletion() : client.chat.completions.create(params);
}

/** What `openai` gives for a Responses body: `responses.stream(...).finalResponse()` or `create(...)`, and the stream's event types. */
export async function responsesReads(body: string, stream: boolean): Promise<{ response: OpenAI.Responses.Response; events: string[] }> {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${BASE}/v1`, maxRetries: 0, fetch: fetchServing(body, stream) });
  if (!stream) return { response: await client.responses.create({ model: 'gpt-5', input: 'hi' }), events: [] };
  const events: string[] = [];
  const reader = client.responses.stream({ model: 'gpt-5', input: 'hi' });
  reader.on('event', (event) => events.push(event.type));
  return { response: await reader.finalResponse(), events };
}
