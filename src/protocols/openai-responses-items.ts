/**
 * The pieces of an OpenAI Responses answer (DESIGN section 10), shared by the stream encoder and the
 * whole-answer renderer in openai-responses-stream.ts: the output items (message, reasoning,
 * function and custom tool calls), the usage object, how a finish ends the response, and the
 * response object around the items. Names follow the `openai` package's `ResponseOutputItem` and
 * `Response`. Pure, apart from random item ids.
 */
import { randomBytes } from 'node:crypto';
import { parseArguments, type AnswerEvent, type Citation, type FinishReason, type Usage } from './conversation';

export type Json = Record<string, unknown>;

/** How the client calls back a tool it declared, by the tool's neutral name. */
export interface ResponsesToolName {
  /** The name the client declared (the nested name, for a tool inside a `namespace` tool). */
  name: string;
  /** The `namespace` tool it was declared in: the call carries it, since Codex routes a call by (namespace, name). */
  namespace?: string;
  /** A `custom` (freeform) tool: called with a `custom_tool_call` item whose `input` is the raw text. */
  freeform: boolean;
}

/** What the answer needs from the request; `fromResponsesRequest` makes it. */
export interface ResponsesAnswerOptions {
  /** The model the client asked for (the response names it, not the upstream model). */
  model: string;
  /** `include` has `reasoning.encrypted_content`: signatures reach the client as reasoning items' `encrypted_content`. */
  includeEncrypted: boolean;
  /** Neutral tool name -> how the client calls it. A name not here is called as a plain function. */
  tools: Map<string, ResponsesToolName>;
  /** Request fields the response object repeats (`instructions`, `tools`, `tool_choice`, `temperature`, ...). */
  echo: Json;
  /** Item and response ids (`resp_…`, `msg_…`, `rs_…`, `fc_…`, `ctc_…`); random unless a test sets it. */
  makeId?: (prefix: string) => string;
  /** Milliseconds since the epoch, for `created_at`. */
  now?: () => number;
}

/** `encrypted_content` of a reasoning item that carries Anthropic `redacted_thinking` data rather than a signature. */
export const REDACTED_PREFIX = 'redacted.';

export const randomId = (prefix: string): string => `${prefix}_${randomBytes(16).toString('hex')}`;

/** The Responses usage object: output tokens include the reasoning ones, in both protocols. */
export function responsesUsage(usage: Usage): Json {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export type Ending = Pick<Json, 'status' | 'error' | 'incomplete_details'> & { event: string };

/** How a neutral finish ends the response: completed, incomplete with the reason, or failed (with the finish's message when it has one). */
export function responsesEnding(reason: FinishReason, rawReason?: string, message?: string): Ending {
  switch (reason) {
    case 'length':
      return { event: 'response.incomplete', status: 'incomplete', error: null, incomplete_details: { reason: 'max_output_tokens' } };
    case 'content-filter':
      return { event: 'response.incomplete', status: 'incomplete', error: null, incomplete_details: { reason: 'content_filter' } };
    case 'error':
      return { event: 'response.failed', status: 'failed', incomplete_details: null, error: { code: 'server_error', message: message ?? `the model stopped: ${rawReason ?? 'error'}` } };
    default:
      return { event: 'response.completed', status: 'completed', error: null, incomplete_details: null };
  }
}

/** A freeform tool's raw input: the neutral arguments are `{"input": "..."}` (or, from a freeform upstream, the text itself). */
export function freeformInput(input: unknown): string {
  const value = typeof input === 'string' ? parseArguments(input) : input;
  if (typeof value === 'object' && value !== null && typeof (value as Json).input === 'string') return (value as Json).input as string;
  if (typeof input === 'string') return input;
  return value === undefined ? '' : JSON.stringify(value);
}

export const outputText = (text: string, annotations: Json[] = []): Json => ({ type: 'output_text', text, annotations });

export const refusalPart = (refusal: string): Json => ({ type: 'refusal', refusal });

export const messageItem = (id: string, text: string, status: string, annotations?: Json[]): Json => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: text ? [outputText(text, annotations)] : [],
});

/** A citation as a Responses `url_citation` annotation (offsets in characters of the message's text). */
export const urlCitation = (citation: Citation): Json => ({
  type: 'url_citation',
  url: citation.url,
  title: citation.title ?? citation.url,
  start_index: citation.start,
  end_index: citation.end,
});

export type Finish = Extract<AnswerEvent, { type: 'finish' }>;

/**
 * How Responses says why an answer ended, beside `incomplete_details` / `error`: a content
 * filter's message is a message item with a `refusal` part; any other ending with a message (not a
 * failure, whose `error.message` says it) is a message item with that text.
 */
export function endingWords(finish: Finish): { refusal?: string; text?: string } {
  if (!finish.message || finish.reason === 'error') return {};
  return finish.reason === 'content-filter' ? { refusal: finish.message } : { text: finish.message };
}

/** A reasoning item: the summary text, and the signature (or redacted data) when the client asked for them. */
export function reasoningItem(id: string, text: string, encrypted: string | undefined): Json {
  const item: Json = { id, type: 'reasoning', summary: text ? [{ type: 'summary_text', text }] : [] };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
}

/** A tool call item: `function_call` with JSON arguments, or `custom_tool_call` (which has no status) with the raw input. */
export function callItem(id: string, callId: string, tool: ResponsesToolName, args: string, status: string): Json {
  const namespace = tool.namespace === undefined ? {} : { namespace: tool.namespace };
  if (tool.freeform) return { id, type: 'custom_tool_call', call_id: callId, name: tool.name, input: args, ...namespace };
  return { id, type: 'function_call', status, call_id: callId, name: tool.name, arguments: args, ...namespace };
}

/** The neutral names of the client's freeform tools (for an upstream decoder that can mark their calls freeform). */
export const freeformToolNames = (options: ResponsesAnswerOptions): string[] => [...options.tools].filter(([, tool]) => tool.freeform).map(([name]) => name);

export const toolFor = (options: ResponsesAnswerOptions, name: string, freeform?: boolean): ResponsesToolName => {
  const tool = options.tools.get(name) ?? { name, freeform: false };
  return freeform && !tool.freeform ? { ...tool, freeform: true } : tool;
};

/** The reasoning `encrypted_content` for a part, when the client asked for it and there is one. */
export const encryptedFor = (options: ResponsesAnswerOptions, signature?: string, redacted?: string): string | undefined => {
  if (!options.includeEncrypted) return undefined;
  return redacted !== undefined ? REDACTED_PREFIX + redacted : signature || undefined;
};

/** The response object around `output`, as the SDK types it (`output_text` is left to the SDK, which computes it). */
export function responseObject(options: ResponsesAnswerOptions, id: string, createdAt: number, output: Json[], ending: Omit<Ending, 'event'>, usage?: Usage): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    model: options.model,
    background: false,
    previous_response_id: null,
    store: false,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    temperature: null,
    top_p: null,
    instructions: null,
    metadata: {},
    ...options.echo,
    ...ending,
    output,
    usage: usage ? responsesUsage(usage) : null,
  };
}
