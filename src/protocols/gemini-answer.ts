/**
 * Gemini's answer (SSE from `:streamGenerateContent?alt=sse`, or one JSON) as neutral answer
 * events, fed one upstream chunk at a time. Pure.
 */
import { randomBytes } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import type { AnswerEvent, FinishReason, StreamDecoder, Usage } from './conversation';
import { GEMINI_SIGNATURE_PREFIX, toolCallIdWithSignature } from './gemini-signature';

type Json = Record<string, unknown>;
type GeminiPart = Json;

export interface GeminiDecoderOptions {
  stream: boolean;
  /** The model to report when the answer names none (`modelVersion`). */
  model?: string;
  /** Names of freeform tools: their calls' `input` argument is the raw input. */
  freeformTools?: Iterable<string>;
}

/** Gemini's finishReason to the neutral one (STOP after a function call is `tool-calls`; unknown ones `other`). */
const FINISH: Record<string, FinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  MALFORMED_FUNCTION_CALL: 'error',
  ...Object.fromEntries(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'].map((raw) => [raw, 'content-filter' as const])),
};

interface GeminiChunk {
  responseId?: string;
  modelVersion?: string;
  candidates?: { content?: { parts?: GeminiPart[] }; finishReason?: string }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; cachedContentTokenCount?: number };
  error?: { message?: string; status?: string };
}

/** Gemini's answer to neutral events: SSE text when `stream`, else one JSON body (buffered until end()). */
export function geminiAnswerDecoder(options: GeminiDecoderOptions): StreamDecoder {
  const state = new AnswerState(options);
  if (!options.stream) {
    let body = '';
    return {
      push: (text) => {
        body += text;
        return [];
      },
      end: () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return state.fail('unparsable answer');
        }
        for (const chunk of Array.isArray(json) ? json : [json]) state.chunk(chunk as GeminiChunk);
        return state.end();
      },
    };
  }
  const parser = createParser({
    onEvent: (event) => {
      let chunk: GeminiChunk;
      try {
        chunk = JSON.parse(event.data) as GeminiChunk;
      } catch {
        return; // not an answer chunk
      }
      state.chunk(chunk);
    },
  });
  return {
    push: (text) => {
      parser.feed(text);
      return state.take();
    },
    end: () => {
      parser.feed('\n\n'); // an event the upstream did not terminate
      return state.end();
    },
  };
}

/** The decoder's state machine: one open text or reasoning part at a time, calls emitted whole. */
class AnswerState {
  private events: AnswerEvent[] = [];
  private started = false;
  private finished = false;
  private open: { kind: 'text' | 'reasoning'; id: string; signature?: string } | undefined;
  private nextId = 0;
  private calledTool = false;
  private usage: Usage = { inputTokens: 0, outputTokens: 0 };
  private readonly freeform: Set<string>;

  constructor(private readonly options: GeminiDecoderOptions) {
    this.freeform = new Set(options.freeformTools ?? []);
  }

  take(): AnswerEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  chunk(chunk: GeminiChunk): void {
    if (this.finished || typeof chunk !== 'object' || chunk === null) return;
    this.start(chunk);
    if (chunk.usageMetadata) this.usage = usageOf(chunk.usageMetadata);
    if (chunk.error) return this.finish('error', chunk.error.status ?? chunk.error.message);
    const candidate = chunk.candidates?.[0];
    if (!candidate) {
      if (chunk.promptFeedback?.blockReason) this.finish('content-filter', chunk.promptFeedback.blockReason);
      return;
    }
    for (const part of candidate.content?.parts ?? []) this.part(part);
    const raw = candidate.finishReason;
    if (raw && raw !== 'FINISH_REASON_UNSPECIFIED') {
      const reason = FINISH[raw] ?? 'other';
      this.finish(reason === 'stop' && this.calledTool ? 'tool-calls' : reason, raw);
    }
  }

  end(): AnswerEvent[] {
    if (!this.finished) {
      this.start({});
      this.finish('other', 'no finishReason');
    }
    return this.take();
  }

  fail(rawReason: string): AnswerEvent[] {
    this.start({});
    this.finish('error', rawReason);
    return this.take();
  }

  private start(chunk: GeminiChunk): void {
    if (this.started) return;
    this.started = true;
    const id = chunk.responseId ?? `resp_${randomBytes(8).toString('hex')}`;
    this.events.push({ type: 'response-start', id, model: chunk.modelVersion ?? this.options.model ?? '' });
  }

  private part(part: GeminiPart): void {
    const signature = typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined;
    const call = part.functionCall as { name?: string; args?: Json } | undefined;
    if (call) return this.call(call, signature);
    if (typeof part.text !== 'string') return; // parts the neutral answer has no place for (inline images, code execution)
    if (part.text === '' && !part.thought) {
      if (!signature) return;
      // A signature on an empty trailing text part belongs to the text before it, if any.
      if (this.open?.kind === 'text' && !this.open.signature) this.open.signature = signature;
      else this.emptyReasoning(signature);
      return;
    }
    const kind = part.thought ? 'reasoning' : 'text';
    if (this.open?.kind !== kind || (signature && this.open.signature)) this.openPart(kind);
    const open = this.open!;
    if (signature) open.signature = signature;
    if (part.text) this.events.push({ type: `${kind}-delta`, id: open.id, delta: part.text });
  }

  private call(call: { name?: string; args?: Json }, signature: string | undefined): void {
    this.close();
    this.calledTool = true;
    const id = `tool-${this.nextId++}`;
    const name = call.name ?? '';
    const freeform = this.freeform.has(name);
    const args = call.args ?? {};
    this.events.push(
      { type: 'tool-call-start', id, toolCallId: toolCallIdWithSignature(signature), name, ...(freeform ? { freeform: true } : {}) },
      { type: 'tool-call-delta', id, delta: freeform && typeof args.input === 'string' ? args.input : JSON.stringify(args) },
      { type: 'tool-call-end', id },
    );
  }

  private openPart(kind: 'text' | 'reasoning'): void {
    this.close();
    this.open = { kind, id: `${kind}-${this.nextId++}` };
    this.events.push({ type: `${kind}-start`, id: this.open.id });
  }

  private emptyReasoning(signature: string): void {
    this.openPart('reasoning');
    this.open!.signature = signature;
    this.close();
  }

  private close(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const signature = open.signature ? { signature: GEMINI_SIGNATURE_PREFIX + open.signature } : {};
    this.events.push({ type: `${open.kind}-end`, id: open.id, ...signature });
  }

  private finish(reason: FinishReason, rawReason: string | undefined): void {
    this.close();
    this.finished = true;
    this.events.push({ type: 'finish', reason, usage: this.usage, ...(rawReason ? { rawReason } : {}) });
  }
}

function usageOf(meta: NonNullable<GeminiChunk['usageMetadata']>): Usage {
  const usage: Usage = { inputTokens: meta.promptTokenCount ?? 0, outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0) };
  if (meta.cachedContentTokenCount !== undefined) usage.cachedInputTokens = meta.cachedContentTokenCount;
  if (meta.thoughtsTokenCount !== undefined) usage.reasoningTokens = meta.thoughtsTokenCount;
  return usage;
}
