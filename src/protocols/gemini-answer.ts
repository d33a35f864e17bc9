/**
 * Gemini's answer (SSE from `:streamGenerateContent?alt=sse`, or one JSON) as neutral answer
 * events, fed one upstream chunk at a time. Pure.
 */
import { randomBytes } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import type { AnswerEvent, Citation, FinishReason, StreamDecoder, Usage } from './conversation';
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

/**
 * Every finishReason Google documents (the `FinishReason` enum of `@google/genai`, and Vertex's
 * MODEL_ARMOR), as the neutral reason and the words a person reads when Google gives no
 * `finishMessage`. STOP after a function call is `tool-calls`; a reason not listed is `other`.
 */
const FINISH: Record<string, { reason: FinishReason; says?: string }> = {
  STOP: { reason: 'stop' },
  MAX_TOKENS: { reason: 'length' },
  CONTINUATION: { reason: 'length' },
  SAFETY: { reason: 'content-filter', says: 'the answer may contain safety violations' },
  RECITATION: { reason: 'content-filter', says: 'the answer may recite a source' },
  BLOCKLIST: { reason: 'content-filter', says: 'the answer contains blocklisted terms' },
  PROHIBITED_CONTENT: { reason: 'content-filter', says: 'the answer may contain prohibited content' },
  SPII: { reason: 'content-filter', says: 'the answer may contain sensitive personally identifiable information' },
  IMAGE_SAFETY: { reason: 'content-filter', says: 'a generated image may contain safety violations' },
  IMAGE_PROHIBITED_CONTENT: { reason: 'content-filter', says: 'a generated image may contain prohibited content' },
  IMAGE_RECITATION: { reason: 'content-filter', says: 'a generated image may recite a source' },
  MODEL_ARMOR: { reason: 'content-filter', says: 'Model Armor blocked the answer' },
  MALFORMED_FUNCTION_CALL: { reason: 'error', says: 'the model wrote a malformed function call' },
  UNEXPECTED_TOOL_CALL: { reason: 'error', says: 'the model called a tool that was not offered' },
  TOO_MANY_TOOL_CALLS: { reason: 'other', says: 'the model called too many tools in a row' },
  LANGUAGE: { reason: 'other', says: 'the prompt or answer is in an unsupported language' },
  NO_IMAGE: { reason: 'other', says: 'the model was to make an image and made none' },
  IMAGE_OTHER: { reason: 'other', says: 'image generation stopped' },
  OTHER: { reason: 'other', says: 'no reason given' },
};

/** Every `promptFeedback.blockReason` Google documents, in words, for when there is no `blockReasonMessage`. */
const BLOCKED: Record<string, string> = {
  SAFETY: 'for safety reasons',
  BLOCKLIST: 'it contains blocklisted terms',
  PROHIBITED_CONTENT: 'it contains prohibited content',
  IMAGE_SAFETY: 'it is unsafe for image generation',
  MODEL_ARMOR: 'Model Armor blocked it',
  JAILBREAK: 'it looks like a jailbreak attempt',
  OTHER: 'no reason given',
};

/** The words for a blocked prompt: Google's own message when it gave one. */
const blockedPromptMessage = (reason: string, message?: string): string =>
  `Gemini blocked the prompt (${reason}): ${message || BLOCKED[reason] || 'no reason given'}`;

/** The words for an answer Gemini stopped early: its `finishMessage` when it gave one. */
const stoppedAnswerMessage = (reason: string, message?: string): string =>
  `Gemini stopped the answer (${reason}): ${message || FINISH[reason]?.says || 'no reason given'}`;

interface GroundingMetadata {
  groundingChunks?: { web?: { uri?: string; title?: string }; retrievedContext?: { uri?: string; title?: string } }[];
  groundingSupports?: { segment?: { startIndex?: number; endIndex?: number; text?: string }; groundingChunkIndices?: number[] }[];
}

interface GeminiChunk {
  responseId?: string;
  modelVersion?: string;
  candidates?: { content?: { parts?: GeminiPart[] }; finishReason?: string; finishMessage?: string; groundingMetadata?: GroundingMetadata }[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
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
  /** The answer's text parts so far (not thoughts), for grounding's byte offsets into the whole text. */
  private readonly texts: { id: string; text: string }[] = [];
  private readonly cited = new Set<string>();

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
    if (chunk.error) return this.finish('error', chunk.error.status ?? chunk.error.message, `Gemini's answer failed: ${chunk.error.message ?? chunk.error.status ?? 'an error'}`);
    const candidate = chunk.candidates?.[0];
    if (!candidate) {
      const blocked = chunk.promptFeedback?.blockReason;
      if (blocked) this.finish('content-filter', blocked, blockedPromptMessage(blocked, chunk.promptFeedback?.blockReasonMessage));
      return;
    }
    for (const part of candidate.content?.parts ?? []) this.part(part);
    if (candidate.groundingMetadata) this.ground(candidate.groundingMetadata);
    const raw = candidate.finishReason;
    if (raw && raw !== 'FINISH_REASON_UNSPECIFIED') {
      const reason = FINISH[raw]?.reason ?? 'other';
      const normal = reason === 'stop' || reason === 'length';
      this.finish(reason === 'stop' && this.calledTool ? 'tool-calls' : reason, raw, normal ? undefined : stoppedAnswerMessage(raw, candidate.finishMessage));
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
    if (!part.text) return;
    this.events.push({ type: `${kind}-delta`, id: open.id, delta: part.text });
    if (kind !== 'text') return;
    const last = this.texts.at(-1);
    if (last?.id === open.id) last.text += part.text;
    else this.texts.push({ id: open.id, text: part.text });
  }

  /**
   * Grounding's supports as citations on the text parts they cover. A support's segment counts
   * UTF-8 bytes into the answer's text (all its text parts, thoughts left out); each support names
   * the grounding chunks (web sources) behind it. A support seen in an earlier chunk is not repeated.
   */
  private ground(metadata: GroundingMetadata): void {
    const sources = metadata.groundingChunks ?? [];
    for (const support of metadata.groundingSupports ?? []) {
      const start = support.segment?.startIndex ?? 0;
      const end = support.segment?.endIndex;
      if (end === undefined || end <= start) continue;
      const at = locate(this.texts, start, end);
      if (!at) continue;
      for (const sourceIndex of support.groundingChunkIndices ?? []) {
        const source = sources[sourceIndex]?.web ?? sources[sourceIndex]?.retrievedContext;
        const key = `${start}:${end}:${sourceIndex}`;
        if (!source?.uri || this.cited.has(key)) continue;
        this.cited.add(key);
        const citation: Citation = { url: source.uri, ...(source.title ? { title: source.title } : {}), citedText: at.text, start: at.start, end: at.end, sourceIndex };
        this.events.push({ type: 'text-citation', id: at.id, citation });
      }
    }
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

  private finish(reason: FinishReason, rawReason: string | undefined, message?: string): void {
    this.close();
    this.finished = true;
    this.events.push({ type: 'finish', reason, usage: this.usage, ...(rawReason ? { rawReason } : {}), ...(message ? { message } : {}) });
  }
}

/**
 * The text part a byte range of the whole answer text starts in, and the range as code point
 * offsets into that part (cut at the part's end). Undefined when the range starts past the text.
 */
function locate(texts: readonly { id: string; text: string }[], startByte: number, endByte: number): { id: string; start: number; end: number; text: string } | undefined {
  let base = 0;
  for (const { id, text } of texts) {
    const bytes = Buffer.byteLength(text);
    if (startByte < base + bytes) {
      const points = [...text];
      const start = codePointIndex(points, startByte - base);
      const end = codePointIndex(points, Math.min(endByte, base + bytes) - base);
      return { id, start, end, text: points.slice(start, end).join('') };
    }
    base += bytes;
  }
  return undefined;
}

/** How many whole code points of `points` fit in its first `bytes` UTF-8 bytes (a byte inside a character counts that character). */
function codePointIndex(points: readonly string[], bytes: number): number {
  let used = 0;
  for (let i = 0; i < points.length; i++) {
    if (used >= bytes) return i;
    used += Buffer.byteLength(points[i]!);
  }
  return points.length;
}

function usageOf(meta: NonNullable<GeminiChunk['usageMetadata']>): Usage {
  const usage: Usage = { inputTokens: meta.promptTokenCount ?? 0, outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0) };
  if (meta.cachedContentTokenCount !== undefined) usage.cachedInputTokens = meta.cachedContentTokenCount;
  if (meta.thoughtsTokenCount !== undefined) usage.reasoningTokens = meta.thoughtsTokenCount;
  return usage;
}
