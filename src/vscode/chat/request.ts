/**
 * A chat request from VS Code (plain shapes, parts.ts) as the neutral conversation of DESIGN
 * section 10, which the Gemini and Claude codecs then encode. Pure: no `vscode` import.
 *
 * - User messages: text and image data parts; JSON and text data parts as text; other data (the
 *   chat's own markers, such as `cache_control`) left out. Tool results become a `tool` message.
 * - Assistant messages: text, tool calls (their `callId` carries a Gemini signature when the
 *   answer had one: gemini-signature.ts), and thinking with its signature in the part's metadata.
 * - Tools and `toolMode` (auto / required); model options `temperature`, `topP`, `maxOutputTokens`,
 *   `stop` and `reasoningEffort`.
 */
import {
  UntranslatableError,
  type AssistantPart,
  type ConversationRequest,
  type FilePart,
  type Message,
  type ReasoningEffort,
  type TextPart,
  type ToolResultPart,
  type UserPart,
} from '../../protocols/conversation';
import type { ChatInputMessage, ChatInputPart, ChatRequestOptions } from './parts';

const REASONING_EFFORTS: readonly ReasoningEffort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

export function toConversation(model: string, messages: readonly ChatInputMessage[], options: ChatRequestOptions): ConversationRequest {
  const toolNames = new Map<string, string>();
  const out: Message[] = [];
  messages.forEach((message, m) => {
    const where = `messages[${m}]`;
    if (message.role === 'system') {
      const text = message.parts.flatMap((part) => textOf(part)).join('\n');
      if (text) out.push({ role: 'system', text });
    } else if (message.role === 'assistant') {
      const parts = message.parts.flatMap((part, p) => assistantPart(part, `${where}.content[${p}]`));
      for (const part of parts) if (part.type === 'tool-call') toolNames.set(part.id, part.name);
      if (parts.length > 0) out.push({ role: 'assistant', parts });
    } else {
      userMessages(message.parts, where, toolNames, out);
    }
  });
  const request: ConversationRequest = {
    model,
    messages: out,
    tools: options.tools.map((tool) => ({
      type: 'function' as const,
      name: tool.name,
      description: tool.description || undefined,
      inputSchema: isObject(tool.inputSchema) ? tool.inputSchema : { type: 'object', properties: {} },
    })),
    stream: true,
  };
  if (options.tools.length > 0) request.toolChoice = { type: options.toolMode };
  applyModelOptions(request, options);
  return request;
}

/** A user message: text and files, with its tool results split out as `tool` messages in order. */
function userMessages(parts: readonly ChatInputPart[], where: string, toolNames: ReadonlyMap<string, string>, out: Message[]): void {
  const push = (role: 'user' | 'tool', part: UserPart | ToolResultPart): void => {
    const last = out[out.length - 1];
    if (role === 'tool' && last?.role === 'tool') last.parts.push(part as ToolResultPart);
    else if (role === 'user' && last?.role === 'user') last.parts.push(part as UserPart);
    else if (role === 'tool') out.push({ role: 'tool', parts: [part as ToolResultPart] });
    else out.push({ role: 'user', parts: [part as UserPart] });
  };
  parts.forEach((part, p) => {
    const at = `${where}.content[${p}]`;
    if (part.kind === 'tool-result') {
      const toolName = toolNames.get(part.callId);
      if (toolName === undefined) throw new UntranslatableError(at, `a tool result for call "${part.callId}", which no earlier assistant message made`);
      push('tool', {
        type: 'tool-result',
        toolCallId: part.callId,
        toolName,
        output: part.content.flatMap((inner) => resultPart(inner)),
        ...(part.isError ? { isError: true } : {}),
      });
      return;
    }
    if (part.kind === 'tool-call') throw new UntranslatableError(at, 'a tool call in a user message (tool calls belong to assistant messages)');
    for (const userPart of contentPart(part)) push('user', userPart);
  });
}

function assistantPart(part: ChatInputPart, at: string): AssistantPart[] {
  switch (part.kind) {
    case 'text':
      return part.value ? [{ type: 'text', text: part.value }] : [];
    case 'thinking':
      return [{
        type: 'reasoning',
        text: part.value,
        ...(part.metadata?.signature ? { signature: part.metadata.signature } : {}),
        ...(part.metadata?.redacted ? { redacted: part.metadata.redacted } : {}),
      }];
    case 'tool-call':
      return [{ type: 'tool-call', id: part.callId, name: part.name, input: part.input ?? {} }];
    case 'tool-result':
      throw new UntranslatableError(at, 'a tool result in an assistant message (tool results belong to user messages)');
    default:
      return contentPart(part).flatMap((p): AssistantPart[] => (p.type === 'text' ? [p] : []));
  }
}

/** Text and images of a user message (and of a tool result). */
function contentPart(part: ChatInputPart): (TextPart | FilePart)[] {
  switch (part.kind) {
    case 'text':
      return part.value ? [{ type: 'text', text: part.value }] : [];
    case 'data':
      if (part.mimeType.startsWith('image/')) return [{ type: 'file', mediaType: part.mimeType, data: { base64: Buffer.from(part.data).toString('base64') } }];
      return isTextual(part.mimeType) ? [{ type: 'text', text: Buffer.from(part.data).toString('utf8') }] : [];
    case 'prompt-tsx': {
      const text = promptTsxText(part.value);
      return text ? [{ type: 'text', text }] : [];
    }
    default:
      return [];
  }
}

const resultPart = (part: ChatInputPart): (TextPart | FilePart)[] => contentPart(part);

function textOf(part: ChatInputPart): string[] {
  return contentPart(part).flatMap((p) => (p.type === 'text' ? [p.text] : []));
}

/** JSON and text data become text; anything else (the chat's own markers) is not for the model. */
const isTextual = (mimeType: string): boolean => mimeType.startsWith('text/') || /^application\/(.+\+)?json\b/.test(mimeType);

/** The text of a prompt-tsx element tree: its text nodes, depth first. */
export function promptTsxText(value: unknown): string {
  const texts: string[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.text === 'string') texts.push(record.text);
    for (const [key, child] of Object.entries(record)) if (key !== 'text') visit(child, depth + 1);
  };
  visit(value, 0);
  return texts.join('');
}

function applyModelOptions(request: ConversationRequest, options: ChatRequestOptions): void {
  const o = options.modelOptions;
  const number = (key: string): number | undefined => (typeof o[key] === 'number' && Number.isFinite(o[key]) ? (o[key] as number) : undefined);
  const temperature = number('temperature');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = number('topP') ?? number('top_p');
  if (topP !== undefined) request.topP = topP;
  const maxOutputTokens = number('maxOutputTokens') ?? number('max_tokens');
  if (maxOutputTokens !== undefined) request.maxOutputTokens = Math.floor(maxOutputTokens);
  const stop = o.stop;
  if (typeof stop === 'string') request.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) request.stopSequences = stop as string[];
  const effort = o.reasoningEffort;
  if (typeof effort === 'string' && !(REASONING_EFFORTS as readonly string[]).includes(effort)) {
    throw new UntranslatableError('modelOptions.reasoningEffort', `"${effort}" is not one of ${REASONING_EFFORTS.join(', ')}`);
  }
  if (options.thinking || typeof effort === 'string') {
    request.reasoning = { includeThoughts: options.thinking, ...(typeof effort === 'string' ? { effort: effort as ReasoningEffort } : {}) };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
