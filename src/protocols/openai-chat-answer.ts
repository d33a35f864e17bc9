/**
 * The neutral answer as OpenAI Chat Completions (DESIGN section 10): Chat's `chat.completion.chunk`
 * stream (`chatStreamEncoder`) or one `chat.completion` (`renderChatAnswer`). Field names follow the
 * `openai` package's `ChatCompletionChunk` and `ChatCompletion`.
 *
 * Chat has no field for a signature, so text and reasoning signatures are dropped; the ones that
 * matter (Gemini's on a function call) ride in the tool call id, which passes through unchanged.
 * Pure: no I/O.
 */
import { randomBytes } from 'node:crypto';
import { codePoints, type Answer, type AnswerEvent, type Citation, type FinishReason, type StreamEncoder, type Usage } from './conversation';

type Json = Record<string, unknown>;

export interface ChatStreamOptions {
  /** The model name the client asked for (it sees its own name back, not the upstream's). */
  model: string;
  /** `stream_options.include_usage`: a last chunk with `choices: []` and the usage. */
  includeUsage: boolean;
  /** Unix seconds for `created`; now when not given. */
  created?: number;
}

type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Chat's finish reason; a turn that ended normally after tool calls is `tool_calls`, as OpenAI says it. */
function chatFinishReason(reason: FinishReason, calledTools: boolean): ChatFinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
      return 'content_filter';
    case 'stop':
    case 'error':
    case 'other':
      return calledTools ? 'tool_calls' : 'stop';
    case 'stop-sequence':
      return 'stop';
  }
}

type Finish = Extract<AnswerEvent, { type: 'finish' }>;

/**
 * How Chat says why an answer ended: a content filter's message is the `refusal`; any other ending
 * with a message has no field for it, so the message is added to `content` (after a blank line
 * when there is text before it).
 */
function endingWords(finish: Finish, textBefore: boolean): { refusal?: string; content?: string } {
  if (!finish.message) return {};
  if (finish.reason === 'content-filter') return { refusal: finish.message };
  return { content: (textBefore ? '\n\n' : '') + finish.message };
}

/** A citation as Chat's `url_citation` annotation; `offset` is where its text part starts in `content`, in characters. */
const urlCitation = (citation: Citation, offset: number): Json => ({
  type: 'url_citation',
  url_citation: { url: citation.url, title: citation.title ?? citation.url, start_index: offset + citation.start, end_index: offset + citation.end },
});

const chatUsage = (usage: Usage) => ({
  prompt_tokens: usage.inputTokens,
  completion_tokens: usage.outputTokens,
  total_tokens: usage.inputTokens + usage.outputTokens,
  prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
  completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
});

/** The upstream answer's id as a Chat completion id (`chatcmpl-…`); a random one when there is none. */
const completionId = (id: string): string => (id.startsWith('chatcmpl-') ? id : `chatcmpl-${id || randomBytes(12).toString('hex')}`);

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/**
 * The Chat stream, one `data:` chunk per event as it arrives: the first says `role: "assistant"`,
 * text and reasoning deltas become `content` and `reasoning_content`, each tool call gets an
 * `index` counted from 0 (its start carries id, name and empty arguments; its deltas the arguments'
 * text), `finish` a chunk with `finish_reason` (then the usage chunk when asked for), and `end()`
 * writes `data: [DONE]` once.
 */
export function chatStreamEncoder(options: ChatStreamOptions): StreamEncoder {
  const created = options.created ?? nowSeconds();
  let id = '';
  let started = false;
  let finished = false;
  let done = false;
  const toolIndex = new Map<string, number>();
  /** Characters of `content` written so far, where each text part started, and the annotations so far. */
  let contentLength = 0;
  const textStart = new Map<string, number>();
  const annotations: Json[] = [];
  const chunk = (delta: Json, finishReason: ChatFinishReason | null = null): string =>
    sse({ id, object: 'chat.completion.chunk', created, model: options.model, choices: [{ index: 0, delta, finish_reason: finishReason }] });
  const start = (upstreamId = ''): string => {
    if (started) return '';
    started = true;
    id = completionId(upstreamId);
    return chunk({ role: 'assistant', content: '' });
  };
  return {
    push(event: AnswerEvent): string {
      if (finished || done) return '';
      switch (event.type) {
        case 'response-start':
          return start(event.id);
        case 'text-start':
          textStart.set(event.id, contentLength);
          return start();
        case 'text-delta':
          if (!event.delta) return '';
          contentLength += codePoints(event.delta);
          return start() + chunk({ content: event.delta });
        case 'text-citation':
          // Sent together before the finish: the SDK's stream helper keeps the last `annotations` it is given.
          annotations.push(urlCitation(event.citation, textStart.get(event.id) ?? 0));
          return start();
        case 'reasoning-delta':
          return event.delta ? start() + chunk({ reasoning_content: event.delta }) : '';
        case 'tool-call-start': {
          const index = toolIndex.size;
          toolIndex.set(event.id, index);
          return start() + chunk({ tool_calls: [{ index, id: event.toolCallId, type: 'function', function: { name: event.name, arguments: '' } }] });
        }
        case 'tool-call-delta': {
          const index = toolIndex.get(event.id);
          if (index === undefined || !event.delta) return '';
          return chunk({ tool_calls: [{ index, function: { arguments: event.delta } }] });
        }
        case 'finish': {
          finished = true;
          const words = endingWords(event, contentLength > 0);
          const said =
            (annotations.length ? chunk({ annotations }) : '') +
            (words.refusal !== undefined ? chunk({ refusal: words.refusal }) : '') +
            (words.content !== undefined ? chunk({ content: words.content }) : '');
          const head = start() + said + chunk({}, chatFinishReason(event.reason, toolIndex.size > 0));
          if (!options.includeUsage) return head;
          return head + sse({ id, object: 'chat.completion.chunk', created, model: options.model, choices: [], usage: chatUsage(event.usage) });
        }
        default:
          // Starts and ends of text and reasoning say nothing in Chat; their signatures have no field.
          return '';
      }
    },
    end(): string {
      if (done) return '';
      done = true;
      return 'data: [DONE]\n\n';
    },
  };
}

/** A whole answer as one `chat.completion` (`content` null when the model wrote no text). */
export function renderChatAnswer(answer: Answer, model: string, created = nowSeconds()): Json {
  const text = answer.parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
  const annotations: Json[] = [];
  let offset = 0;
  for (const part of answer.parts) {
    if (part.type !== 'text') continue;
    for (const citation of part.citations ?? []) annotations.push(urlCitation(citation, offset));
    offset += codePoints(part.text);
  }
  const words = endingWords(answer.finish, offset > 0);
  if (words.content !== undefined) text.push(words.content);
  const reasoning = answer.parts.flatMap((p) => (p.type === 'reasoning' && p.text ? [p.text] : []));
  const toolCalls = answer.parts.flatMap((p) =>
    p.type === 'tool-call'
      ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: typeof p.input === 'string' ? p.input : JSON.stringify(p.input ?? {}) } }]
      : [],
  );
  const message: Json = { role: 'assistant', content: text.length ? text.join('') : null, refusal: words.refusal ?? null };
  if (annotations.length) message.annotations = annotations;
  if (reasoning.length) message.reasoning_content = reasoning.join('\n\n');
  if (toolCalls.length) message.tool_calls = toolCalls;
  return {
    id: completionId(answer.id),
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: chatFinishReason(answer.finish.reason, toolCalls.length > 0) }],
    usage: chatUsage(answer.finish.usage),
  };
}
