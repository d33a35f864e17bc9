/**
 * Anthropic Messages requests to and from the neutral model (DESIGN section 10): what Claude Code
 * and the Anthropic SDKs send becomes a ConversationRequest (`fromAnthropicRequest`), and a
 * ConversationRequest from any client becomes a Messages body for Claude on Vertex
 * (`toAnthropicRequest`). Field names follow `@anthropic-ai/sdk`'s `MessageCreateParams`. Pure.
 */
import {
  UntranslatableError,
  type AssistantPart,
  type ConversationRequest,
  type FilePart,
  type Message,
  type ReasoningEffort,
  type ReasoningSettings,
  type TextPart,
  type Tool,
  type ToolChoice,
  type ToolResultPart,
  type UserPart,
} from './conversation';
import { definedTool, isAnthropicServerTool } from './anthropic-defined-tools';

type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// Anthropic Messages -> neutral
// ---------------------------------------------------------------------------------------------

/**
 * A Messages request body as the neutral request for `model` (the upstream model, aliases applied).
 * Left out on purpose, because they steer Anthropic's own service and not the answer: `metadata`,
 * `context_management`, `service_tier`, `container`, `mcp_servers`, `speed`, `inference_geo`,
 * `diagnostics`, `cache_control` (top level and on every block) and citations on text blocks.
 */
export function fromAnthropicRequest(body: Json, model: string, notes: string[] = []): ConversationRequest {
  if (!Array.isArray(body.messages)) throw new UntranslatableError('messages', 'must be an array of messages');
  const toolNames = new Map<string, string>();
  const messages: Message[] = body.system === undefined ? [] : systemMessages(body.system, 'system');
  body.messages.forEach((message, i) => messages.push(...fromMessage(message, `messages[${i}]`, toolNames)));
  const { tools, leftOut } = fromTools(body.tools, notes);
  const request: ConversationRequest = { model, messages, tools, stream: body.stream === true };
  if (body.tool_choice !== undefined) {
    request.toolChoice = fromToolChoice(body.tool_choice);
    if (request.toolChoice.type === 'tool' && leftOut.has(request.toolChoice.name)) {
      throw new UntranslatableError('tool_choice.name', `names ${JSON.stringify(request.toolChoice.name)}, a tool Anthropic's own service runs, which the upstream cannot`);
    }
    if (isRecord(body.tool_choice) && body.tool_choice.disable_parallel_tool_use === true) request.parallelToolCalls = false;
  }
  if (typeof body.max_tokens === 'number') request.maxOutputTokens = body.max_tokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.topP = body.top_p;
  if (typeof body.top_k === 'number') request.topK = body.top_k;
  if (Array.isArray(body.stop_sequences)) request.stopSequences = body.stop_sequences.filter((s): s is string => typeof s === 'string');
  const outputConfig = isRecord(body.output_config) ? body.output_config : {};
  const reasoning = fromThinking(body.thinking, outputConfig.effort);
  if (reasoning) request.reasoning = reasoning;
  // `output_format` is the older beta name of `output_config.format`.
  const format = outputConfig.format ?? body.output_format;
  if (isRecord(format) && format.type === 'json_schema') {
    request.responseFormat = { type: 'json', ...(isRecord(format.schema) ? { schema: format.schema } : {}) };
  }
  return request;
}

/** `system` (top level or a `role: "system"` message): a string, or text blocks (one system message each). */
function systemMessages(content: unknown, path: string): Message[] {
  if (typeof content === 'string') return [{ role: 'system', text: content }];
  if (!Array.isArray(content)) throw new UntranslatableError(path, 'must be a string or an array of text blocks');
  return content.map((block, i) => {
    if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') {
      throw new UntranslatableError(`${path}[${i}]`, 'only text blocks can be a system prompt');
    }
    return { role: 'system', text: block.text };
  });
}

const blocksOf = (content: unknown, path: string): unknown[] => {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (Array.isArray(content)) return content;
  throw new UntranslatableError(path, 'must be a string or an array of content blocks');
};

const typeOf = (block: unknown): string => (isRecord(block) && typeof block.type === 'string' ? block.type : String(block));

function fromMessage(message: unknown, path: string, toolNames: Map<string, string>): Message[] {
  if (!isRecord(message)) throw new UntranslatableError(path, 'must be an object');
  const content = `${path}.content`;
  switch (message.role) {
    case 'system':
      return systemMessages(message.content, content);
    case 'assistant': {
      const parts = blocksOf(message.content, content).map((block, j) => assistantPart(block, `${content}[${j}]`, toolNames));
      return parts.length ? [{ role: 'assistant', parts }] : [];
    }
    case 'user': {
      // Tool results and the user's own blocks become tool and user messages, in the order given.
      const out: Message[] = [];
      blocksOf(message.content, content).forEach((block, j) => {
        const at = `${content}[${j}]`;
        if (typeOf(block) === 'tool_result') {
          const part = toolResultPart(block as Json, at, toolNames);
          const last = out.at(-1);
          if (last?.role === 'tool') last.parts.push(part);
          else out.push({ role: 'tool', parts: [part] });
        } else {
          const parts = userParts(block, at);
          const last = out.at(-1);
          if (last?.role === 'user') last.parts.push(...parts);
          else out.push({ role: 'user', parts });
        }
      });
      return out;
    }
    default:
      throw new UntranslatableError(`${path}.role`, `must be "user", "assistant" or "system", not ${JSON.stringify(message.role)}`);
  }
}

function assistantPart(block: unknown, path: string, toolNames: Map<string, string>): AssistantPart {
  const b = isRecord(block) ? block : {};
  switch (b.type) {
    case 'text':
      return { type: 'text', text: String(b.text ?? '') };
    case 'thinking':
      return { type: 'reasoning', text: String(b.thinking ?? ''), ...(typeof b.signature === 'string' && b.signature ? { signature: b.signature } : {}) };
    case 'redacted_thinking':
      return { type: 'reasoning', text: '', redacted: String(b.data ?? '') };
    case 'tool_use': {
      if (typeof b.id !== 'string' || typeof b.name !== 'string') throw new UntranslatableError(path, 'a tool_use block needs an id and a name');
      toolNames.set(b.id, b.name);
      return { type: 'tool-call', id: b.id, name: b.name, input: b.input ?? {} };
    }
    default:
      throw new UntranslatableError(path, `a ${typeOf(block)} block in an assistant turn has no counterpart upstream`);
  }
}

function toolResultPart(block: Json, path: string, toolNames: Map<string, string>): ToolResultPart {
  const id = block.tool_use_id;
  const toolName = typeof id === 'string' ? toolNames.get(id) : undefined;
  if (typeof id !== 'string' || toolName === undefined) {
    throw new UntranslatableError(`${path}.tool_use_id`, `${JSON.stringify(id)} names no earlier tool_use block`);
  }
  const output = block.content === undefined ? [] : blocksOf(block.content, `${path}.content`).flatMap((b, k) => toolOutputParts(b, `${path}.content[${k}]`));
  return { type: 'tool-result', toolCallId: id, toolName, output, ...(block.is_error === true ? { isError: true } : {}) };
}

/**
 * A block inside a tool result. A `tool_reference` (Claude Code's tool search saying a deferred tool
 * is now loaded) becomes a line of text: upstream every declared tool is loaded already.
 */
function toolOutputParts(block: unknown, path: string): UserPart[] {
  if (isRecord(block) && block.type === 'tool_reference') return [{ type: 'text', text: `Tool loaded: ${String(block.tool_name)}` }];
  return userParts(block, path);
}

/** A user-turn block: text, an image, or a document (PDF, plain text, or a list of content). */
function userParts(block: unknown, path: string): UserPart[] {
  const b = isRecord(block) ? block : {};
  const source = isRecord(b.source) ? b.source : {};
  switch (b.type) {
    case 'text':
      if (typeof b.text !== 'string') throw new UntranslatableError(`${path}.text`, 'must be a string');
      return [{ type: 'text', text: b.text }];
    case 'image':
      return [filePart(source, `${path}.source`, mediaTypeOfUrl)];
    case 'document':
      if (source.type === 'text') return [{ type: 'text', text: String(source.data ?? '') }];
      if (source.type === 'content') return blocksOf(source.content, `${path}.source.content`).flatMap((c, k) => userParts(c, `${path}.source.content[${k}]`));
      return [filePart(source, `${path}.source`, () => 'application/pdf')];
    default:
      throw new UntranslatableError(path, `a ${typeOf(block)} block in a user turn has no counterpart upstream`);
  }
}

function filePart(source: Json, path: string, urlMediaType: (url: string) => string): FilePart {
  if (source.type === 'base64' && typeof source.data === 'string') {
    return { type: 'file', mediaType: String(source.media_type ?? 'application/octet-stream'), data: { base64: source.data } };
  }
  if (source.type === 'url' && typeof source.url === 'string') return { type: 'file', mediaType: urlMediaType(source.url), data: { url: source.url } };
  throw new UntranslatableError(path, `a ${String(source.type)} source (only base64 and url travel upstream)`);
}

const IMAGE_EXTENSIONS: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/** An image URL's media type from its extension; `image/*` when it has none we know. */
function mediaTypeOfUrl(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  return (extension && IMAGE_EXTENSIONS[extension]) || 'image/*';
}

/**
 * Custom tools become functions, `web_search_*` the hosted search, and the Anthropic-defined client
 * tools (bash, text editor, memory) functions with their documented input. Anthropic's server tools
 * are left out with a note (a declared tool is an offer); computer use has no counterpart.
 */
function fromTools(tools: unknown, notes: string[]): { tools: Tool[]; leftOut: Set<string> } {
  const leftOut = new Set<string>();
  if (tools === undefined) return { tools: [], leftOut };
  if (!Array.isArray(tools)) throw new UntranslatableError('tools', 'must be an array');
  const declared = tools.flatMap((tool, i): Tool[] => {
    const t = isRecord(tool) ? tool : {};
    const type = typeof t.type === 'string' ? t.type : 'custom';
    if (type.startsWith('web_search_')) return [{ type: 'hosted', kind: 'web_search', name: typeof t.name === 'string' ? t.name : 'web_search' }];
    const defined = definedTool(type);
    if (defined) return [{ type: 'function', ...defined }];
    if (isAnthropicServerTool(type)) {
      leftOut.add(typeof t.name === 'string' ? t.name : type);
      notes.push(`tools[${i}] (${type}): a tool Anthropic's own service runs, which the upstream cannot; left out`);
      return [];
    }
    if (type !== 'custom') throw new UntranslatableError(`tools[${i}]`, `is the Anthropic-defined tool ${JSON.stringify(type)}, which has no counterpart upstream`);
    if (typeof t.name !== 'string') throw new UntranslatableError(`tools[${i}].name`, 'must be a string');
    // defer_loading, cache_control, strict, input_examples and allowed_callers are Anthropic-side hints.
    return [{
      type: 'function',
      name: t.name,
      ...(typeof t.description === 'string' ? { description: t.description } : {}),
      inputSchema: isRecord(t.input_schema) ? t.input_schema : { type: 'object', properties: {} },
    }];
  });
  return { tools: declared, leftOut };
}

function fromToolChoice(choice: unknown): ToolChoice {
  const c = isRecord(choice) ? choice : {};
  switch (c.type) {
    case 'auto':
      return { type: 'auto' };
    case 'any':
      return { type: 'required' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      if (typeof c.name !== 'string') throw new UntranslatableError('tool_choice.name', 'must be a string');
      return { type: 'tool', name: c.name };
    default:
      throw new UntranslatableError('tool_choice.type', `must be auto, any, tool or none, not ${JSON.stringify(c.type)}`);
  }
}

const EFFORTS: Record<string, ReasoningEffort> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' };

/** `thinking` and `output_config.effort` as neutral reasoning settings; none when thinking is off and no effort is given. */
function fromThinking(thinking: unknown, effort: unknown): ReasoningSettings | undefined {
  const t = isRecord(thinking) ? thinking : {};
  const includeThoughts = t.display !== 'omitted';
  let reasoning: ReasoningSettings | undefined;
  if (t.type === 'enabled') {
    reasoning = { ...(typeof t.budget_tokens === 'number' ? { budgetTokens: t.budget_tokens } : {}), includeThoughts };
  } else if (t.type === 'adaptive') {
    reasoning = { adaptive: true, includeThoughts };
  }
  if (effort === undefined || effort === null) return reasoning;
  const level = typeof effort === 'string' ? EFFORTS[effort] : undefined;
  if (!level) throw new UntranslatableError('output_config.effort', `must be low, medium, high, xhigh or max, not ${JSON.stringify(effort)}`);
  return { ...(reasoning ?? { adaptive: true, includeThoughts: false }), effort: level };
}

// ---------------------------------------------------------------------------------------------
// neutral -> Anthropic Messages (Claude on Vertex)
// ---------------------------------------------------------------------------------------------

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
