/**
 * OpenAI Chat Completions to and from the neutral model (DESIGN section 10): what opencode, Cline,
 * Continue and the OpenAI SDKs send to `/v1/chat/completions` becomes a ConversationRequest
 * (`fromChatRequest`, here), and the neutral answer goes back as Chat's `chat.completion.chunk`
 * stream (`chatStreamEncoder`) or one `chat.completion` (`renderChatAnswer`), both in
 * `openai-chat-answer.ts` and exported here too. Field names follow the `openai` package's
 * `ChatCompletionCreateParams`. Tool call ids pass through unchanged (Gemini's signatures ride in
 * them). Pure: no I/O.
 */
import { fileFromUrl, fromDataUrl, imageTypeOfUrl } from './file-url';
import { tooDeepAt, tooDeepMessage } from './json-depth';
import {
  EFFORT_NAMES,
  UntranslatableError,
  type AssistantPart,
  type ConversationRequest,
  type Message,
  type ReasoningEffort,
  type Tool,
  type ToolChoice,
  type ToolResultPart,
  type UserPart,
} from './conversation';

export { chatStreamEncoder, renderChatAnswer, type ChatStreamOptions } from './openai-chat-answer';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// Chat Completions request -> neutral
// ---------------------------------------------------------------------------------------------

/**
 * A Chat Completions body as the neutral request for `model` (the upstream model, aliases applied).
 * Left out on purpose, because they steer OpenAI's service or the client's bookkeeping and not the
 * answer: `seed`, `user`, `safety_identifier`, `metadata`, `store`, `service_tier`,
 * `prompt_cache_key`, `prompt_cache_retention`, `stream_options` (the route reads `include_usage`),
 * `prediction`, `verbosity`, `frequency_penalty`, `presence_penalty`, `strict` on functions, and
 * `name` on messages. Refused, because the answer would not be what was asked: `n` above 1,
 * `logprobs`, `top_logprobs`, `logit_bias`, audio output, and custom (freeform) tools.
 */
export function fromChatRequest(body: Json, model: string): ConversationRequest {
  if (!Array.isArray(body.messages)) throw new UntranslatableError('messages', 'must be an array of messages');
  refuseUnanswerable(body);
  const request: ConversationRequest = { model, messages: fromMessages(body.messages), tools: fromTools(body), stream: body.stream === true };
  const choice = body.tool_choice ?? body.function_call;
  if (choice !== undefined && choice !== null) {
    const path = body.tool_choice === undefined || body.tool_choice === null ? 'function_call' : 'tool_choice';
    request.toolChoice = fromToolChoice(choice, path, request);
  }
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') request.maxOutputTokens = maxTokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.topP = body.top_p;
  // Not in OpenAI's API, but vLLM-style clients send it and Gemini and Claude both take it.
  if (typeof body.top_k === 'number') request.topK = body.top_k;
  if (typeof body.stop === 'string') request.stopSequences = [body.stop];
  else if (Array.isArray(body.stop)) request.stopSequences = body.stop.filter((s): s is string => typeof s === 'string');
  if (body.response_format !== undefined && body.response_format !== null) request.responseFormat = fromResponseFormat(body.response_format);
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== null) {
    const effort = fromEffort(body.reasoning_effort);
    request.reasoning = { effort, includeThoughts: effort !== 'none' };
  }
  return request;
}

function refuseUnanswerable(body: Json): void {
  if (typeof body.n === 'number' && body.n > 1) throw new UntranslatableError('n', 'only one choice per request can be answered (n: 1)');
  if (body.logprobs === true) throw new UntranslatableError('logprobs', 'log probabilities are not available upstream');
  if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) throw new UntranslatableError('top_logprobs', 'log probabilities are not available upstream');
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0) throw new UntranslatableError('logit_bias', 'token biases have no counterpart upstream');
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) throw new UntranslatableError('modalities', 'audio output is not available upstream');
  if (isRecord(body.audio)) throw new UntranslatableError('audio', 'audio output is not available upstream');
}

/**
 * The messages in order. System and developer messages stay where they are; consecutive `tool`
 * (or legacy `function`) messages become one tool message, as the other protocols group results.
 */
function fromMessages(list: unknown[]): Message[] {
  const out: Message[] = [];
  const toolNames = new Map<string, string>();
  list.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (!isRecord(message)) throw new UntranslatableError(path, 'must be an object');
    switch (message.role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', text: texts(message.content, `${path}.content`).join('\n') });
        break;
      case 'user':
        out.push({ role: 'user', parts: userParts(message.content, `${path}.content`) });
        break;
      case 'assistant': {
        const parts = assistantParts(message, path, toolNames);
        if (parts.length) out.push({ role: 'assistant', parts });
        break;
      }
      case 'tool':
      case 'function': {
        const part = toolResult(message, path, toolNames);
        const last = out.at(-1);
        if (last?.role === 'tool') last.parts.push(part);
        else out.push({ role: 'tool', parts: [part] });
        break;
      }
      default:
        throw new UntranslatableError(`${path}.role`, `must be system, developer, user, assistant or tool, not ${JSON.stringify(message.role)}`);
    }
  });
  return out;
}

/** Content that may only hold text: a string, or text parts (refusal parts, which the model wrote, are left out). */
function texts(content: unknown, path: string): string[] {
  if (typeof content === 'string') return [content];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw new UntranslatableError(path, 'must be a string or an array of text parts');
  return content.flatMap((part, j) => {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return [part.text];
    if (isRecord(part) && part.type === 'refusal') return [];
    throw new UntranslatableError(`${path}[${j}]`, 'only text parts are allowed here');
  });
}

function userParts(content: unknown, path: string): UserPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new UntranslatableError(path, 'must be a string or an array of content parts');
  return content.map((part, j): UserPart => {
    const at = `${path}[${j}]`;
    const p = isRecord(part) ? part : {};
    switch (p.type) {
      case 'text':
        if (typeof p.text !== 'string') throw new UntranslatableError(`${at}.text`, 'must be a string');
        return { type: 'text', text: p.text };
      case 'image_url': {
        const url = isRecord(p.image_url) ? p.image_url.url : undefined;
        return fileFromUrl(url, `${at}.image_url.url`, imageTypeOfUrl);
      }
      case 'input_audio': {
        const audio = isRecord(p.input_audio) ? p.input_audio : {};
        const mediaType = audio.format === 'wav' ? 'audio/wav' : audio.format === 'mp3' ? 'audio/mpeg' : undefined;
        if (!mediaType || typeof audio.data !== 'string') throw new UntranslatableError(`${at}.input_audio`, 'needs base64 data and a format of wav or mp3');
        return { type: 'file', mediaType, data: { base64: audio.data } };
      }
      case 'file': {
        const file = isRecord(p.file) ? p.file : {};
        if (typeof file.file_data !== 'string' || !/^data:/i.test(file.file_data)) {
          throw new UntranslatableError(`${at}.file`, 'only inline file_data (a data: URL) travels upstream (an uploaded file_id cannot be read there)');
        }
        return fromDataUrl(file.file_data, `${at}.file.file_data`);
      }
      default:
        throw new UntranslatableError(`${at}.type`, `a ${JSON.stringify(p.type)} part has no counterpart upstream`);
    }
  });
}

/** Reasoning (`reasoning_content`, as DeepSeek-style clients return it) first, then text, then the calls. */
function assistantParts(message: Json, path: string, toolNames: Map<string, string>): AssistantPart[] {
  const parts: AssistantPart[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content) parts.push({ type: 'reasoning', text: message.reasoning_content });
  for (const text of texts(message.content, `${path}.content`)) if (text) parts.push({ type: 'text', text });
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call, j) => {
      const at = `${path}.tool_calls[${j}]`;
      const c = isRecord(call) ? call : {};
      if (c.type !== undefined && c.type !== 'function') throw new UntranslatableError(`${at}.type`, `a ${JSON.stringify(c.type)} tool call has no counterpart upstream`);
      if (typeof c.id !== 'string' || !c.id) throw new UntranslatableError(`${at}.id`, 'must be a string');
      parts.push(toolCall(c.id, c.function, `${at}.function`, toolNames));
    });
  }
  // The legacy single function call has no id: one is made from its place in the conversation.
  if (isRecord(message.function_call)) parts.push(toolCall(legacyCallId(path), message.function_call, `${path}.function_call`, toolNames));
  return parts;
}

const legacyCallId = (messagePath: string): string => `call_legacy_${/\d+/.exec(messagePath)?.[0] ?? '0'}`;

function toolCall(id: string, fn: unknown, path: string, toolNames: Map<string, string>): AssistantPart {
  const f = isRecord(fn) ? fn : {};
  if (typeof f.name !== 'string' || !f.name) throw new UntranslatableError(`${path}.name`, 'must be a string');
  toolNames.set(id, f.name);
  return { type: 'tool-call', id, name: f.name, input: parseToolArguments(f.arguments, `${path}.arguments`) };
}

/** Arguments as sent back by the client: JSON text of an object (empty text: no arguments). */
function parseToolArguments(text: unknown, path: string): Json {
  if (text === undefined || text === null || (typeof text === 'string' && !text.trim())) return {};
  if (typeof text !== 'string') throw new UntranslatableError(path, 'must be JSON text');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new UntranslatableError(path, 'is not valid JSON');
  }
  if (!isRecord(input)) throw new UntranslatableError(path, 'must be a JSON object');
  const at = tooDeepAt(input);
  if (at !== undefined) throw new UntranslatableError(path, tooDeepMessage(at));
  return input;
}

function toolResult(message: Json, path: string, toolNames: Map<string, string>): ToolResultPart {
  const output = texts(message.content, `${path}.content`).map((text) => ({ type: 'text' as const, text }));
  if (message.role === 'function') {
    // Legacy: the result names the function; it answers the latest call of that name.
    const name = message.name;
    const id = [...toolNames].reverse().find(([callId, n]) => n === name && callId.startsWith('call_legacy_'))?.[0];
    if (typeof name !== 'string' || id === undefined) throw new UntranslatableError(`${path}.name`, `${JSON.stringify(name)} names no earlier function_call`);
    return { type: 'tool-result', toolCallId: id, toolName: name, output };
  }
  const id = message.tool_call_id;
  const toolName = typeof id === 'string' ? toolNames.get(id) : undefined;
  if (typeof id !== 'string' || toolName === undefined) {
    throw new UntranslatableError(`${path}.tool_call_id`, `${JSON.stringify(id)} names no earlier tool call`);
  }
  return { type: 'tool-result', toolCallId: id, toolName, output };
}

/** `tools` (function tools), the legacy `functions`, and `web_search_options` as the hosted search. */
function fromTools(body: Json): Tool[] {
  const tools: Tool[] = [];
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, i) => {
      const t = isRecord(tool) ? tool : {};
      if (t.type !== 'function') throw new UntranslatableError(`tools[${i}].type`, `a ${JSON.stringify(t.type)} tool has no counterpart upstream`);
      tools.push(fromFunction(t.function, `tools[${i}].function`));
    });
  }
  if (Array.isArray(body.functions)) body.functions.forEach((fn, i) => tools.push(fromFunction(fn, `functions[${i}]`)));
  if (isRecord(body.web_search_options)) tools.push({ type: 'hosted', kind: 'web_search', name: 'web_search' });
  return tools;
}

function fromFunction(fn: unknown, path: string): Tool {
  const f = isRecord(fn) ? fn : {};
  if (typeof f.name !== 'string' || !f.name) throw new UntranslatableError(`${path}.name`, 'must be a string');
  return {
    type: 'function',
    name: f.name,
    ...(typeof f.description === 'string' ? { description: f.description } : {}),
    inputSchema: isRecord(f.parameters) ? f.parameters : { type: 'object', properties: {} },
  };
}

/**
 * `tool_choice` (or the legacy `function_call`). `allowed_tools` keeps only the tools it lists
 * in the request and becomes its mode, which is what it asks of the model.
 */
function fromToolChoice(choice: unknown, path: string, request: ConversationRequest): ToolChoice {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { type: choice };
  const c = isRecord(choice) ? choice : {};
  // The legacy form is `{name}`; the current one `{type: "function", function: {name}}`.
  const named = path === 'function_call' ? c : c.type === 'function' && isRecord(c.function) ? c.function : undefined;
  if (named) {
    if (typeof named.name !== 'string') throw new UntranslatableError(path === 'function_call' ? 'function_call.name' : 'tool_choice.function.name', 'must be a string');
    return { type: 'tool', name: named.name };
  }
  const allowed = c.type === 'allowed_tools' && isRecord(c.allowed_tools) ? c.allowed_tools : undefined;
  if (allowed && (allowed.mode === 'auto' || allowed.mode === 'required') && Array.isArray(allowed.tools)) {
    const names = new Set(allowed.tools.map((t) => (isRecord(t) && isRecord(t.function) ? t.function.name : isRecord(t) ? t.type : undefined)));
    request.tools = request.tools.filter((tool) => names.has(tool.name));
    return { type: allowed.mode };
  }
  throw new UntranslatableError(path, `must be auto, none, required, a named function or allowed_tools, not ${JSON.stringify(choice)}`);
}

function fromResponseFormat(format: unknown): ConversationRequest['responseFormat'] {
  const f = isRecord(format) ? format : {};
  if (f.type === 'text') return { type: 'text' };
  if (f.type === 'json_object') return { type: 'json' };
  if (f.type === 'json_schema' && isRecord(f.json_schema)) {
    const { name, schema } = f.json_schema;
    return { type: 'json', ...(isRecord(schema) ? { schema } : {}), ...(typeof name === 'string' ? { name } : {}) };
  }
  throw new UntranslatableError('response_format.type', `must be text, json_object or json_schema, not ${JSON.stringify(f.type)}`);
}

function fromEffort(effort: unknown): ReasoningEffort {
  const value = typeof effort === 'string' ? EFFORT_NAMES.get(effort) : undefined;
  if (!value) throw new UntranslatableError('reasoning_effort', `must be one of ${[...EFFORT_NAMES.keys()].join(', ')}, not ${JSON.stringify(effort)}`);
  return value;
}
