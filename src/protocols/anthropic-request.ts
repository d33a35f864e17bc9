/**
 * Anthropic Messages requests as the neutral model (DESIGN section 10): what Claude Code and the
 * Anthropic SDKs send becomes a ConversationRequest (`fromAnthropicRequest`); the other way is
 * `anthropic-request-encoder.ts`. Field names follow `@anthropic-ai/sdk`'s `MessageCreateParams`.
 * Pure.
 */
import {
  EFFORT_NAMES,
  UntranslatableError,
  type AssistantPart,
  type ConversationRequest,
  type FilePart,
  type Message,
  type ReasoningSettings,
  type Tool,
  type ToolChoice,
  type ToolResultPart,
  type UserPart,
} from './conversation';
import { definedTool, isAnthropicServerTool } from './anthropic-defined-tools';
import { fileFromUrl, imageTypeOfUrl } from './file-url';

type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

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
      return [filePart(source, `${path}.source`, imageTypeOfUrl)];
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
  if (source.type === 'url') return fileFromUrl(source.url, `${path}.url`, urlMediaType);
  throw new UntranslatableError(path, `a ${String(source.type)} source (only base64 and url travel upstream)`);
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

/** Anthropic's effort levels (`output_config.effort`). */
const ANTHROPIC_EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

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
  const level = typeof effort === 'string' && ANTHROPIC_EFFORTS.has(effort) ? EFFORT_NAMES.get(effort) : undefined;
  if (!level) throw new UntranslatableError('output_config.effort', `must be low, medium, high, xhigh or max, not ${JSON.stringify(effort)}`);
  return { ...(reasoning ?? { adaptive: true, includeThoughts: false }), effort: level };
}
