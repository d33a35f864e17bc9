/**
 * The Gemini `generateContent` codec (the same body on Vertex and on the Gemini API): a neutral
 * request to Gemini's body, and Gemini's answer (SSE from `:streamGenerateContent?alt=sse`, or one
 * JSON) to neutral answer events. Gemini's `thoughtSignature`s ride as the brief says: on text and
 * reasoning as `gemini.`-prefixed neutral signatures, on a function call inside the tool call's id.
 * Pure: no I/O.
 */
import { randomBytes } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import { toolResultText, UntranslatableError } from './conversation';
import type { AnswerEvent, AssistantPart, ConversationRequest, FilePart, FinishReason, ReasoningEffort, StreamDecoder, ToolResultPart, Usage, UserPart } from './conversation';
import { reduceSchema } from './gemini-schema';

export { reduceSchema } from './gemini-schema';

type Json = Record<string, unknown>;
type GeminiPart = Json;
interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/** The prefix of neutral signatures that came from Gemini (others are never sent to Gemini). */
export const GEMINI_SIGNATURE_PREFIX = 'gemini.';

const fromGemini = (signature: string | undefined): string | undefined =>
  signature?.startsWith(GEMINI_SIGNATURE_PREFIX) ? signature.slice(GEMINI_SIGNATURE_PREFIX.length) : undefined;

// ---- Signatures in tool call ids ------------------------------------------------------------

const SIGNED_ID = /^tpsig_[0-9a-f]{16}_([A-Za-z0-9_-]+)$/;

/** A new tool call id; with a signature `tpsig_<16 hex>_<base64url(signature)>`, else `call_<16 hex>`. */
export function toolCallIdWithSignature(signature?: string): string {
  const random = randomBytes(8).toString('hex');
  return signature ? `tpsig_${random}_${Buffer.from(signature, 'utf8').toString('base64url')}` : `call_${random}`;
}

/** The raw Gemini signature inside an id made by toolCallIdWithSignature, or undefined. */
export function signatureFromToolCallId(id: string): string | undefined {
  const match = SIGNED_ID.exec(id);
  return match ? Buffer.from(match[1], 'base64url').toString('utf8') : undefined;
}

// ---- Request --------------------------------------------------------------------------------

export interface GeminiRequest {
  /** The `generateContent` / `streamGenerateContent` body. */
  body: Json;
  /** Client names of hosted tools left out because this model cannot combine them with functions (log one line). */
  dropped: string[];
}

/** A freeform tool (Responses `custom`) is offered to Gemini as a function with one string argument. */
const FREEFORM_PARAMETERS = { type: 'object', properties: { input: { type: 'string', description: 'The raw input.' } }, required: ['input'] };

const hasProperties = (schema: Record<string, unknown>): boolean =>
  typeof schema.properties === 'object' && schema.properties !== null && Object.keys(schema.properties).length > 0;

/** Gemini 3 accepts built-in tools (Google Search) beside function declarations; earlier models do not. */
const isGemini3 = (model: string): boolean => model.startsWith('gemini-3');

export function toGeminiRequest(req: ConversationRequest): GeminiRequest {
  const { contents, systemInstruction } = toContents(req);
  const { tools, dropped } = toTools(req);
  const body: Json = { contents };
  if (systemInstruction) body.systemInstruction = systemInstruction;
  if (tools.length > 0) body.tools = tools;
  const toolConfig = toToolConfig(req, dropped);
  if (toolConfig) body.toolConfig = toolConfig;
  const generationConfig = toGenerationConfig(req);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return { body, dropped };
}

/** The `countTokens` body: Vertex takes the contents directly, the Gemini API a whole `generateContentRequest`. */
export function toGeminiCountTokensRequest(req: ConversationRequest, kind: 'vertex' | 'gemini'): Json {
  const { contents, systemInstruction, tools } = toGeminiRequest(req).body;
  const request: Json = { contents };
  if (systemInstruction) request.systemInstruction = systemInstruction;
  if (tools) request.tools = tools;
  return kind === 'vertex' ? request : { generateContentRequest: { model: `models/${req.model}`, ...request } };
}

/** `totalTokens` of a `countTokens` answer (0 when absent). */
export function countTokensFromGemini(json: unknown): number {
  const total = (json as { totalTokens?: unknown } | null)?.totalTokens;
  return typeof total === 'number' ? total : 0;
}

function toContents(req: ConversationRequest): { contents: GeminiContent[]; systemInstruction?: { parts: GeminiPart[] } } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const add = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of req.messages) {
    if (message.role === 'system') {
      if (message.text) system.push({ text: message.text });
    } else if (message.role === 'user') add('user', message.parts.flatMap(userPart));
    else if (message.role === 'assistant') add('model', modelParts(message.parts));
    else add('user', toolResultParts(message.parts));
  }
  for (const content of contents) if (content.role === 'user') content.parts = functionResponsesFirst(content.parts);
  return { contents, ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}) };
}

function userPart(part: UserPart): GeminiPart[] {
  if (part.type === 'file') return [filePart(part)];
  return part.text ? [{ text: part.text }] : [];
}

function filePart(part: FilePart): GeminiPart {
  return 'base64' in part.data
    ? { inlineData: { mimeType: part.mediaType, data: part.data.base64 } }
    : { fileData: { mimeType: part.mediaType, fileUri: part.data.url } };
}

/** An assistant turn; signatures as the brief's fidelity rule says (only `gemini.` ones, prefix stripped). */
function modelParts(parts: AssistantPart[]): GeminiPart[] {
  const out: GeminiPart[] = [];
  parts.forEach((part, index) => {
    if (part.type === 'text') {
      const signature = fromGemini(part.signature);
      if (part.text || signature) out.push({ text: part.text, ...(signature ? { thoughtSignature: signature } : {}) });
    } else if (part.type === 'reasoning') {
      const signature = fromGemini(part.signature);
      if (!signature) return;
      // An empty signed reasoning part right after an unsigned text part is that text's signature.
      const previous = out[out.length - 1];
      if (!part.text && parts[index - 1]?.type === 'text' && typeof previous?.text === 'string' && !previous.thought && !previous.thoughtSignature) {
        previous.thoughtSignature = signature;
      } else out.push({ thought: true, text: part.text, thoughtSignature: signature });
    } else {
      const signature = signatureFromToolCallId(part.id);
      const args = typeof part.input === 'object' && part.input !== null && !Array.isArray(part.input) ? part.input : part.input === undefined ? {} : { input: part.input };
      out.push({ functionCall: { name: part.name, args }, ...(signature ? { thoughtSignature: signature } : {}) });
    }
  });
  return out;
}

/** Tool results: one functionResponse each, then the files they returned (images) as parts of their own. */
function toolResultParts(parts: ToolResultPart[]): GeminiPart[] {
  const responses = parts.map((part) => ({
    functionResponse: { name: part.toolName, response: part.isError ? { error: toolResultText(part) } : { output: toolResultText(part) } },
  }));
  const files = parts.flatMap((part) => part.output.filter((p): p is FilePart => p.type === 'file').map(filePart));
  return [...responses, ...files];
}

/** Gemini pairs a turn's function responses with the calls before it: they lead the user content. */
function functionResponsesFirst(parts: GeminiPart[]): GeminiPart[] {
  const responses = parts.filter((part) => 'functionResponse' in part);
  return responses.length === 0 ? parts : [...responses, ...parts.filter((part) => !('functionResponse' in part))];
}

function toTools(req: ConversationRequest): { tools: Json[]; dropped: string[] } {
  const declarations: Json[] = [];
  const hosted: string[] = [];
  for (const tool of req.tools) {
    if (tool.type === 'hosted') hosted.push(tool.name);
    else {
      const parameters = tool.freeform && !hasProperties(tool.inputSchema) ? FREEFORM_PARAMETERS : reduceSchema(tool.inputSchema);
      const declaration: Json = { name: tool.name };
      if (tool.description) declaration.description = tool.description;
      if (!isEmptyObjectSchema(parameters)) declaration.parameters = { ...parameters, type: 'object' };
      declarations.push(declaration);
    }
  }
  const tools: Json[] = declarations.length > 0 ? [{ functionDeclarations: declarations }] : [];
  if (hosted.length === 0) return { tools, dropped: [] };
  if (declarations.length > 0 && !isGemini3(req.model)) return { tools, dropped: hosted };
  return { tools: [...tools, { googleSearch: {} }], dropped: [] };
}

const isEmptyObjectSchema = (schema: Json): boolean =>
  (schema.type === undefined || schema.type === 'object') && (typeof schema.properties !== 'object' || schema.properties === null || Object.keys(schema.properties).length === 0);

function toToolConfig(req: ConversationRequest, dropped: string[]): Json | undefined {
  const choice = req.toolChoice;
  if (!choice) return undefined;
  if (choice.type === 'tool' && dropped.includes(choice.name)) {
    throw new UntranslatableError('tool_choice', `the tool "${choice.name}" cannot be used beside function tools on ${req.model}`);
  }
  const functions = req.tools.filter((tool) => tool.type === 'function');
  if (functions.length === 0) return undefined;
  if (choice.type === 'tool') {
    // A hosted tool kept as Google Search cannot be forced; it stays offered.
    if (!functions.some((tool) => tool.name === choice.name)) return undefined;
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  }
  const mode = { auto: 'AUTO', none: 'NONE', required: 'ANY' }[choice.type];
  return { functionCallingConfig: { mode } };
}

function toGenerationConfig(req: ConversationRequest): Json {
  const config: Json = {};
  if (req.maxOutputTokens !== undefined) config.maxOutputTokens = req.maxOutputTokens;
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.topP !== undefined) config.topP = req.topP;
  if (req.topK !== undefined) config.topK = req.topK;
  if (req.stopSequences && req.stopSequences.length > 0) config.stopSequences = req.stopSequences;
  if (req.responseFormat?.type === 'json') {
    config.responseMimeType = 'application/json';
    if (req.responseFormat.schema) config.responseSchema = reduceSchema(req.responseFormat.schema);
  }
  const thinking = toThinkingConfig(req);
  if (thinking) config.thinkingConfig = thinking;
  return config;
}

/** Token budgets for an effort level on models that take `thinkingBudget` (before Gemini 3). */
const EFFORT_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 32768 };
/** Gemini 3 takes a level; it cannot stop thinking, so `none` is its lowest. */
const EFFORT_LEVEL: Record<ReasoningEffort, 'low' | 'high'> = { none: 'low', minimal: 'low', low: 'low', medium: 'high', high: 'high', xhigh: 'high' };
/** The largest budget a Flash model takes (Pro models take 32768). */
const FLASH_MAX_BUDGET = 24576;

/** Models before 2.5 do not think and refuse a thinkingConfig. */
const THINKLESS = /^gemini-(1\.|2\.0-)/;

function toThinkingConfig(req: ConversationRequest): Json | undefined {
  const reasoning = req.reasoning;
  if (!reasoning || THINKLESS.test(req.model)) return undefined;
  const flash = req.model.includes('flash');
  const config: Json = { includeThoughts: reasoning.includeThoughts };
  const fit = (budget: number) => (flash && !isGemini3(req.model) ? Math.min(budget, FLASH_MAX_BUDGET) : budget);
  if (reasoning.budgetTokens !== undefined) config.thinkingBudget = fit(reasoning.budgetTokens);
  else if (reasoning.adaptive) config.thinkingBudget = -1;
  else if (reasoning.effort && isGemini3(req.model)) config.thinkingLevel = EFFORT_LEVEL[reasoning.effort];
  else if (reasoning.effort === 'none') config.thinkingBudget = flash ? 0 : 128;
  else if (reasoning.effort) config.thinkingBudget = fit(EFFORT_BUDGET[reasoning.effort]);
  return config;
}

// ---- Answer ---------------------------------------------------------------------------------

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
