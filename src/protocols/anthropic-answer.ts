/**
 * Neutral answer events as Anthropic Messages answers (DESIGN section 10): the stream
 * (`anthropicStreamEncoder`) or the JSON (`renderAnthropicAnswer`) Claude Code and the Anthropic
 * SDKs read, whatever model wrote it. Event and field names follow `@anthropic-ai/sdk`'s
 * `RawMessageStreamEvent` and `Message`. Pure.
 */
import { randomBytes } from 'node:crypto';
import type { Answer, AnswerEvent, AssistantPart, Citation, FinishReason, StreamEncoder, Usage } from './conversation';
import { isRecord } from './anthropic-request';

type Json = Record<string, unknown>;

/** The neutral finish reason as Anthropic's `stop_reason` (an error still ends the turn cleanly). */
export const STOP_REASON_FOR_FINISH: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'stop-sequence': 'stop_sequence',
  'content-filter': 'refusal',
  other: 'end_turn',
  error: 'end_turn',
};

type Finish = Extract<AnswerEvent, { type: 'finish' }>;

/**
 * How Messages says why an answer ended: a refusal's explanation in `stop_details` (the field
 * `@anthropic-ai/sdk` types as `RefusalStopDetails`); any other ending that has a message has no
 * field for it, so the message becomes the answer's last text. A refusal with nothing else to show
 * gets that text too, so an empty answer still says why.
 */
function endingWords(finish: Finish, saidSomething: boolean): { stopDetails?: Json; text?: string } {
  if (!finish.message) return {};
  if (finish.reason === 'content-filter') {
    return { stopDetails: { type: 'refusal', category: null, explanation: finish.message }, ...(saidSomething ? {} : { text: finish.message }) };
  }
  return { text: finish.message };
}

/** A Gemini grounding citation as Messages' `web_search_result_location` (the index is opaque to clients; ours names the source). */
const webCitation = (citation: Citation): Json => ({
  type: 'web_search_result_location',
  cited_text: citation.citedText,
  url: citation.url,
  title: citation.title ?? null,
  encrypted_index: String(citation.sourceIndex),
});

/** A message id in Anthropic's shape: `msg_` and the upstream's id, or a random one. */
function messageId(id: string): string {
  if (id.startsWith('msg_')) return id;
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '');
  return `msg_${safe || randomBytes(12).toString('hex')}`;
}

/** Anthropic's usage counts cache reads apart from `input_tokens`; the neutral count holds them. */
function wireUsage(usage: Usage): Json {
  const cached = usage.cachedInputTokens ?? 0;
  return { input_tokens: Math.max(0, usage.inputTokens - cached), output_tokens: usage.outputTokens, cache_read_input_tokens: cached };
}

const sse = (type: string, data: Json): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** A whole text block at `index`. */
const textBlock = (index: number, text: string): string =>
  sse('content_block_start', { index, content_block: { type: 'text', text: '' } }) +
  sse('content_block_delta', { index, delta: { type: 'text_delta', text } }) +
  sse('content_block_stop', { index });

/** The thinking block that carries a text part's signature (Gemini's), right after the text. */
const signatureBlock = (index: number, signature: string): string =>
  sse('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
  sse('content_block_delta', { index, delta: { type: 'signature_delta', signature } }) +
  sse('content_block_stop', { index });

interface EncodedBlock {
  kind: 'text' | 'thinking' | 'tool';
  /**
   * Unset while a text or thinking block has said nothing: it opens with its first delta, so an
   * empty part makes no empty block (Messages refuses empty text blocks sent back), and reasoning
   * that turns out redacted becomes a `redacted_thinking` block.
   */
  index?: number;
}

const EMPTY_BLOCK = { text: { type: 'text', text: '' }, thinking: { type: 'thinking', thinking: '', signature: '' }, tool: {} };

/**
 * Anthropic's stream from neutral events, each written as it arrives: `message_start` (with the
 * client's `model`) and a `ping`, one `content_block_start` / `_delta` / `_stop` run per part,
 * then `message_delta` and `message_stop` (or an `error` event when the upstream failed midway).
 */
export function anthropicStreamEncoder({ model }: { model: string }): StreamEncoder {
  let started = false;
  let finished = false;
  let nextIndex = 0;
  /** A text or tool_use block was written: a refusal then needs no text of its own. */
  let saidSomething = false;
  const blocks = new Map<string, EncodedBlock>();

  const start = (id: string): string => {
    if (started) return '';
    started = true;
    const message = { id: messageId(id), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return sse('message_start', { message }) + sse('ping', {});
  };
  const open = (block: EncodedBlock, contentBlock: Json): string => {
    block.index = nextIndex++;
    if (block.kind !== 'thinking') saidSomething = true;
    return sse('content_block_start', { index: block.index, content_block: contentBlock });
  };
  const write = (block: EncodedBlock, delta: Json): string => {
    const opening = block.index === undefined ? open(block, EMPTY_BLOCK[block.kind]) : '';
    return opening + sse('content_block_delta', { index: block.index, delta });
  };
  const close = (id: string): string => {
    const block = blocks.get(id);
    blocks.delete(id);
    return block?.index === undefined ? '' : sse('content_block_stop', { index: block.index });
  };
  const finish = (event: Finish): string => {
    finished = true;
    const { reason, usage, stopSequence, rawReason } = event;
    const closing = [...blocks.keys()].map(close).join('');
    // An upstream failure after the answer started is Anthropic's `error` event: clients report it
    // (and may retry) instead of taking a cut answer for a finished one.
    if (reason === 'error') return closing + sse('error', { error: { type: 'api_error', message: event.message ?? `The upstream answer failed: ${rawReason ?? 'it ended early'}` } });
    const words = endingWords(event, saidSomething);
    const said = words.text === undefined ? '' : textBlock(nextIndex++, words.text);
    const delta = {
      stop_reason: STOP_REASON_FOR_FINISH[reason],
      stop_sequence: reason === 'stop-sequence' ? (stopSequence ?? null) : null,
      ...(words.stopDetails ? { stop_details: words.stopDetails } : {}),
    };
    return closing + said + sse('message_delta', { delta, usage: wireUsage(usage) }) + sse('message_stop', {});
  };

  return {
    push(event) {
      if (finished) return '';
      const head = start(event.type === 'response-start' ? event.id : '');
      const block = 'id' in event ? blocks.get(event.id) : undefined;
      switch (event.type) {
        case 'response-start':
          return head;
        case 'text-start':
          blocks.set(event.id, { kind: 'text' });
          return head;
        case 'reasoning-start':
          blocks.set(event.id, { kind: 'thinking' });
          return head;
        case 'tool-call-start': {
          const b: EncodedBlock = { kind: 'tool' };
          blocks.set(event.id, b);
          return head + open(b, { type: 'tool_use', id: event.toolCallId, name: event.name, input: {} });
        }
        case 'text-delta':
          if (block?.kind !== 'text' || !event.delta) return head;
          if (block.index === undefined) return head + write(block, { type: 'text_delta', text: event.delta });
          // The hot path, written from a template: the same bytes as sse() without building objects.
          return `${head}event: content_block_delta\ndata: {"type":"content_block_delta","index":${block.index},"delta":{"type":"text_delta","text":${JSON.stringify(event.delta)}}}\n\n`;
        case 'reasoning-delta':
          if (block?.kind !== 'thinking' || !event.delta) return head;
          return head + write(block, { type: 'thinking_delta', thinking: event.delta });
        case 'tool-call-delta':
          if (block?.kind !== 'tool' || !event.delta) return head;
          return head + write(block, { type: 'input_json_delta', partial_json: event.delta });
        case 'text-citation':
          // A citation joins its text block (Messages' `citations_delta`); one whose block said nothing is dropped.
          if (block?.kind !== 'text' || block.index === undefined) return head;
          return head + sse('content_block_delta', { index: block.index, delta: { type: 'citations_delta', citation: webCitation(event.citation) } });
        case 'text-end': {
          const text = head + close(event.id);
          return event.signature ? text + signatureBlock(nextIndex++, event.signature) : text;
        }
        case 'reasoning-end': {
          if (block?.kind !== 'thinking') return head;
          if (block.index === undefined && event.redacted !== undefined) {
            return head + open(block, { type: 'redacted_thinking', data: event.redacted }) + close(event.id);
          }
          // Unsigned reasoning that said nothing makes no block.
          const signature = event.signature ? write(block, { type: 'signature_delta', signature: event.signature }) : '';
          return head + signature + close(event.id);
        }
        case 'tool-call-end':
          return head + close(event.id);
        case 'finish':
          return head + finish(event);
      }
    },
    end() {
      if (finished) return '';
      return start('') + finish({ type: 'finish', reason: 'stop', usage: { inputTokens: 0, outputTokens: 0 } });
    },
  };
}

/** Answer parts as Messages content blocks (a text part's signature rides in a thinking block after it). */
function contentBlocks(parts: AssistantPart[]): Json[] {
  return parts.flatMap((part): Json[] => {
    switch (part.type) {
      case 'text': {
        const citations = part.citations?.length ? { citations: part.citations.map(webCitation) } : {};
        return [{ type: 'text', text: part.text, ...citations }, ...(part.signature ? [{ type: 'thinking', thinking: '', signature: part.signature }] : [])];
      }
      case 'reasoning':
        return [part.redacted !== undefined ? { type: 'redacted_thinking', data: part.redacted } : { type: 'thinking', thinking: part.text, signature: part.signature ?? '' }];
      case 'tool-call':
        return [{ type: 'tool_use', id: part.id, name: part.name, input: isRecord(part.input) ? part.input : {} }];
    }
  });
}

/** A whole answer as the Messages JSON, named with the client's `model`. */
export function renderAnthropicAnswer(answer: Answer, model: string): Json {
  const { reason, usage, stopSequence } = answer.finish;
  const content = contentBlocks(answer.parts);
  const words = endingWords(answer.finish, content.some((block) => block.type === 'text' || block.type === 'tool_use'));
  if (words.text !== undefined) content.push({ type: 'text', text: words.text });
  return {
    id: messageId(answer.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: STOP_REASON_FOR_FINISH[reason],
    ...(words.stopDetails ? { stop_details: words.stopDetails } : {}),
    stop_sequence: reason === 'stop-sequence' ? (stopSequence ?? null) : null,
    usage: wireUsage(usage),
  };
}
