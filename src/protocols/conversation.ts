/**
 * One neutral model of a conversation (DESIGN section 10): a request as a list of role messages
 * with small typed parts, and an answer as a stream of small typed events. Every protocol is one
 * codec to and from these shapes (`anthropic.ts`, `gemini.ts`, `openai-chat.ts`,
 * `openai-responses.ts`), so a new protocol is one file, not one per pair. Pure: no I/O.
 *
 * Modelled on the Vercel AI SDK's provider-neutral prompt and stream parts.
 */
import { tooDeepAt, tooDeepMessage } from './json-depth';

/** Text, as typed by a person or written by a model. */
export interface TextPart {
  type: 'text';
  text: string;
  /**
   * Gemini's `thoughtSignature` when the model attached one to this part; carried so the next turn
   * can send it back (the client codecs put it where their client returns it unchanged).
   */
  signature?: string;
  /** Web sources the model cited for stretches of this text (answers only; Gemini's grounding). */
  citations?: Citation[];
}

/**
 * A web source cited for a stretch of a text part: `start` and `end` count characters (Unicode
 * code points) from the start of that part, end exclusive; `citedText` is the stretch itself.
 */
export interface Citation {
  url: string;
  title?: string;
  citedText: string;
  start: number;
  end: number;
  /** Which of the answer's sources this is (Gemini's grounding chunk index). */
  sourceIndex: number;
}

/** An image or other file, inline (base64) or by URL. */
export interface FilePart {
  type: 'file';
  /** IANA media type, e.g. `image/png`. */
  mediaType: string;
  data: { base64: string } | { url: string };
}

/** A model's thinking (a thought summary), with the opaque signature that lets it be returned. */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  signature?: string;
  /** Anthropic `redacted_thinking` data: opaque, only meaningful to the model that made it. */
  redacted?: string;
}

/** A function the model asked for. `input` is the parsed JSON arguments (an object). */
export interface ToolCallPart {
  type: 'tool-call';
  /** The id the client sees and returns with the result (the Gemini codec may carry a signature inside it). */
  id: string;
  name: string;
  input: unknown;
  /** A freeform (Responses `custom`) tool: `input` is the raw string, not JSON. */
  freeform?: boolean;
}

/** The result of a tool call, sent by the client. */
export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  /** Resolved from the call with the same id in the history (Gemini needs the name). */
  toolName: string;
  output: (TextPart | FilePart)[];
  isError?: boolean;
  freeform?: boolean;
}

export type UserPart = TextPart | FilePart;
export type AssistantPart = TextPart | ReasoningPart | ToolCallPart;

export type Message =
  /** A system (or developer) instruction; may appear mid-conversation (Claude Code sends one). */
  | { role: 'system'; text: string }
  | { role: 'user'; parts: UserPart[] }
  | { role: 'assistant'; parts: AssistantPart[] }
  | { role: 'tool'; parts: ToolResultPart[] };

/** A function the model may call; `inputSchema` is JSON Schema as the client sent it. */
export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  /** A freeform tool (Responses `custom`): the model writes raw text, not JSON. */
  freeform?: { grammar?: unknown };
}

/** A tool the provider runs itself (Responses `web_search`, Anthropic `web_search_*`). */
export interface HostedTool {
  type: 'hosted';
  kind: 'web_search';
  /** The client's own name for it (for tool_choice and errors). */
  name: string;
}

export type Tool = FunctionTool | HostedTool;

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

/**
 * Effort names as clients send them (OpenAI's, and Anthropic's `max`), to the neutral level. A Map:
 * the name is the client's string, and `"constructor"` must be as unknown as any other.
 */
export const EFFORT_NAMES: ReadonlyMap<string, ReasoningEffort> = new Map<string, ReasoningEffort>([
  ['none', 'none'],
  ['minimal', 'minimal'],
  ['low', 'low'],
  ['medium', 'medium'],
  ['high', 'high'],
  ['xhigh', 'xhigh'],
  ['max', 'xhigh'],
]);

export interface ReasoningSettings {
  /** An explicit budget (Anthropic `budget_tokens`). */
  budgetTokens?: number;
  /** An effort level (Responses `reasoning.effort`, Anthropic `output_config.effort`). */
  effort?: ReasoningEffort;
  /** Let the model decide how much to think (Anthropic `adaptive`). */
  adaptive?: boolean;
  /** Whether thought summaries should come back to the client. */
  includeThoughts: boolean;
}

export type ResponseFormat = { type: 'text' } | { type: 'json'; schema?: Record<string, unknown>; name?: string };

/** A whole request, independent of the protocol it came in or goes out in. */
export interface ConversationRequest {
  /** The upstream model (aliases already applied). */
  model: string;
  messages: Message[];
  tools: Tool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  reasoning?: ReasoningSettings;
  responseFormat?: ResponseFormat;
  stream: boolean;
}

export type FinishReason =
  /** The model finished its turn. */
  | 'stop'
  /** It hit a stop sequence (`stopSequence` names it when known). */
  | 'stop-sequence'
  | 'length'
  | 'tool-calls'
  /** Refused or blocked (safety, recitation, blocklist, a blocked prompt). */
  | 'content-filter'
  | 'error'
  | 'other';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Of the input, read from a cache. */
  cachedInputTokens?: number;
  /** Of the output, spent thinking. */
  reasoningTokens?: number;
}

/**
 * The answer as a stream of events. Each part (text, reasoning, tool call) has a start, deltas and
 * an end, keyed by `id`, in the order the model produced them; a whole (non-streamed) answer is the
 * same events at once. `response-start` comes first, `finish` last.
 */
export type AnswerEvent =
  | { type: 'response-start'; id: string; model: string }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  /** A source cited for a stretch of the open text part (comes before that part's `text-end`). */
  | { type: 'text-citation'; id: string; citation: Citation }
  | { type: 'text-end'; id: string; signature?: string }
  | { type: 'reasoning-start'; id: string }
  | { type: 'reasoning-delta'; id: string; delta: string }
  /** `signature` (Gemini's thoughtSignature, Anthropic's signature) when the part carries one; `redacted` for redacted thinking. */
  | { type: 'reasoning-end'; id: string; signature?: string; redacted?: string }
  | { type: 'tool-call-start'; id: string; toolCallId: string; name: string; freeform?: boolean }
  /** A piece of the arguments' JSON text (or of the raw input, for a freeform tool). */
  | { type: 'tool-call-delta'; id: string; delta: string }
  | { type: 'tool-call-end'; id: string }
  | {
      type: 'finish';
      reason: FinishReason;
      usage: Usage;
      stopSequence?: string;
      /** The upstream's own reason, for logs and errors. */
      rawReason?: string;
      /**
       * Why the answer stopped or was blocked, in words for the person reading it (Gemini's
       * `blockReasonMessage` or `finishMessage`, Claude's refusal explanation). Set for every ending
       * other than a normal stop, a tool call or the length limit; each client codec says it in its
       * protocol's own way.
       */
      message?: string;
    };

/** A whole answer, collected from its events (the non-streamed shape every client codec renders). */
export interface Answer {
  id: string;
  model: string;
  parts: AssistantPart[];
  finish: Extract<AnswerEvent, { type: 'finish' }>;
}

/** Collects a complete event sequence into one Answer. Tool-call arguments are parsed here. */
export function collectAnswer(events: Iterable<AnswerEvent>): Answer {
  let id = '';
  let model = '';
  let finish: Answer['finish'] = { type: 'finish', reason: 'other', usage: { inputTokens: 0, outputTokens: 0 } };
  const parts: AssistantPart[] = [];
  const open = new Map<string, { part: AssistantPart; args?: string }>();
  /** Text parts by id, closed ones too: a citation may come after its part ended. */
  const texts = new Map<string, TextPart>();
  for (const event of events) {
    switch (event.type) {
      case 'response-start':
        id = event.id;
        model = event.model;
        break;
      case 'text-start': {
        const part: TextPart = { type: 'text', text: '' };
        parts.push(part);
        open.set(event.id, { part });
        texts.set(event.id, part);
        break;
      }
      case 'reasoning-start': {
        const part: ReasoningPart = { type: 'reasoning', text: '' };
        parts.push(part);
        open.set(event.id, { part });
        break;
      }
      case 'tool-call-start': {
        const part: ToolCallPart = { type: 'tool-call', id: event.toolCallId, name: event.name, input: undefined, ...(event.freeform ? { freeform: true } : {}) };
        parts.push(part);
        open.set(event.id, { part, args: '' });
        break;
      }
      case 'text-citation': {
        const part = texts.get(event.id);
        if (part) (part.citations ??= []).push(event.citation);
        break;
      }
      case 'text-delta':
      case 'reasoning-delta': {
        const entry = open.get(event.id);
        if (entry && (entry.part.type === 'text' || entry.part.type === 'reasoning')) entry.part.text += event.delta;
        break;
      }
      case 'tool-call-delta': {
        const entry = open.get(event.id);
        if (entry) entry.args = (entry.args ?? '') + event.delta;
        break;
      }
      case 'text-end':
      case 'reasoning-end': {
        const entry = open.get(event.id);
        if (entry && (entry.part.type === 'text' || entry.part.type === 'reasoning')) {
          if (event.signature) entry.part.signature = event.signature;
          if (event.type === 'reasoning-end' && event.redacted && entry.part.type === 'reasoning') entry.part.redacted = event.redacted;
        }
        open.delete(event.id);
        break;
      }
      case 'tool-call-end': {
        const entry = open.get(event.id);
        if (entry && entry.part.type === 'tool-call') {
          entry.part.input = entry.part.freeform ? (entry.args ?? '') : parseArguments(entry.args ?? '');
        }
        open.delete(event.id);
        break;
      }
      case 'finish':
        finish = event;
        break;
    }
  }
  return { id, model, parts, finish };
}

/**
 * Tool-call arguments as JSON text to an object; empty text is `{}`, unparsable text is kept as a
 * string. JSON nested deeper than MAX_JSON_DEPTH is a 400 naming `field` when the client sent it,
 * and kept as text when the upstream did (nothing after this walks it).
 */
export function parseArguments(text: string, field?: string): unknown {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  const at = tooDeepAt(value);
  if (at === undefined) return value;
  if (field !== undefined) throw new UntranslatableError(field, tooDeepMessage(at));
  return text;
}

/** How many characters (Unicode code points) `text` has: a surrogate pair is one. */
export function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) count--;
  }
  return count;
}

/** Text of the text parts of a tool result, joined (for upstreams that take a tool result as a string). */
export const toolResultText = (part: ToolResultPart): string =>
  part.output.filter((p): p is TextPart => p.type === 'text').map((p) => p.text).join('\n');

/**
 * What a client codec's stream encoder is: fed one event at a time, it returns the bytes to write
 * for it (often none; a protocol may need several events before it can say something). `end()` is
 * called after `finish`, or when the upstream stream ended without one.
 */
export interface StreamEncoder {
  push(event: AnswerEvent): string;
  end(): string;
}

/** What an upstream codec's answer decoder is: fed the upstream body as it arrives, it returns events. */
export interface StreamDecoder {
  push(text: string): AnswerEvent[];
  /** The upstream body ended: anything still open, and a `finish` if none came. */
  end(): AnswerEvent[];
}

/**
 * A request field that has no counterpart upstream and whose loss would change the answer's meaning:
 * answered with a 400 in the client's shape, naming the field.
 */
export class UntranslatableError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'UntranslatableError';
  }
}
