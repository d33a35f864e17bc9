import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromAnthropicRequest, toAnthropicRequest } from '../../src/protocols/anthropic';
import { UntranslatableError, type ConversationRequest, type Message } from '../../src/protocols/conversation';

/** What Claude Code 2.1 sends (DESIGN section 10), trimmed to one of each thing it does. */
const claudeCodeBody = {
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 32000,
  stream: true,
  metadata: { user_id: 'user_0123abcd_account__session_4567' },
  system: [
    { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.0' },
    { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: 'ephemeral' } },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: '<system-reminder>As you answer, use the context.</system-reminder>' },
        { type: 'text', text: 'list the files', cache_control: { type: 'ephemeral' } },
      ],
    },
    { role: 'system', content: 'The user switched to plan mode.' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should run ls.', signature: 'gemini.c2lnLTE=' },
        { type: 'text', text: 'Running ls.' },
        { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01', content: 'ls: permission denied', is_error: true, cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'try sudo' },
      ],
    },
  ],
  tools: [
    {
      name: 'Bash',
      description: 'Runs a shell command.',
      input_schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { command: { type: 'string' }, timeout: { type: 'number', exclusiveMinimum: 0 } },
        required: ['command'],
        additionalProperties: false,
      },
    },
    { name: 'mcp__ide__getDiagnostics', description: 'Diagnostics.', input_schema: { type: 'object', properties: {} }, defer_loading: true, cache_control: { type: 'ephemeral' } },
  ],
  thinking: { type: 'adaptive', display: 'omitted' },
  context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
  output_config: { effort: 'high' },
};

const claudeCodeNeutral: ConversationRequest = {
  model: 'gemini-2.5-pro',
  messages: [
    { role: 'system', text: 'x-anthropic-billing-header: cc_version=2.1.0' },
    { role: 'system', text: "You are Claude Code, Anthropic's official CLI for Claude." },
    {
      role: 'user',
      parts: [
        { type: 'text', text: '<system-reminder>As you answer, use the context.</system-reminder>' },
        { type: 'text', text: 'list the files' },
      ],
    },
    { role: 'system', text: 'The user switched to plan mode.' },
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'I should run ls.', signature: 'gemini.c2lnLTE=' },
        { type: 'text', text: 'Running ls.' },
        { type: 'tool-call', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } },
      ],
    },
    { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'toolu_01', toolName: 'Bash', output: [{ type: 'text', text: 'ls: permission denied' }], isError: true }] },
    { role: 'user', parts: [{ type: 'text', text: 'try sudo' }] },
  ],
  tools: [
    { type: 'function', name: 'Bash', description: 'Runs a shell command.', inputSchema: claudeCodeBody.tools[0].input_schema },
    { type: 'function', name: 'mcp__ide__getDiagnostics', description: 'Diagnostics.', inputSchema: { type: 'object', properties: {} } },
  ],
  maxOutputTokens: 32000,
  reasoning: { adaptive: true, includeThoughts: false, effort: 'high' },
  stream: true,
};

describe("fromAnthropicRequest: Claude Code's real request shape", () => {
  test('whole body -> neutral (metadata, context_management and cache_control left out)', () => {
    assert.deepEqual(fromAnthropicRequest(claudeCodeBody, 'gemini-2.5-pro'), claudeCodeNeutral);
  });
});

const hi = { role: 'user', content: 'hi' };
const hiNeutral: Message = { role: 'user', parts: [{ type: 'text', text: 'hi' }] };
const png = { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' };
const bashCall = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'pwd' } }] };
const bashCallNeutral: Message = { role: 'assistant', parts: [{ type: 'tool-call', id: 'toolu_9', name: 'Bash', input: { command: 'pwd' } }] };

describe('fromAnthropicRequest: each field', () => {
  // [name, body, the fields of the neutral request it must produce]
  const table: [string, Record<string, unknown>, Partial<ConversationRequest>][] = [
    ['plain string message', { messages: [hi] }, { messages: [hiNeutral], tools: [], stream: false }],
    ['system as a string', { system: 'be brief', messages: [hi] }, { messages: [{ role: 'system', text: 'be brief' }, hiNeutral] }],
    ['system as text blocks', { system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }], messages: [hi] },
      { messages: [{ role: 'system', text: 'a' }, { role: 'system', text: 'b' }, hiNeutral] }],
    ['role system message in place, blocks', { messages: [hi, { role: 'system', content: [{ type: 'text', text: 'mid' }] }, hi] },
      { messages: [hiNeutral, { role: 'system', text: 'mid' }, hiNeutral] }],
    ['image base64', { messages: [{ role: 'user', content: [{ type: 'image', source: png }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'image/png', data: { base64: 'iVBORw0K' } }] }] }],
    ['image url, media type from the extension', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x.test/a.JPG?s=1' } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'image/jpeg', data: { url: 'https://x.test/a.JPG?s=1' } }] }] }],
    ['image url without a known extension', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x.test/img' } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'image/*', data: { url: 'https://x.test/img' } }] }] }],
    ['pdf document base64', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0' } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'application/pdf', data: { base64: 'JVBERi0' } }] }] }],
    ['pdf document url', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'application/pdf', data: { url: 'https://x.test/a.pdf' } }] }] }],
    ['plain text document', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'text', text: 'notes' }] }] }],
    ['content document', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'c1' }, { type: 'image', source: png }] } }] }] },
      { messages: [{ role: 'user', parts: [{ type: 'text', text: 'c1' }, { type: 'file', mediaType: 'image/png', data: { base64: 'iVBORw0K' } }] }] }],
    ['tool_use -> tool-call, tool_result blocks -> tool message with the name resolved',
      { messages: [hi, bashCall, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: [{ type: 'text', text: '/home' }, { type: 'image', source: png }] }] }] },
      { messages: [hiNeutral, bashCallNeutral, { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'toolu_9', toolName: 'Bash', output: [{ type: 'text', text: '/home' }, { type: 'file', mediaType: 'image/png', data: { base64: 'iVBORw0K' } }] }] }] }],
    ['tool_result without content', { messages: [bashCall, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9' }] }] },
      { messages: [bashCallNeutral, { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'toolu_9', toolName: 'Bash', output: [] }] }] }],
    ['tool_reference in a tool result (tool search) -> text', { messages: [bashCall, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: [{ type: 'tool_reference', tool_name: 'Grep' }] }] }] },
      { messages: [bashCallNeutral, { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'toolu_9', toolName: 'Bash', output: [{ type: 'text', text: 'Tool loaded: Grep' }] }] }] }],
    ['parallel results and text mixed: order kept',
      { messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'A', input: {} }, { type: 'tool_use', id: 'b', name: 'B', input: {} }] },
        { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'tool_result', tool_use_id: 'a', content: 'ra' }, { type: 'tool_result', tool_use_id: 'b', content: 'rb' }, { type: 'text', text: 'last' }] }] },
      { messages: [
        { role: 'assistant', parts: [{ type: 'tool-call', id: 'a', name: 'A', input: {} }, { type: 'tool-call', id: 'b', name: 'B', input: {} }] },
        { role: 'user', parts: [{ type: 'text', text: 'first' }] },
        { role: 'tool', parts: [
          { type: 'tool-result', toolCallId: 'a', toolName: 'A', output: [{ type: 'text', text: 'ra' }] },
          { type: 'tool-result', toolCallId: 'b', toolName: 'B', output: [{ type: 'text', text: 'rb' }] },
        ] },
        { role: 'user', parts: [{ type: 'text', text: 'last' }] },
      ] }],
    ['thinking and redacted_thinking', { messages: [hi, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 'EqQB' }, { type: 'redacted_thinking', data: 'EmwK' }, { type: 'text', text: 'ok' }] }] },
      { messages: [hiNeutral, { role: 'assistant', parts: [{ type: 'reasoning', text: 'hm', signature: 'EqQB' }, { type: 'reasoning', text: '', redacted: 'EmwK' }, { type: 'text', text: 'ok' }] }] }],
    ['assistant string content', { messages: [hi, { role: 'assistant', content: 'hello' }] }, { messages: [hiNeutral, { role: 'assistant', parts: [{ type: 'text', text: 'hello' }] }] }],
    ['custom tool (type custom, no description)', { messages: [hi], tools: [{ type: 'custom', name: 'f', input_schema: { type: 'object' } }] },
      { tools: [{ type: 'function', name: 'f', inputSchema: { type: 'object' } }] }],
    ['web_search_20250305 -> hosted web_search', { messages: [hi], tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] },
      { tools: [{ type: 'hosted', kind: 'web_search', name: 'web_search' }] }],
    ['web_search_20260209 -> hosted web_search', { messages: [hi], tools: [{ type: 'web_search_20260209', name: 'web_search' }] },
      { tools: [{ type: 'hosted', kind: 'web_search', name: 'web_search' }] }],
    ['tool_choice auto', { messages: [hi], tool_choice: { type: 'auto' } }, { toolChoice: { type: 'auto' }, parallelToolCalls: undefined }],
    ['tool_choice any', { messages: [hi], tool_choice: { type: 'any' } }, { toolChoice: { type: 'required' } }],
    ['tool_choice tool', { messages: [hi], tool_choice: { type: 'tool', name: 'Bash' } }, { toolChoice: { type: 'tool', name: 'Bash' } }],
    ['tool_choice none', { messages: [hi], tool_choice: { type: 'none' } }, { toolChoice: { type: 'none' } }],
    ['disable_parallel_tool_use -> parallelToolCalls false', { messages: [hi], tool_choice: { type: 'auto', disable_parallel_tool_use: true } }, { toolChoice: { type: 'auto' }, parallelToolCalls: false }],
    ['max_tokens', { messages: [hi], max_tokens: 1234 }, { maxOutputTokens: 1234 }],
    ['temperature', { messages: [hi], temperature: 0.2 }, { temperature: 0.2 }],
    ['top_p', { messages: [hi], top_p: 0.9 }, { topP: 0.9 }],
    ['top_k', { messages: [hi], top_k: 40 }, { topK: 40 }],
    ['stop_sequences', { messages: [hi], stop_sequences: ['END', 'STOP'] }, { stopSequences: ['END', 'STOP'] }],
    ['thinking enabled -> budget, thoughts shown', { messages: [hi], thinking: { type: 'enabled', budget_tokens: 4096 } }, { reasoning: { budgetTokens: 4096, includeThoughts: true } }],
    ['thinking adaptive -> adaptive, thoughts shown', { messages: [hi], thinking: { type: 'adaptive' } }, { reasoning: { adaptive: true, includeThoughts: true } }],
    ['thinking adaptive, display omitted', { messages: [hi], thinking: { type: 'adaptive', display: 'omitted' } }, { reasoning: { adaptive: true, includeThoughts: false } }],
    ['thinking disabled -> none', { messages: [hi], thinking: { type: 'disabled' } }, { reasoning: undefined }],
    ['effort alone -> adaptive without thoughts', { messages: [hi], output_config: { effort: 'low' } }, { reasoning: { adaptive: true, includeThoughts: false, effort: 'low' } }],
    ['effort medium', { messages: [hi], output_config: { effort: 'medium' } }, { reasoning: { adaptive: true, includeThoughts: false, effort: 'medium' } }],
    ['effort max -> xhigh', { messages: [hi], output_config: { effort: 'max' } }, { reasoning: { adaptive: true, includeThoughts: false, effort: 'xhigh' } }],
    ['effort with a budget', { messages: [hi], thinking: { type: 'enabled', budget_tokens: 2000 }, output_config: { effort: 'high' } },
      { reasoning: { budgetTokens: 2000, includeThoughts: true, effort: 'high' } }],
    ['output_config.format json_schema', { messages: [hi], output_config: { format: { type: 'json_schema', schema: { type: 'object' } } } },
      { responseFormat: { type: 'json', schema: { type: 'object' } } }],
    ['output_format (beta name)', { messages: [hi], output_format: { type: 'json_schema', schema: { type: 'array' } } }, { responseFormat: { type: 'json', schema: { type: 'array' } } }],
    ['stream', { messages: [hi], stream: true }, { stream: true }],
    ['service_tier, container, mcp_servers, metadata ignored',
      { messages: [hi], service_tier: 'auto', container: 'c1', mcp_servers: [{ type: 'url', url: 'https://m.test', name: 'm' }], metadata: { user_id: 'u' }, context_management: {} },
      { messages: [hiNeutral], tools: [] }],
  ];
  for (const [name, body, expected] of table) {
    test(name, () => {
      const request = fromAnthropicRequest(body, 'gemini-2.5-flash');
      assert.equal(request.model, 'gemini-2.5-flash');
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(request[key as keyof ConversationRequest], value, key);
    });
  }
});

describe('fromAnthropicRequest: what cannot travel is a 400 naming the field', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['tool_result for no earlier tool_use', { messages: [hi, { role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }] }] }, 'messages[1].content[1].tool_use_id'],
    ['computer tool', { messages: [hi], tools: [{ name: 'f', input_schema: {} }, { type: 'computer_20250124', name: 'computer' }] }, 'tools[1]'],
    ['an Anthropic-defined tool we do not know', { messages: [hi], tools: [{ type: 'hologram_20270101', name: 'hologram' }] }, 'tools[0]'],
    ['tool_choice naming a server tool that was left out',
      { messages: [hi], tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], tool_choice: { type: 'tool', name: 'code_execution' } }, 'tool_choice.name'],
    ['custom tool without a name', { messages: [hi], tools: [{ input_schema: {} }] }, 'tools[0].name'],
    ['unknown user block', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'search_result', source: 's' }] }] }, 'messages[0].content[1]'],
    ['server_tool_use in an assistant turn', { messages: [hi, { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] }] }, 'messages[1].content[0]'],
    ['image by file_id', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }, 'messages[0].content[0].source'],
    ['unknown block inside a tool result', { messages: [bashCall, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: [{ type: 'search_result' }] }] }] }, 'messages[1].content[0].content[0]'],
    ['unknown role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['messages missing', {}, 'messages'],
    ['image in system', { system: [{ type: 'image', source: png }], messages: [hi] }, 'system[0]'],
    ['unknown effort', { messages: [hi], output_config: { effort: 'extreme' } }, 'output_config.effort'],
    ['unknown tool_choice', { messages: [hi], tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
  ];
  for (const [name, body, field] of table) {
    test(name, () => {
      assert.throws(() => fromAnthropicRequest(body, 'gemini-2.5-flash'), (error: unknown) => error instanceof UntranslatableError && error.field === field);
    });
  }
});

/** A neutral request with only what a row sets. */
const neutral = (over: Partial<ConversationRequest>): ConversationRequest => ({
  model: 'claude-sonnet-4-5',
  messages: [hiNeutral],
  tools: [],
  stream: false,
  ...over,
});
const fn = { type: 'function' as const, name: 'Bash', inputSchema: { type: 'object', properties: { command: { type: 'string' } } } };

describe('toAnthropicRequest: a Messages body for Claude on Vertex', () => {
  test('whole request: the Claude Code body after a trip through neutral (Gemini thinking dropped, so thinking off for the tool loop; system gathered)', () => {
    assert.deepEqual(toAnthropicRequest({ ...claudeCodeNeutral, model: 'claude-sonnet-4-5' }), {
      model: 'claude-sonnet-4-5',
      system: [
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.0' },
        { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
        { type: 'text', text: 'The user switched to plan mode.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>As you answer, use the context.</system-reminder>' }, { type: 'text', text: 'list the files' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Running ls.' }, { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'ls: permission denied' }], is_error: true }, { type: 'text', text: 'try sudo' }] },
      ],
      tools: [
        { name: 'Bash', description: 'Runs a shell command.', input_schema: claudeCodeBody.tools[0].input_schema },
        { name: 'mcp__ide__getDiagnostics', description: 'Diagnostics.', input_schema: { type: 'object', properties: {} } },
      ],
      max_tokens: 32000,
      stream: true,
    });
  });

  const img = { type: 'file' as const, mediaType: 'image/png', data: { base64: 'iVBORw0K' } };
  // [name, neutral request fields, the body fields it must produce]
  const table: [string, Partial<ConversationRequest>, Record<string, unknown>][] = [
    ['minimal: model, default max_tokens, stream false', {}, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 8192, stream: false, system: undefined, tools: undefined, thinking: undefined }],
    ['max_tokens', { maxOutputTokens: 500 }, { max_tokens: 500 }],
    ['temperature, top_p, top_k, stop_sequences', { temperature: 0.5, topP: 0.8, topK: 20, stopSequences: ['END'] }, { temperature: 0.5, top_p: 0.8, top_k: 20, stop_sequences: ['END'] }],
    ['stream', { stream: true }, { stream: true }],
    ['images base64 and url, pdf', { messages: [{ role: 'user', parts: [img, { type: 'file', mediaType: 'image/jpeg', data: { url: 'https://x.test/a.jpg' } }, { type: 'file', mediaType: 'application/pdf', data: { base64: 'JVBERi0' } }] }] },
      { messages: [{ role: 'user', content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } },
        { type: 'image', source: { type: 'url', url: 'https://x.test/a.jpg' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0' } },
      ] }] }],
    ['reasoning: Claude-signed -> thinking, redacted -> redacted_thinking, Gemini-signed and unsigned dropped',
      { messages: [hiNeutral, { role: 'assistant', parts: [
        { type: 'reasoning', text: 'claude thought', signature: 'EqQBCkYIBRgC' },
        { type: 'reasoning', text: '', redacted: 'EmwKAhgB' },
        { type: 'reasoning', text: 'gemini thought', signature: 'gemini.c2ln' },
        { type: 'reasoning', text: 'unsigned thought' },
        { type: 'text', text: 'answer', signature: 'gemini.dGV4dA==' },
      ] }] },
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: [
        { type: 'thinking', thinking: 'claude thought', signature: 'EqQBCkYIBRgC' },
        { type: 'redacted_thinking', data: 'EmwKAhgB' },
        { type: 'text', text: 'answer' },
      ] }] }],
    ['tool results as user tool_result blocks, consecutive user turns merged, empty text left out',
      { messages: [hiNeutral, { role: 'assistant', parts: [{ type: 'text', text: '' }, { type: 'tool-call', id: 'c1', name: 'Bash', input: { command: 'ls' } }, { type: 'tool-call', id: 'c2', name: 'Bash', input: 'not json' }] },
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'Bash', output: [{ type: 'text', text: 'a.txt' }, img] }, { type: 'tool-result', toolCallId: 'c2', toolName: 'Bash', output: [], isError: true }] },
        { role: 'user', parts: [{ type: 'text', text: 'thanks' }] }] },
      { messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'Bash', input: { command: 'ls' } }, { type: 'tool_use', id: 'c2', name: 'Bash', input: {} }] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'c1', content: [{ type: 'text', text: 'a.txt' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } }] },
          { type: 'tool_result', tool_use_id: 'c2', is_error: true },
          { type: 'text', text: 'thanks' },
        ] },
      ] }],
    ['function and hosted tools', { tools: [{ ...fn, description: 'shell' }, { type: 'hosted', kind: 'web_search', name: 'web_search_preview' }] },
      { tools: [{ name: 'Bash', description: 'shell', input_schema: fn.inputSchema }, { type: 'web_search_20250305', name: 'web_search' }] }],
    ['tool_choice auto', { tools: [fn], toolChoice: { type: 'auto' } }, { tool_choice: { type: 'auto' } }],
    ['tool_choice required -> any', { tools: [fn], toolChoice: { type: 'required' } }, { tool_choice: { type: 'any' } }],
    ['tool_choice none', { tools: [fn], toolChoice: { type: 'none' }, parallelToolCalls: false }, { tool_choice: { type: 'none' } }],
    ['tool_choice tool', { tools: [fn], toolChoice: { type: 'tool', name: 'Bash' } }, { tool_choice: { type: 'tool', name: 'Bash' } }],
    ['tool_choice naming the hosted search', { tools: [{ type: 'hosted', kind: 'web_search', name: 'web_search_preview' }], toolChoice: { type: 'tool', name: 'web_search_preview' } },
      { tool_choice: { type: 'tool', name: 'web_search' } }],
    ['parallelToolCalls false -> disable_parallel_tool_use', { tools: [fn], toolChoice: { type: 'required' }, parallelToolCalls: false }, { tool_choice: { type: 'any', disable_parallel_tool_use: true } }],
    ['parallelToolCalls false without a choice', { tools: [fn], parallelToolCalls: false }, { tool_choice: { type: 'auto', disable_parallel_tool_use: true } }],
    ['no tools, no tool_choice', { toolChoice: { type: 'auto' } }, { tool_choice: undefined }],
    ['budget -> thinking enabled', { maxOutputTokens: 10000, reasoning: { budgetTokens: 4000, includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 4000 }, max_tokens: 10000 }],
    ['a budget below 1024 is raised', { reasoning: { budgetTokens: 100, includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 1024 } }],
    ['a budget past the default limit raises max_tokens', { reasoning: { budgetTokens: 20000, includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 20000 }, max_tokens: 28192 }],
    ['a budget past the client limit is cut under it', { maxOutputTokens: 4000, reasoning: { budgetTokens: 8000, includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 3999 }, max_tokens: 4000 }],
    ['no room for thinking under a small client limit', { maxOutputTokens: 1000, reasoning: { effort: 'low', includeThoughts: true } }, { thinking: undefined, max_tokens: 1000 }],
    ['adaptive', { reasoning: { adaptive: true, includeThoughts: true } }, { thinking: { type: 'adaptive' }, output_config: undefined }],
    ['adaptive with effort xhigh -> output_config.effort max', { reasoning: { adaptive: true, effort: 'xhigh', includeThoughts: false } }, { thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }],
    ['effort low -> budget 2048', { reasoning: { effort: 'low', includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 2048 } }],
    ['effort medium -> budget 8192', { maxOutputTokens: 32000, reasoning: { effort: 'medium', includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 8192 } }],
    ['effort high -> budget 16384', { maxOutputTokens: 32000, reasoning: { effort: 'high', includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 16384 } }],
    ['effort xhigh -> budget 32000', { reasoning: { effort: 'xhigh', includeThoughts: true } }, { thinking: { type: 'enabled', budget_tokens: 32000 }, max_tokens: 40192 }],
    ['effort none -> no thinking', { reasoning: { effort: 'none', includeThoughts: false } }, { thinking: undefined }],
    ['thinking beside a forced tool choice is left out (Claude refuses the pair)', { tools: [fn], toolChoice: { type: 'required' }, reasoning: { budgetTokens: 2048, includeThoughts: true } },
      { tool_choice: { type: 'any' }, thinking: undefined }],
    ['thinking beside tool_choice auto stays', { tools: [fn], toolChoice: { type: 'auto' }, reasoning: { budgetTokens: 2048, includeThoughts: true } },
      { tool_choice: { type: 'auto' }, thinking: { type: 'enabled', budget_tokens: 2048 } }],
    ['with thinking: temperature and top_k left out, top_p under 0.95 left out', { temperature: 0.3, topP: 0.9, topK: 5, reasoning: { adaptive: true, includeThoughts: true } },
      { temperature: undefined, top_p: undefined, top_k: undefined }],
    ['with thinking: temperature 1 and top_p 0.95 kept', { temperature: 1, topP: 0.95, reasoning: { adaptive: true, includeThoughts: true } }, { temperature: 1, top_p: 0.95 }],
    ['json with a schema -> output_config.format', { responseFormat: { type: 'json', schema: { type: 'object' } } }, { output_config: { format: { type: 'json_schema', schema: { type: 'object' } } } }],
    ['json without a schema has no counterpart: left out', { responseFormat: { type: 'json' } }, { output_config: undefined }],
    [
      'thinking is left off when the tool loop turn comes back without its signed thinking (an OpenAI Chat client)',
      {
        reasoning: { effort: 'high', includeThoughts: true },
        tools: [{ type: 'function', name: 'ls', inputSchema: { type: 'object' } }],
        messages: [
          hiNeutral,
          { role: 'assistant', parts: [{ type: 'tool-call', id: 't1', name: 'ls', input: {} }] },
          { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 't1', toolName: 'ls', output: [{ type: 'text', text: 'a b' }] }] },
        ],
      },
      { thinking: undefined },
    ],
    [
      'thinking stays on when that turn starts with signed thinking',
      {
        reasoning: { effort: 'high', includeThoughts: true },
        tools: [{ type: 'function', name: 'ls', inputSchema: { type: 'object' } }],
        messages: [
          hiNeutral,
          { role: 'assistant', parts: [{ type: 'reasoning', text: 'hm', signature: 'c2ln' }, { type: 'tool-call', id: 't1', name: 'ls', input: {} }] },
          { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 't1', toolName: 'ls', output: [{ type: 'text', text: 'a b' }] }] },
        ],
      },
      { thinking: { type: 'enabled', budget_tokens: 16384 } },
    ],
    [
      'a freeform tool (Codex apply_patch) is a function of one input string',
      { tools: [{ type: 'function', name: 'apply_patch', description: 'Edit files', inputSchema: {}, freeform: {} }] },
      { tools: [{ name: 'apply_patch', description: 'Edit files', input_schema: { type: 'object', properties: { input: { type: 'string', description: 'The raw input.' } }, required: ['input'] } }] },
    ],
    [
      'a freeform tool call goes back as tool_use {input: raw}',
      { messages: [hiNeutral, { role: 'assistant', parts: [{ type: 'tool-call', id: 'c', name: 'apply_patch', input: '*** Begin Patch', freeform: true }] }] },
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'apply_patch', input: { input: '*** Begin Patch' } }] }] },
    ],
  ];
  for (const [name, request, expected] of table) {
    test(name, () => {
      const body = toAnthropicRequest(neutral(request));
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(body[key], value, key);
    });
  }

  const errors: [string, Partial<ConversationRequest>, string][] = [
    ['a file Messages cannot take', { messages: [{ role: 'user', parts: [{ type: 'text', text: 'x' }, { type: 'file', mediaType: 'text/csv', data: { base64: 'YSxi' } }] }] }, 'messages[0].parts[1]'],
  ];
  for (const [name, request, field] of errors) {
    test(`400: ${name}`, () => {
      assert.throws(() => toAnthropicRequest(neutral(request)), (error: unknown) => error instanceof UntranslatableError && error.field === field);
    });
  }
});

describe('Anthropic -> neutral -> Anthropic keeps what Claude needs', () => {
  test('a Claude conversation with signed thinking, images, parallel tools and results comes back the same', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: 'be brief' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'what is in these?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } }] },
        { role: 'assistant', content: [
          { type: 'thinking', thinking: 'look at both', signature: 'EqQBCkYIBRgC' },
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
          { type: 'tool_use', id: 'toolu_a', name: 'Read', input: { path: 'a' } },
          { type: 'tool_use', id: 'toolu_b', name: 'Read', input: { path: 'b' } },
        ] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: [{ type: 'text', text: 'A' }] },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'B' }], is_error: true },
        ] },
      ],
      tools: [{ name: 'Read', description: 'reads', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      stop_sequences: ['END'],
      stream: true,
    };
    assert.deepEqual(toAnthropicRequest(fromAnthropicRequest(body, 'claude-sonnet-4-5')), body);
  });
});

describe('fromAnthropicRequest: Anthropic-defined client tools become functions with their documented input', () => {
  const declared = (tool: Record<string, unknown>) => {
    const notes: string[] = [];
    const request = fromAnthropicRequest({ messages: [hi], tools: [tool] }, 'gemini-2.5-flash', notes);
    assert.deepEqual(notes, []);
    assert.equal(request.tools.length, 1);
    const [fn] = request.tools;
    assert.equal(fn.type, 'function');
    return fn as Extract<typeof fn, { type: 'function' }>;
  };
  const properties = (schema: Record<string, unknown>) => Object.keys(schema.properties as object).sort();
  const commands = (schema: Record<string, unknown>) => (schema.properties as Record<string, { enum?: string[] }>).command.enum;

  test('bash_20250124 is the bash function: command, restart', () => {
    const fn = declared({ type: 'bash_20250124', name: 'bash', cache_control: { type: 'ephemeral' } });
    assert.equal(fn.name, 'bash');
    assert.deepEqual(properties(fn.inputSchema), ['command', 'restart']);
    assert.ok(fn.description);
  });
  test('text_editor_20250728 is str_replace_based_edit_tool without undo_edit', () => {
    const fn = declared({ type: 'text_editor_20250728', name: 'str_replace_based_edit_tool', max_characters: 10000 });
    assert.equal(fn.name, 'str_replace_based_edit_tool');
    assert.deepEqual(commands(fn.inputSchema), ['view', 'create', 'str_replace', 'insert']);
    assert.deepEqual(properties(fn.inputSchema), ['command', 'file_text', 'insert_line', 'new_str', 'old_str', 'path', 'view_range']);
    assert.deepEqual(fn.inputSchema.required, ['command', 'path']);
  });
  test('text_editor_20250124 is str_replace_editor with undo_edit', () => {
    const fn = declared({ type: 'text_editor_20250124', name: 'str_replace_editor' });
    assert.equal(fn.name, 'str_replace_editor');
    assert.deepEqual(commands(fn.inputSchema), ['view', 'create', 'str_replace', 'insert', 'undo_edit']);
  });
  test("memory_20250818 has the SDK's memory commands and fields", () => {
    const fn = declared({ type: 'memory_20250818', name: 'memory' });
    assert.equal(fn.name, 'memory');
    assert.deepEqual(commands(fn.inputSchema), ['view', 'create', 'str_replace', 'insert', 'delete', 'rename']);
    assert.deepEqual(properties(fn.inputSchema), ['command', 'file_text', 'insert_line', 'insert_text', 'new_path', 'new_str', 'old_path', 'old_str', 'path', 'view_range']);
  });
  test("Anthropic's server tools are left out with a note each; the other tools stay", () => {
    const notes: string[] = [];
    const request = fromAnthropicRequest({
      messages: [hi],
      tools: [
        { type: 'code_execution_20250825', name: 'code_execution' },
        { name: 'f', input_schema: { type: 'object' } },
        { type: 'web_fetch_20250910', name: 'web_fetch' },
        { type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' },
        { type: 'mcp_toolset', mcp_server_name: 'm' },
      ],
      tool_choice: { type: 'tool', name: 'f' },
    }, 'gemini-2.5-flash', notes);
    assert.deepEqual(request.tools, [{ type: 'function', name: 'f', inputSchema: { type: 'object' } }]);
    assert.deepEqual(notes, [
      "tools[0] (code_execution_20250825): a tool Anthropic's own service runs, which the upstream cannot; left out",
      "tools[2] (web_fetch_20250910): a tool Anthropic's own service runs, which the upstream cannot; left out",
      "tools[3] (tool_search_tool_regex_20251119): a tool Anthropic's own service runs, which the upstream cannot; left out",
      "tools[4] (mcp_toolset): a tool Anthropic's own service runs, which the upstream cannot; left out",
    ]);
  });
});
