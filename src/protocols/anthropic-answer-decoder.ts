/**
 * Claude's answer from Vertex as neutral answer events (DESIGN section 10): the SSE stream
 * (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`, `error`) as it
 * arrives, or one Messages JSON. Event and field names follow `@anthropic-ai/sdk`'s
 * `RawMessageStreamEvent` and `Message`. Pure.
 */
import { createParser } from 'eventsource-parser';
import type { AnswerEvent, FinishReason, StreamDecoder, Usage } from './conversation';
import { isRecord } from './anthropic-request';

type Json = Record<string, unknown>;

/** Anthropic's `stop_reason` as the neutral finish reason. */
export const FINISH_FOR_STOP_REASON: Record<string, FinishReason> = {
  end_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool-calls',
  stop_sequence: 'stop-sequence',
  refusal: 'content-filter',
  pause_turn: 'other',
};

/**
 * Decodes Claude's answer: with `stream`, the SSE body (`message_start`, `content_block_*`,
 * `message_delta`, `message_stop`, `ping`, `error`) as it arrives; without, one Messages JSON at `end()`.
 */
export function anthropicAnswerDecoder({ stream, freeformTools }: { stream: boolean; freeformTools?: Iterable<string> }): StreamDecoder {
  const reader = new AnswerReader(new Set(freeformTools ?? []));
  if (!stream) {
    let body = '';
    return {
      push(text) {
        body += text;
        return [];
      },
      end: () => reader.readMessage(body),
    };
  }
  let pending: AnswerEvent[] = [];
  const parser = createParser({ onEvent: (message) => pending.push(...reader.read(parseEvent(message.data, message.event))) });
  const drain = (): AnswerEvent[] => {
    const events = pending;
    pending = [];
    return events;
  };
  return {
    push(text) {
      parser.feed(text);
      return drain();
    },
    end() {
      // A last event the upstream did not end with a blank line is still an event.
      parser.feed('\n\n');
      return [...drain(), ...reader.close()];
    },
  };
}

function parseEvent(data: string, event: string | undefined): Json {
  try {
    const parsed: unknown = JSON.parse(data);
    if (isRecord(parsed)) return typeof parsed.type === 'string' || !event ? parsed : { ...parsed, type: event };
  } catch {
    // answered below
  }
  return { type: 'error', error: { type: 'invalid_event', message: `unparsable ${event ?? 'message'} event from upstream` } };
}

interface OpenBlock {
  kind: 'text' | 'reasoning' | 'tool' | 'other';
  id: string;
  signature?: string;
  redacted?: string;
  /** A freeform tool's call: its `{"input": …}` JSON is gathered and its raw input emitted at the end. */
  freeformJson?: string;
  /** A tool call whose arguments have had a delta: one without any gets `{}` at its end. */
  argued?: boolean;
}

/** The state machine both decoder modes share: one wire event in, neutral events out. */
class AnswerReader {
  private started = false;
  private finished = false;
  private readonly blocks = new Map<number, OpenBlock>();
  private readonly counts = { input: 0, cacheCreation: 0, cacheRead: 0, output: 0, thinking: undefined as number | undefined };
  private stopReason: string | undefined;
  private stopSequence: string | undefined;
  private stopDetails: Json | undefined;

  /** `freeform`: names of freeform (Responses `custom`) tools, offered to Claude as functions of one `input` string. */
  constructor(private readonly freeform: ReadonlySet<string>) {}

  /** A whole (non-streamed) Messages JSON, replayed as the events of its stream. */
  readMessage(text: string): AnswerEvent[] {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (!isRecord(message) || message.type === 'error') {
      const error = isRecord(message) && isRecord(message.error) ? message.error : { type: 'invalid_response', message: 'unparsable answer from upstream' };
      return this.read({ type: 'error', error });
    }
    const content = Array.isArray(message.content) ? message.content : [];
    const events = this.read({ type: 'message_start', message: { ...message, content: [] } });
    content.forEach((block, index) => {
      events.push(...this.read({ type: 'content_block_start', index, content_block: block }), ...this.read({ type: 'content_block_stop', index }));
    });
    events.push(...this.read({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, stop_details: message.stop_details } }));
    return [...events, ...this.read({ type: 'message_stop' })];
  }

  read(event: Json): AnswerEvent[] {
    if (this.finished) return [];
    const out: AnswerEvent[] = [];
    if (!this.started && event.type !== 'ping') {
      this.started = true;
      const message = isRecord(event.message) ? event.message : {};
      out.push({ type: 'response-start', id: String(message.id ?? ''), model: String(message.model ?? '') });
    }
    switch (event.type) {
      case 'message_start':
        if (isRecord(event.message)) this.addUsage(event.message.usage);
        break;
      case 'content_block_start':
        out.push(...this.startBlock(Number(event.index), isRecord(event.content_block) ? event.content_block : {}));
        break;
      case 'content_block_delta':
        out.push(...this.delta(Number(event.index), isRecord(event.delta) ? event.delta : {}));
        break;
      case 'content_block_stop':
        out.push(...this.stopBlock(Number(event.index)));
        break;
      case 'message_delta': {
        const delta = isRecord(event.delta) ? event.delta : {};
        if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason;
        if (typeof delta.stop_sequence === 'string') this.stopSequence = delta.stop_sequence;
        if (isRecord(delta.stop_details)) this.stopDetails = delta.stop_details;
        this.addUsage(event.usage);
        break;
      }
      case 'message_stop':
        out.push(...this.finish());
        break;
      case 'error': {
        const error = isRecord(event.error) ? event.error : {};
        out.push(...this.finish('error', `${String(error.type ?? 'error')}: ${String(error.message ?? '')}`));
        break;
      }
      // ping, and events added later: nothing to say
    }
    return out;
  }

  /** The body ended: open blocks are closed, and a finish is made if none came. */
  close(): AnswerEvent[] {
    if (this.finished) return [];
    const out: AnswerEvent[] = this.started ? [] : [{ type: 'response-start', id: '', model: '' }];
    this.started = true;
    return [...out, ...this.finish(this.stopReason ? undefined : 'error', this.stopReason ? undefined : 'the upstream stream ended before message_stop')];
  }

  private startBlock(index: number, block: Json): AnswerEvent[] {
    const id = `b${index}`;
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text', id });
        return [{ type: 'text-start', id }, ...(typeof block.text === 'string' && block.text ? [{ type: 'text-delta' as const, id, delta: block.text }] : [])];
      case 'thinking':
        this.blocks.set(index, { kind: 'reasoning', id, ...(typeof block.signature === 'string' && block.signature ? { signature: block.signature } : {}) });
        return [{ type: 'reasoning-start', id }, ...(typeof block.thinking === 'string' && block.thinking ? [{ type: 'reasoning-delta' as const, id, delta: block.thinking }] : [])];
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'reasoning', id, redacted: String(block.data ?? '') });
        return [{ type: 'reasoning-start', id }];
      case 'tool_use': {
        const name = String(block.name ?? '');
        const freeform = this.freeform.has(name);
        const input = isRecord(block.input) && Object.keys(block.input).length ? JSON.stringify(block.input) : '';
        this.blocks.set(index, { kind: 'tool', id, ...(freeform ? { freeformJson: input } : {}), argued: input !== '' });
        return [
          { type: 'tool-call-start', id, toolCallId: String(block.id ?? ''), name, ...(freeform ? { freeform: true } : {}) },
          ...(input && !freeform ? [{ type: 'tool-call-delta' as const, id, delta: input }] : []),
        ];
      }
      default:
        // server_tool_use, web_search_tool_result and the like: Anthropic ran them; the text that
        // follows carries what the client needs.
        this.blocks.set(index, { kind: 'other', id });
        return [];
    }
  }

  private delta(index: number, delta: Json): AnswerEvent[] {
    const block = this.blocks.get(index);
    if (!block) return [];
    if (delta.type === 'text_delta' && block.kind === 'text' && typeof delta.text === 'string' && delta.text) return [{ type: 'text-delta', id: block.id, delta: delta.text }];
    if (delta.type === 'thinking_delta' && block.kind === 'reasoning' && typeof delta.thinking === 'string' && delta.thinking) {
      return [{ type: 'reasoning-delta', id: block.id, delta: delta.thinking }];
    }
    if (delta.type === 'signature_delta' && block.kind === 'reasoning' && typeof delta.signature === 'string') block.signature = delta.signature;
    if (delta.type === 'input_json_delta' && block.kind === 'tool' && typeof delta.partial_json === 'string' && delta.partial_json) {
      if (block.freeformJson !== undefined) {
        block.freeformJson += delta.partial_json;
        return [];
      }
      block.argued = true;
      return [{ type: 'tool-call-delta', id: block.id, delta: delta.partial_json }];
    }
    return [];
  }

  private stopBlock(index: number): AnswerEvent[] {
    const block = this.blocks.get(index);
    if (!block) return [];
    this.blocks.delete(index);
    switch (block.kind) {
      case 'text':
        return [{ type: 'text-end', id: block.id }];
      case 'reasoning':
        return [{ type: 'reasoning-end', id: block.id, ...(block.signature ? { signature: block.signature } : {}), ...(block.redacted !== undefined ? { redacted: block.redacted } : {}) }];
      case 'tool':
        if (block.freeformJson !== undefined) {
          const raw = freeformInput(block.freeformJson);
          return [...(raw ? [{ type: 'tool-call-delta' as const, id: block.id, delta: raw }] : []), { type: 'tool-call-end', id: block.id }];
        }
        // A call without arguments (`input: {}` then an empty `input_json_delta`) still has JSON ones.
        return [...(block.argued ? [] : [{ type: 'tool-call-delta' as const, id: block.id, delta: '{}' }]), { type: 'tool-call-end', id: block.id }];
      default:
        return [];
    }
  }

  private finish(reason?: FinishReason, rawReason?: string): AnswerEvent[] {
    const out = [...this.blocks.keys()].sort((a, b) => a - b).flatMap((index) => this.stopBlock(index));
    this.finished = true;
    const finishReason = reason ?? FINISH_FOR_STOP_REASON[this.stopReason ?? ''] ?? 'other';
    const message = finishReason === 'content-filter' ? refusalMessage(this.stopDetails) : reason === 'error' ? `Claude's answer failed: ${rawReason}` : undefined;
    out.push({
      type: 'finish',
      reason: finishReason,
      usage: this.usage(),
      ...(finishReason === 'stop-sequence' && this.stopSequence !== undefined ? { stopSequence: this.stopSequence } : {}),
      ...((rawReason ?? this.stopReason) ? { rawReason: rawReason ?? this.stopReason } : {}),
      ...(message ? { message } : {}),
    });
    return out;
  }

  /** Anthropic's usage counters are whole-message totals: each one given replaces the last. */
  private addUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    const set = (key: keyof typeof this.counts, value: unknown) => {
      if (typeof value === 'number') this.counts[key] = value;
    };
    set('input', usage.input_tokens);
    set('cacheCreation', usage.cache_creation_input_tokens);
    set('cacheRead', usage.cache_read_input_tokens);
    set('output', usage.output_tokens);
    if (isRecord(usage.output_tokens_details)) set('thinking', usage.output_tokens_details.thinking_tokens);
  }

  /** Neutral input tokens count everything read (fresh, cache writes and cache reads). */
  private usage(): Usage {
    const { input, cacheCreation, cacheRead, output, thinking } = this.counts;
    return {
      inputTokens: input + cacheCreation + cacheRead,
      outputTokens: output,
      ...(cacheRead ? { cachedInputTokens: cacheRead } : {}),
      ...(thinking !== undefined ? { reasoningTokens: thinking } : {}),
    };
  }
}

/** Claude's refusal in words: its `stop_details` explanation, else the category it named. */
function refusalMessage(details: Json | undefined): string {
  if (typeof details?.explanation === 'string' && details.explanation) return `Claude declined to answer: ${details.explanation}`;
  return `Claude declined to answer${typeof details?.category === 'string' ? ` (${details.category})` : ''}.`;
}

/** The raw input of a freeform call from its `{"input": "…"}` arguments (the JSON text itself if it is not that shape). */
function freeformInput(json: string): string {
  try {
    const parsed: unknown = JSON.parse(json);
    if (isRecord(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // not JSON: passed on as it came
  }
  return json;
}
