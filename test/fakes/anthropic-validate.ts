/**
 * What Claude on Vertex refuses in a Messages body (rawPredict, streamRawPredict, count-tokens),
 * with Anthropic's messages: Vertex passes Anthropic's own 400 through in Anthropic's shape
 * (`{type: "error", error: {type: "invalid_request_error", message}}`). Checked: roles, non-empty
 * content and text blocks, each tool_result answering a tool_use of the previous assistant turn
 * (and each tool_use answered in the next turn), custom tools with an object input_schema, and
 * the thinking budget.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const blocksOf = (content: unknown): Json[] => (Array.isArray(content) ? content.filter(isObject) : []);
const idsOf = (content: unknown, type: string, field: string): string[] =>
  blocksOf(content)
    .filter((b) => b.type === type)
    .map((b) => String(b[field]));

/** Anthropic's 400 message, or undefined when the body is accepted. */
export function validateAnthropicRequest(body: Json): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return 'messages: Field required';
  return checkTools(body.tools) ?? checkThinking(body) ?? checkMessages(messages);
}

function checkMessages(messages: unknown[]): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (!isObject(m)) return `messages.${i}: Input should be a valid dictionary`;
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (m.content === undefined) return `messages.${i}.content: Field required`;
    const last = i === messages.length - 1;
    const empty = m.content === '' || (Array.isArray(m.content) && m.content.length === 0);
    if (empty && !(last && m.role === 'assistant')) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const block of blocksOf(m.content)) {
      if (block.type !== 'text') continue;
      if (block.text === '') return 'messages: text content blocks must be non-empty';
      if (typeof block.text === 'string' && block.text.trim() === '') return 'messages: text content blocks must contain non-whitespace text';
    }
    const previous = i > 0 ? messages[i - 1] : undefined;
    const offered = new Set(isObject(previous) && previous.role === 'assistant' ? idsOf(previous.content, 'tool_use', 'id') : []);
    for (const [j, block] of blocksOf(m.content).entries()) {
      if (block.type !== 'tool_result' || offered.has(String(block.tool_use_id))) continue;
      return (
        `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. ` +
        'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.'
      );
    }
    if (m.role === 'assistant' && !last) {
      const next = messages[i + 1];
      const answered = new Set(isObject(next) ? idsOf(next.content, 'tool_result', 'tool_use_id') : []);
      const unanswered = idsOf(m.content, 'tool_use', 'id').filter((id) => !answered.has(id));
      if (unanswered.length > 0) {
        return (
          `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. ` +
          'Each `tool_use` block must have a corresponding `tool_result` block in the next message.'
        );
      }
    }
  }
  return undefined;
}

function checkTools(tools: unknown): string | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
  for (const [i, tool] of tools.entries()) {
    if (!isObject(tool)) return `tools.${i}: Input should be a valid dictionary`;
    // Server tools (web_search_*, bash_*, …) carry a dated type and no schema.
    if (tool.type !== undefined && tool.type !== 'custom') continue;
    if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      return `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
    }
    const schema = tool.input_schema;
    if (!isObject(schema)) return `tools.${i}.custom.input_schema: Field required`;
    if (schema.type === undefined) return `tools.${i}.custom.input_schema.type: Field required`;
    if (schema.type !== 'object') return `tools.${i}.custom.input_schema.type: Input should be 'object'`;
  }
  return undefined;
}

function checkThinking(body: Json): string | undefined {
  const thinking = body.thinking;
  if (!isObject(thinking) || thinking.type !== 'enabled') return undefined;
  const budget = thinking.budget_tokens;
  if (typeof budget !== 'number') return 'thinking.enabled.budget_tokens: Field required';
  if (budget < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
  if (typeof body.max_tokens === 'number' && body.max_tokens <= budget) return '`max_tokens` must be greater than `thinking.budget_tokens`';
  return undefined;
}

/** Anthropic's error body, as Vertex passes it through for Claude models. */
export function anthropicError(message: string): { type: 'error'; error: { type: 'invalid_request_error'; message: string } } {
  return { type: 'error', error: { type: 'invalid_request_error', message } };
}
