/**
 * A neutral request from any client as an Anthropic Messages body for Claude on Vertex (DESIGN
 * section 10; `toAnthropicRequest`); the other way is `anthropic-request.ts`. Field names follow
 * `@anthropic-ai/sdk`'s `MessageCreateParams`. Pure.
 */
import {
  UntranslatableError,
  type ConversationRequest,
  type FilePart,
  type Message,
  type ReasoningEffort,
  type ReasoningSettings,
  type TextPart,
  type Tool,
} from './conversation';
import { isRecord } from './anthropic-request';

type Json = Record<string, unknown>;

/** `max_tokens` is required by Messages; when the client named no limit, this one is sent. */
export const DEFAULT_MAX_TOKENS = 8192;
/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;
/** The thinking budget sent for an effort level when the client gave no budget of its own. */
export const BUDGET_FOR_EFFORT: Record<ReasoningEffort, number> = { none: 0, minimal: MIN_THINKING_BUDGET, low: 2048, medium: 8192, high: 16384, xhigh: 32000 };
const EFFORT_FOR_ANTHROPIC: Record<ReasoningEffort, string | undefined> = { none: undefined, minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'max' };

/**
 * The neutral request as a Messages body. `model` is included (the Vertex target removes it and puts
 * it in the URL). Reasoning signed by Gemini (`gemini.`), and unsigned reasoning, cannot be returned
 * to Claude and is left out.
 */
export function toAnthropicRequest(req: ConversationRequest): Json {
  const system = req.messages.filter((m) => m.role === 'system').map((m) => ({ type: 'text', text: m.text }));
  const tools = req.tools.map((tool) => toTool(tool));
  const body: Json = { model: req.model, ...(system.length ? { system } : {}), messages: toMessages(req.messages) };
  if (tools.length) body.tools = tools;
  const toolChoice = toToolChoice(req);
  if (toolChoice) body.tool_choice = toolChoice;
  let maxTokens = req.maxOutputTokens ?? DEFAULT_MAX_TOKENS;
  // Claude refuses thinking beside a forced tool choice; the tool the client demands wins.
  const forced = toolChoice?.type === 'any' || toolChoice?.type === 'tool';
  const thinking = forced ? undefined : toThinking(req.reasoning);
  if (thinking?.type === 'enabled') {
    // Messages wants max_tokens above the budget: the client's limit wins, else the limit grows.
    if (thinking.budget_tokens >= maxTokens && req.maxOutputTokens === undefined) maxTokens = thinking.budget_tokens + DEFAULT_MAX_TOKENS;
    if (thinking.budget_tokens >= maxTokens) thinking.budget_tokens = maxTokens - 1;
  }
  body.max_tokens = maxTokens;
  if (thinking && (thinking.type !== 'enabled' || thinking.budget_tokens >= MIN_THINKING_BUDGET) && !unsignedToolLoop(body.messages as Json[])) {
    body.thinking = thinking;
  }
  const outputConfig: Json = {};
  const effort = req.reasoning?.adaptive && req.reasoning.effort ? EFFORT_FOR_ANTHROPIC[req.reasoning.effort] : undefined;
  if (effort && body.thinking) outputConfig.effort = effort;
  // JSON without a schema has no Messages counterpart (there is no plain JSON mode): left out.
  if (req.responseFormat?.type === 'json' && req.responseFormat.schema) outputConfig.format = { type: 'json_schema', schema: req.responseFormat.schema };
  if (Object.keys(outputConfig).length) body.output_config = outputConfig;
  // With thinking on, Claude takes no temperature or top_k other than the default and top_p only
  // from 0.95: sampling settings, not meaning, so they are left out rather than refused.
  const thinks = body.thinking !== undefined;
  if (req.temperature !== undefined && (!thinks || req.temperature === 1)) body.temperature = req.temperature;
  if (req.topP !== undefined && (!thinks || req.topP >= 0.95)) body.top_p = req.topP;
  if (req.topK !== undefined && !thinks) body.top_k = req.topK;
  if (req.stopSequences?.length) body.stop_sequences = req.stopSequences;
  body.stream = req.stream;
  return body;
}

type Block = Json;

/**
 * With thinking on, Claude wants the assistant turn of an ongoing tool loop to start with its signed
 * thinking. A client that cannot carry Claude's signatures (OpenAI Chat has no field for them) sends
 * that turn without it: thinking is then left off for this request rather than refused by Claude.
 */
function unsignedToolLoop(messages: Json[]): boolean {
  const last = messages.at(-1);
  const before = messages.at(-2);
  if (!last || !before || before.role !== 'assistant' || last.role !== 'user') return false;
  const content = before.content as Block[];
  const usesTools = content.some((b) => b.type === 'tool_use');
  return usesTools && content[0]?.type !== 'thinking' && content[0]?.type !== 'redacted_thinking';
}

function toMessages(messages: Message[]): Json[] {
  const out: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  messages.forEach((message, i) => {
    if (message.role === 'system') return;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = toBlocks(message, `messages[${i}]`);
    if (!blocks.length) return;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  });
  return out;
}

function toBlocks(message: Exclude<Message, { role: 'system' }>, path: string): Block[] {
  return message.parts.flatMap((part, j): Block[] => {
    const at = `${path}.parts[${j}]`;
    switch (part.type) {
      case 'text':
        return textBlocks(part);
      case 'file':
        return [fileBlock(part, at)];
      case 'reasoning':
        if (part.redacted) return [{ type: 'redacted_thinking', data: part.redacted }];
        if (!part.signature || part.signature.startsWith('gemini.')) return [];
        return [{ type: 'thinking', thinking: part.text, signature: part.signature }];
      case 'tool-call':
        // A freeform call was offered to Claude as a function of one `input` string (see toTool).
        if (part.freeform) return [{ type: 'tool_use', id: part.id, name: part.name, input: { input: typeof part.input === 'string' ? part.input : JSON.stringify(part.input) } }];
        return [{ type: 'tool_use', id: part.id, name: part.name, input: isRecord(part.input) ? part.input : {} }];
      case 'tool-result': {
        const content = part.output.flatMap((p, k) => (p.type === 'text' ? textBlocks(p) : [fileBlock(p, `${at}.output[${k}]`)]));
        return [{ type: 'tool_result', tool_use_id: part.toolCallId, ...(content.length ? { content } : {}), ...(part.isError ? { is_error: true } : {}) }];
      }
    }
  });
}

/** Messages refuses empty text blocks, so empty text is left out. */
const textBlocks = (part: TextPart): Block[] => (part.text ? [{ type: 'text', text: part.text }] : []);

function fileBlock(part: FilePart, path: string): Block {
  const source = 'base64' in part.data ? { type: 'base64', media_type: part.mediaType, data: part.data.base64 } : { type: 'url', url: part.data.url };
  if (part.mediaType.startsWith('image/')) return { type: 'image', source };
  if (part.mediaType === 'application/pdf') return { type: 'document', source };
  throw new UntranslatableError(path, `a ${part.mediaType} file has no counterpart in Anthropic Messages (images and PDFs only)`);
}

/** A freeform tool (Responses `custom`, e.g. Codex's apply_patch) is offered to Claude as a function with one string argument. */
const FREEFORM_INPUT_SCHEMA = { type: 'object', properties: { input: { type: 'string', description: 'The raw input.' } }, required: ['input'] };

function toTool(tool: Tool): Json {
  if (tool.type === 'hosted') return { type: 'web_search_20250305', name: 'web_search' };
  if (tool.freeform) {
    const schema = isRecord(tool.inputSchema.properties) && Object.keys(tool.inputSchema.properties).length ? tool.inputSchema : FREEFORM_INPUT_SCHEMA;
    return { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), input_schema: schema };
  }
  return { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), input_schema: tool.inputSchema };
}

function toToolChoice(req: ConversationRequest): Json | undefined {
  if (!req.tools.length) return undefined;
  const choice = req.toolChoice ?? (req.parallelToolCalls === false ? { type: 'auto' } : undefined);
  if (!choice) return undefined;
  if (choice.type === 'none') return { type: 'none' };
  const single = req.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (choice.type === 'tool') {
    const named = req.tools.find((t) => t.name === choice.name);
    return { type: 'tool', name: named?.type === 'hosted' ? 'web_search' : choice.name, ...single };
  }
  return { type: choice.type === 'required' ? 'any' : 'auto', ...single };
}

type Thinking = { type: 'enabled'; budget_tokens: number } | { type: 'adaptive' };

function toThinking(reasoning: ReasoningSettings | undefined): Thinking | undefined {
  if (!reasoning || reasoning.effort === 'none') return undefined;
  if (reasoning.budgetTokens !== undefined) {
    return reasoning.budgetTokens > 0 ? { type: 'enabled', budget_tokens: Math.max(MIN_THINKING_BUDGET, reasoning.budgetTokens) } : undefined;
  }
  if (reasoning.adaptive) return { type: 'adaptive' };
  if (reasoning.effort) return { type: 'enabled', budget_tokens: BUDGET_FOR_EFFORT[reasoning.effort] };
  return undefined;
}
