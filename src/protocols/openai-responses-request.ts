/**
 * OpenAI Responses requests to the neutral model (DESIGN section 10): what Codex and the `openai`
 * SDK's `responses.create` send becomes a ConversationRequest, with the options the answer encoder
 * needs to answer in kind. Field names follow the `openai` package's `ResponseCreateParams`. Pure.
 *
 * Responses is stateless here: `store` is treated as false, and what would need OpenAI's stored
 * state (`previous_response_id`, `conversation`, `item_reference`, stored `prompt`s, `background`)
 * is refused with the field named, so the client sends the whole input instead.
 */
import {
  EFFORT_NAMES,
  parseArguments,
  UntranslatableError,
  type AssistantPart,
  type ConversationRequest,
  type FilePart,
  type Message,
  type ReasoningSettings,
  type ResponseFormat,
  type TextPart,
  type ToolResultPart,
  type UserPart,
} from './conversation';
import { fileFromUrl, fromDataUrl, mediaTypeOfName } from './file-url';
import { REDACTED_PREFIX, type ResponsesAnswerOptions } from './openai-responses-items';
import { fromToolChoice, fromTools, isRecord, stringOf, typeOf, type ToolTable } from './openai-responses-tools';

type Json = Record<string, unknown>;

/** A Responses request as the neutral request, and what goes with it. */
export interface ResponsesRequest {
  request: ConversationRequest;
  /** One line per thing left out on purpose (hosted tools, …), for the route to log. */
  notes: string[];
  /** `prompt_cache_key`: the client's conversation, used as the session key for account affinity. */
  sessionKey?: string;
  /** For `responsesStreamEncoder` / `renderResponsesAnswer`. */
  answer: ResponsesAnswerOptions;
}

const STATELESS = 'tokenpool is stateless: send the whole conversation in input (store: false)';

/**
 * A `responses.create` body as the neutral request for `model` (the upstream model, aliases
 * applied). Ignored because they steer OpenAI's service rather than the answer: `store`,
 * `metadata`, `client_metadata`, `user`, `safety_identifier`, `service_tier`, `truncation`,
 * `prompt_cache_retention`, `stream_options`, `text.verbosity`.
 */
export function fromResponsesRequest(body: unknown, model: string): ResponsesRequest {
  if (!isRecord(body)) throw new UntranslatableError('body', 'must be a JSON object');
  if (body.previous_response_id != null) throw new UntranslatableError('previous_response_id', STATELESS);
  if (body.conversation != null) throw new UntranslatableError('conversation', STATELESS);
  if (body.prompt != null) throw new UntranslatableError('prompt', 'stored prompts live on OpenAI: send instructions and input instead');
  if (body.background === true) throw new UntranslatableError('background', 'tokenpool answers within the request: leave background unset');

  const notes: string[] = [];
  const tools = fromTools(body.tools, notes);
  const messages: Message[] = typeof body.instructions === 'string' && body.instructions ? [{ role: 'system', text: body.instructions }] : [];
  messages.push(...fromInput(body.input, tools, notes));

  const request: ConversationRequest = { model, messages, tools: tools.declared, stream: body.stream === true };
  const choice = fromToolChoice(body.tool_choice, tools);
  if (choice.allowed) request.tools = request.tools.filter((tool) => choice.allowed!.has(tool.name));
  if (choice.choice) request.toolChoice = choice.choice;
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  if (typeof body.max_output_tokens === 'number') request.maxOutputTokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.topP = body.top_p;
  const reasoning = fromReasoning(body.reasoning);
  if (reasoning) request.reasoning = reasoning;
  const format = fromTextFormat(body.text);
  if (format) request.responseFormat = format;
  if (typeof body.top_logprobs === 'number') notes.push('top_logprobs: log probabilities are not offered, left out');

  const include = Array.isArray(body.include) ? body.include : [];
  for (const entry of include) {
    if (entry !== 'reasoning.encrypted_content') notes.push(`include ${JSON.stringify(entry)}: not offered, left out`);
  }
  const result: ResponsesRequest = {
    request,
    notes,
    answer: { model: stringOf(body.model) ?? model, includeEncrypted: include.includes('reasoning.encrypted_content'), tools: tools.names, echo: echoOf(body) },
  };
  if (typeof body.prompt_cache_key === 'string' && body.prompt_cache_key) result.sessionKey = body.prompt_cache_key;
  return result;
}

/** The request fields a response object repeats back. */
function echoOf(body: Json): Json {
  const echo: Json = {
    instructions: stringOf(body.instructions) ?? null,
    tools: Array.isArray(body.tools) ? body.tools : [],
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    reasoning: isRecord(body.reasoning) ? { effort: body.reasoning.effort ?? null, summary: body.reasoning.summary ?? null } : { effort: null, summary: null },
    text: isRecord(body.text) ? body.text : { format: { type: 'text' } },
    truncation: body.truncation ?? 'disabled',
    metadata: isRecord(body.metadata) ? body.metadata : {},
  };
  if (typeof body.prompt_cache_key === 'string') echo.prompt_cache_key = body.prompt_cache_key;
  if (typeof body.user === 'string') echo.user = body.user;
  return echo;
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/** `reasoning`: the effort as is (`max` is the neutral `xhigh`), and summaries when `summary` asks for them. */
function fromReasoning(value: unknown): ReasoningSettings | undefined {
  if (!isRecord(value)) return undefined;
  const summary = value.summary ?? value.generate_summary;
  const settings: ReasoningSettings = { includeThoughts: summary === 'auto' || summary === 'concise' || summary === 'detailed' };
  if (value.effort === undefined || value.effort === null) return settings;
  const effort = typeof value.effort === 'string' ? EFFORT_NAMES.get(value.effort) : undefined;
  if (!effort) throw new UntranslatableError('reasoning.effort', `must be one of ${[...EFFORT_NAMES.keys()].join(', ')}, not ${JSON.stringify(value.effort)}`);
  settings.effort = effort;
  return settings;
}

/** `text.format`: a JSON schema or JSON object answer. */
function fromTextFormat(value: unknown): ResponseFormat | undefined {
  const format = isRecord(value) && isRecord(value.format) ? value.format : undefined;
  if (format?.type === 'json_schema') {
    return { type: 'json', ...(isRecord(format.schema) ? { schema: format.schema } : {}), ...(typeof format.name === 'string' ? { name: format.name } : {}) };
  }
  if (format?.type === 'json_object') return { type: 'json' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Input items
// ---------------------------------------------------------------------------------------------

/**
 * `input` (a string, or items) as messages. Consecutive assistant-side items (reasoning, assistant
 * messages, tool calls) make one assistant message, consecutive outputs one tool message.
 */
function fromInput(input: unknown, tools: ToolTable, notes: string[]): Message[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', text: input }] }];
  if (!Array.isArray(input)) throw new UntranslatableError('input', 'send the conversation as a string or an array of items');
  const messages: Message[] = [];
  const callNames = new Map<string, string>();
  const assistant = (part: AssistantPart) => {
    const last = messages.at(-1);
    if (last?.role === 'assistant') last.parts.push(part);
    else messages.push({ role: 'assistant', parts: [part] });
  };
  const tool = (part: ToolResultPart) => {
    const last = messages.at(-1);
    if (last?.role === 'tool') last.parts.push(part);
    else messages.push({ role: 'tool', parts: [part] });
  };
  input.forEach((item, i) => {
    const path = `input[${i}]`;
    if (!isRecord(item)) throw new UntranslatableError(path, 'must be an item object');
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        return fromMessage(item, path, messages, assistant);
      case 'function_call':
      case 'custom_tool_call': {
        const callId = requireString(item.call_id, `${path}.call_id`);
        const name = tools.neutralName(requireString(item.name, `${path}.name`), stringOf(item.namespace));
        callNames.set(callId, name);
        if (type === 'function_call') return assistant({ type: 'tool-call', id: callId, name, input: parseArguments(stringOf(item.arguments) ?? '', `${path}.arguments`) });
        return assistant({ type: 'tool-call', id: callId, name, input: stringOf(item.input) ?? '', freeform: true });
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = requireString(item.call_id, `${path}.call_id`);
        const toolName = callNames.get(callId);
        if (toolName === undefined) throw new UntranslatableError(`${path}.call_id`, `no tool call with call_id ${callId} comes before it in input`);
        const output = toolOutput(item.output, `${path}.output`);
        return tool({ type: 'tool-result', toolCallId: callId, toolName, output, ...(type === 'custom_tool_call_output' ? { freeform: true } : {}) });
      }
      case 'reasoning':
        return assistant(fromReasoningItem(item));
      case 'item_reference':
        throw new UntranslatableError(path, `item_reference: ${STATELESS}`);
      case 'web_search_call':
        notes.push(`${path} (web_search_call): an OpenAI-hosted search from an earlier turn, left out`);
        return;
      default:
        throw new UntranslatableError(path, `${String(type)} items cannot be sent to this model`);
    }
  });
  return messages;
}

function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string' || !value) throw new UntranslatableError(path, 'must be a non-empty string');
  return value;
}

function fromMessage(item: Json, path: string, messages: Message[], assistant: (part: AssistantPart) => void): void {
  const content = typeof item.content === 'string' ? [{ type: 'input_text', text: item.content }] : item.content;
  if (!Array.isArray(content)) throw new UntranslatableError(`${path}.content`, 'must be a string or an array of content parts');
  const at = (j: number) => `${path}.content[${j}]`;
  switch (item.role) {
    case 'system':
    case 'developer': {
      const texts = content.map((part, j) => {
        const text = textOf(part);
        if (text === undefined) throw new UntranslatableError(at(j), `only text can be a ${item.role} message`);
        return text;
      });
      messages.push({ role: 'system', text: texts.join('\n\n') });
      return;
    }
    case 'user': {
      const parts = content.map((part, j) => userPart(part, at(j)));
      if (parts.length) messages.push({ role: 'user', parts });
      return;
    }
    case 'assistant':
      content.forEach((part, j) => {
        const text = textOf(part);
        if (text === undefined) throw new UntranslatableError(at(j), `${typeOf(part)} cannot be in an assistant message`);
        assistant({ type: 'text', text });
      });
      return;
    default:
      throw new UntranslatableError(`${path}.role`, 'must be user, assistant, system or developer');
  }
}

/** The text of a text-like content part (`input_text`, `output_text`, `refusal`). */
function textOf(part: unknown): string | undefined {
  if (!isRecord(part)) return undefined;
  if ((part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') && typeof part.text === 'string') return part.text;
  if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
  return undefined;
}

function userPart(part: unknown, path: string): UserPart {
  const text = textOf(part);
  if (text !== undefined) return { type: 'text', text };
  if (isRecord(part) && part.type === 'input_image') return imagePart(part, path);
  if (isRecord(part) && part.type === 'input_file') return filePart(part, path);
  throw new UntranslatableError(path, `${typeOf(part)} content cannot be sent to this model`);
}

function toolOutput(output: unknown, path: string): (TextPart | FilePart)[] {
  if (typeof output === 'string') return [{ type: 'text', text: output }];
  if (!Array.isArray(output)) throw new UntranslatableError(path, 'must be a string or an array of content parts');
  return output.map((part, j) => userPart(part, `${path}[${j}]`));
}

/** A reasoning item as a reasoning part: its summary (or raw reasoning) text, `encrypted_content` as the signature. */
function fromReasoningItem(item: Json): AssistantPart {
  const texts = (list: unknown) => (Array.isArray(list) ? list.map((entry) => (isRecord(entry) ? stringOf(entry.text) : undefined)).filter((t) => t !== undefined) : []);
  const summary = texts(item.summary);
  const text = (summary.length ? summary : texts(item.content)).join('\n\n');
  const encrypted = stringOf(item.encrypted_content);
  if (encrypted?.startsWith(REDACTED_PREFIX)) return { type: 'reasoning', text, redacted: encrypted.slice(REDACTED_PREFIX.length) };
  return { type: 'reasoning', text, ...(encrypted ? { signature: encrypted } : {}) };
}

const UPLOADED = 'files uploaded to OpenAI cannot be read here: send the content inline (a data: URL) or by URL';

/** `input_image`: a `data:` URL inline, an http(s) URL by reference (media type from its extension, else JPEG). */
function imagePart(part: Json, path: string): FilePart {
  const url = stringOf(part.image_url);
  if (url === undefined) throw new UntranslatableError(`${path}.file_id`, UPLOADED);
  return fileFromUrl(url, `${path}.image_url`, (u) => mediaTypeOfName(u) ?? 'image/jpeg');
}

/** `input_file`: `file_data` (a data: URL, or base64 named by `filename`) or `file_url`. */
function filePart(part: Json, path: string): FilePart {
  const filename = stringOf(part.filename) ?? '';
  const data = stringOf(part.file_data);
  if (data !== undefined) {
    if (/^data:/i.test(data)) return fromDataUrl(data, `${path}.file_data`);
    const mediaType = mediaTypeOfName(filename);
    if (!mediaType) throw new UntranslatableError(`${path}.filename`, 'the file type cannot be told: send file_data as a data: URL');
    return { type: 'file', mediaType, data: { base64: data } };
  }
  const url = stringOf(part.file_url);
  if (url !== undefined) return fileFromUrl(url, `${path}.file_url`, (u) => mediaTypeOfName(filename) ?? mediaTypeOfName(u));
  throw new UntranslatableError(`${path}.file_id`, UPLOADED);
}
