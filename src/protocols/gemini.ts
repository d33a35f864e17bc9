/**
 * The Gemini `generateContent` codec (the same body on Vertex and on the Gemini API): a neutral
 * request to Gemini's body here, Gemini's answer to neutral events in gemini-answer.ts, tool schemas
 * in gemini-schema.ts, and where thought signatures ride in gemini-signature.ts. Pure: no I/O.
 */
import { toolResultText, UntranslatableError } from './conversation';
import type { AssistantPart, ConversationRequest, FilePart, ReasoningEffort, ToolResultPart, UserPart } from './conversation';
import { reduceSchema, schemaBudget, type SchemaBudget } from './gemini-schema';
import { fromGemini, signatureFromToolCallId, signUnsignedCalls } from './gemini-signature';

export { reduceSchema } from './gemini-schema';
export { geminiAnswerDecoder, type GeminiDecoderOptions } from './gemini-answer';
export { GEMINI_SIGNATURE_PREFIX, SKIP_SIGNATURE_VALIDATOR, signatureFromToolCallId, toolCallIdWithSignature } from './gemini-signature';

type Json = Record<string, unknown>;
type GeminiPart = Json;
interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

// ---- Request --------------------------------------------------------------------------------

export interface GeminiRequest {
  /** The `generateContent` / `streamGenerateContent` body. */
  body: Json;
  /** Client names of hosted tools left out because this model cannot combine them with functions (log one line). */
  dropped: string[];
  /** Function calls sent back without their thought signature that got Google's sentinel instead (log one line). */
  unsigned: string[];
  /** What was cut on the way (a tool schema whose `$ref`s would inline past the budget); one log line each. */
  notes: string[];
}

/** A freeform tool (Responses `custom`) is offered to Gemini as a function with one string argument. */
const FREEFORM_PARAMETERS = { type: 'object', properties: { input: { type: 'string', description: 'The raw input.' } }, required: ['input'] };

/** Gemini 3 accepts built-in tools (Google Search) beside function declarations; earlier models do not. */
const isGemini3 = (model: string): boolean => model.startsWith('gemini-3');

export function toGeminiRequest(req: ConversationRequest, budget: SchemaBudget = schemaBudget()): GeminiRequest {
  const { contents, systemInstruction } = toContents(req);
  const unsigned = signUnsignedCalls(contents, req.model);
  const notes: string[] = [];
  const { tools, dropped } = toTools(req, budget, notes);
  const body: Json = { contents };
  if (systemInstruction) body.systemInstruction = systemInstruction;
  if (tools.length > 0) body.tools = tools;
  const toolConfig = toToolConfig(req, dropped);
  if (toolConfig) body.toolConfig = toolConfig;
  const generationConfig = toGenerationConfig(req, budget, notes);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return { body, dropped, unsigned, notes };
}

/** The `countTokens` body: Vertex takes the contents directly, the Gemini API a whole `generateContentRequest`. */
export function toGeminiCountTokensRequest(req: ConversationRequest, kind: 'vertex' | 'gemini', budget?: SchemaBudget): Json {
  const { contents, systemInstruction, tools } = toGeminiRequest(req, budget).body;
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

/** A schema reduced against the request's budget, with a note when inlining its `$ref`s was cut short. */
function reducedSchema(schema: Json, what: string, budget: SchemaBudget, notes: string[]): Json {
  const cutBefore = budget.cut;
  const reduced = reduceSchema(schema, budget);
  if (budget.cut > cutBefore) notes.push(`${what}: $ref definitions nest too deep or inline past ${budget.limits.nodes} nodes; cut to {type: object} there`);
  return reduced;
}

function toTools(req: ConversationRequest, budget: SchemaBudget, notes: string[]): { tools: Json[]; dropped: string[] } {
  const declarations: Json[] = [];
  const hosted: string[] = [];
  for (const tool of req.tools) {
    if (tool.type === 'hosted') hosted.push(tool.name);
    else {
      const parameters = tool.freeform && isEmptyObjectSchema(tool.inputSchema) ? FREEFORM_PARAMETERS : reducedSchema(tool.inputSchema, `the schema of tool ${tool.name}`, budget, notes);
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

function toGenerationConfig(req: ConversationRequest, budget: SchemaBudget, notes: string[]): Json {
  const config: Json = {};
  if (req.maxOutputTokens !== undefined) config.maxOutputTokens = req.maxOutputTokens;
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.topP !== undefined) config.topP = req.topP;
  if (req.topK !== undefined) config.topK = req.topK;
  if (req.stopSequences && req.stopSequences.length > 0) config.stopSequences = req.stopSequences;
  if (req.responseFormat?.type === 'json') {
    config.responseMimeType = 'application/json';
    if (req.responseFormat.schema) config.responseSchema = reducedSchema(req.responseFormat.schema, 'the response schema', budget, notes);
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
