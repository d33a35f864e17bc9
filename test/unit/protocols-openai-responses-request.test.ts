import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UntranslatableError, type ConversationRequest } from '../../src/protocols/conversation';
import { fromResponsesRequest, type ResponsesRequest } from '../../src/protocols/openai-responses';

type Json = Record<string, unknown>;

const execCommandSchema = {
  type: 'object',
  properties: {
    cmd: { type: 'string', description: 'Shell command to execute.' },
    workdir: { type: 'string', description: 'Optional working directory to run the command in; defaults to the turn cwd.' },
    yield_time_ms: { type: 'number', description: 'How long to wait (in milliseconds) for output before yielding.' },
    max_output_tokens: { type: 'number', description: 'Maximum number of tokens to return.' },
    tty: { type: 'boolean', description: 'Whether to allocate a TTY for the command.' },
  },
  required: ['cmd'],
  additionalProperties: false,
};
const writeStdinSchema = {
  type: 'object',
  properties: { session_id: { type: 'number' }, chars: { type: 'string' }, yield_time_ms: { type: 'number' } },
  required: ['session_id'],
  additionalProperties: false,
};
const spawnAgentSchema = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'], additionalProperties: false };
const patchGrammar = { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?' };
const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n';

/** What Codex 0.169 sends (DESIGN section 10) on its second turn, trimmed to one of each thing it does. */
const codexBody = {
  model: 'gpt-5.1-codex',
  input: [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions instructions>sandbox: workspace-write</permissions instructions>' }] },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: '# AGENTS.md instructions for /work/repo\n\nUse tabs.' },
        { type: 'input_text', text: '<environment_context>\n  <cwd>/work/repo</cwd>\n</environment_context>' },
      ],
    },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'create hello.txt' }] },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: '**Creating the file**' }], content: null, encrypted_content: 'gemini.c2lnLTE=' },
    { type: 'message', role: 'assistant', id: 'msg_1', content: [{ type: 'output_text', text: 'Checking the directory first.', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', status: 'completed', name: 'exec_command', arguments: '{"cmd":"ls","workdir":"/work/repo"}', call_id: 'tpsig_0011223344556677_c2lnLTE' },
    { type: 'function_call', id: 'fc_2', status: 'completed', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"message":"review"}', call_id: 'call_agent' },
    { type: 'function_call_output', call_id: 'tpsig_0011223344556677_c2lnLTE', output: 'Chunk ID: 1\nProcess exited with code 0\nOutput:\nREADME.md\n' },
    { type: 'function_call_output', call_id: 'call_agent', output: 'agent started' },
    { type: 'custom_tool_call', id: 'ctc_1', status: 'completed', call_id: 'call_patch', name: 'apply_patch', input: patch },
    { type: 'custom_tool_call_output', call_id: 'call_patch', output: 'Success. Updated the following files:\nA hello.txt\n' },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Created hello.txt.' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'thanks' }] },
  ],
  tools: [
    { type: 'function', name: 'exec_command', description: 'Runs a command in a PTY.', strict: false, parameters: execCommandSchema },
    { type: 'function', name: 'write_stdin', description: 'Writes characters to an existing exec session.', strict: false, parameters: writeStdinSchema },
    { type: 'custom', name: 'apply_patch', description: 'Use the `apply_patch` tool to edit files. This is a FREEFORM tool.', format: patchGrammar },
    {
      type: 'namespace',
      name: 'multi_agent_v1',
      description: 'Tools for working with sub-agents.',
      tools: [{ type: 'function', name: 'spawn_agent', description: 'Starts a sub-agent.', strict: false, parameters: spawnAgentSchema }],
    },
    { type: 'web_search', external_web_access: false },
  ],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: { summary: 'auto' },
  store: false,
  stream: true,
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: '019a7c1e-5f0d-7c32-9f5e-3c1d2b4a6e8f',
  client_metadata: { originator: 'codex_exec' },
};

const patchInput = `The raw input for this tool, as plain text (not JSON). It must follow this lark grammar:\n${patchGrammar.definition}`;

const codexNeutral: ConversationRequest = {
  model: 'gemini-3-pro-preview',
  messages: [
    { role: 'system', text: '<permissions instructions>sandbox: workspace-write</permissions instructions>' },
    {
      role: 'user',
      parts: [
        { type: 'text', text: '# AGENTS.md instructions for /work/repo\n\nUse tabs.' },
        { type: 'text', text: '<environment_context>\n  <cwd>/work/repo</cwd>\n</environment_context>' },
      ],
    },
    { role: 'user', parts: [{ type: 'text', text: 'create hello.txt' }] },
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: '**Creating the file**', signature: 'gemini.c2lnLTE=' },
        { type: 'text', text: 'Checking the directory first.' },
        { type: 'tool-call', id: 'tpsig_0011223344556677_c2lnLTE', name: 'exec_command', input: { cmd: 'ls', workdir: '/work/repo' } },
        { type: 'tool-call', id: 'call_agent', name: 'spawn_agent', input: { message: 'review' } },
      ],
    },
    {
      role: 'tool',
      parts: [
        { type: 'tool-result', toolCallId: 'tpsig_0011223344556677_c2lnLTE', toolName: 'exec_command', output: [{ type: 'text', text: 'Chunk ID: 1\nProcess exited with code 0\nOutput:\nREADME.md\n' }] },
        { type: 'tool-result', toolCallId: 'call_agent', toolName: 'spawn_agent', output: [{ type: 'text', text: 'agent started' }] },
      ],
    },
    { role: 'assistant', parts: [{ type: 'tool-call', id: 'call_patch', name: 'apply_patch', input: patch, freeform: true }] },
    {
      role: 'tool',
      parts: [{ type: 'tool-result', toolCallId: 'call_patch', toolName: 'apply_patch', output: [{ type: 'text', text: 'Success. Updated the following files:\nA hello.txt\n' }], freeform: true }],
    },
    { role: 'assistant', parts: [{ type: 'text', text: 'Created hello.txt.' }] },
    { role: 'user', parts: [{ type: 'text', text: 'thanks' }] },
  ],
  tools: [
    { type: 'function', name: 'exec_command', description: 'Runs a command in a PTY.', inputSchema: execCommandSchema },
    { type: 'function', name: 'write_stdin', description: 'Writes characters to an existing exec session.', inputSchema: writeStdinSchema },
    {
      type: 'function',
      name: 'apply_patch',
      description: 'Use the `apply_patch` tool to edit files. This is a FREEFORM tool.',
      inputSchema: { type: 'object', properties: { input: { type: 'string', description: patchInput } }, required: ['input'] },
      freeform: { grammar: patchGrammar },
    },
    { type: 'function', name: 'spawn_agent', description: 'Starts a sub-agent.', inputSchema: spawnAgentSchema },
    { type: 'hosted', kind: 'web_search', name: 'web_search' },
  ],
  toolChoice: { type: 'auto' },
  parallelToolCalls: true,
  reasoning: { includeThoughts: true },
  stream: true,
};

describe('fromResponsesRequest: Codex 0.169', () => {
  test('the whole request as the neutral request', () => {
    const { request, notes, sessionKey, answer } = fromResponsesRequest(codexBody, 'gemini-3-pro-preview');
    assert.deepEqual(request, codexNeutral);
    assert.deepEqual(notes, []);
    assert.equal(sessionKey, '019a7c1e-5f0d-7c32-9f5e-3c1d2b4a6e8f');
    assert.equal(answer.model, 'gpt-5.1-codex');
    assert.equal(answer.includeEncrypted, true);
    assert.deepEqual(
      [...answer.tools],
      [
        ['exec_command', { name: 'exec_command', freeform: false }],
        ['write_stdin', { name: 'write_stdin', freeform: false }],
        ['apply_patch', { name: 'apply_patch', freeform: true }],
        ['spawn_agent', { name: 'spawn_agent', namespace: 'multi_agent_v1', freeform: false }],
      ],
    );
  });
});

/** A user turn, for rows that need some input. */
const hi = [{ role: 'user', content: 'hi' }];
const run = (body: Json, model = 'gemini-2.5-pro'): ResponsesRequest => fromResponsesRequest({ input: hi, ...body }, model);

const png = 'iVBORw0KGgo=';

interface Row {
  name: string;
  body: Json;
  /** What of the result the row is about. */
  got: (result: ResponsesRequest) => unknown;
  want: unknown;
}

const rows: Row[] = [
  // input
  { name: 'instructions -> a system message first', body: { instructions: 'Be terse.' }, got: (r) => r.request.messages[0], want: { role: 'system', text: 'Be terse.' } },
  { name: 'input as a string -> one user message', body: { input: 'hello' }, got: (r) => r.request.messages, want: [{ role: 'user', parts: [{ type: 'text', text: 'hello' }] }] },
  {
    name: 'a message item without a type, content a string',
    body: { input: [{ role: 'user', content: 'plain' }] },
    got: (r) => r.request.messages,
    want: [{ role: 'user', parts: [{ type: 'text', text: 'plain' }] }],
  },
  {
    name: 'system and developer messages -> system messages where they stand, their text parts joined',
    body: {
      input: [
        { role: 'user', content: 'a' },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'one' }, { type: 'input_text', text: 'two' }] },
        { role: 'system', content: 'three' },
      ],
    },
    got: (r) => r.request.messages.slice(1),
    want: [
      { role: 'system', text: 'one\n\ntwo' },
      { role: 'system', text: 'three' },
    ],
  },
  {
    name: 'input_image as a data: URL -> an inline file',
    body: { input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${png}` }] }] },
    got: (r) => r.request.messages[0],
    want: { role: 'user', parts: [{ type: 'text', text: 'see' }, { type: 'file', mediaType: 'image/png', data: { base64: png } }] },
  },
  {
    name: 'input_image as an http URL -> a file by URL, media type from the extension (else JPEG)',
    body: { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/cat.webp?x=1' }, { type: 'input_image', image_url: 'https://example.com/photo' }] }] },
    got: (r) => r.request.messages[0],
    want: {
      role: 'user',
      parts: [
        { type: 'file', mediaType: 'image/webp', data: { url: 'https://example.com/cat.webp?x=1' } },
        { type: 'file', mediaType: 'image/jpeg', data: { url: 'https://example.com/photo' } },
      ],
    },
  },
  {
    name: 'input_file as file_data (a data: URL, or base64 named by filename) and as file_url',
    body: {
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_file', file_data: `data:application/pdf;base64,JVBERi0=` },
            { type: 'input_file', filename: 'notes.txt', file_data: 'aGk=' },
            { type: 'input_file', file_url: 'https://example.com/spec.pdf' },
            { type: 'input_file', file_data: 'data:text/csv,a%2Cb' },
          ],
        },
      ],
    },
    got: (r) => r.request.messages[0],
    want: {
      role: 'user',
      parts: [
        { type: 'file', mediaType: 'application/pdf', data: { base64: 'JVBERi0=' } },
        { type: 'file', mediaType: 'text/plain', data: { base64: 'aGk=' } },
        { type: 'file', mediaType: 'application/pdf', data: { url: 'https://example.com/spec.pdf' } },
        { type: 'file', mediaType: 'text/csv', data: { base64: Buffer.from('a,b').toString('base64') } },
      ],
    },
  },
  {
    name: 'an assistant message: output_text and refusal as text',
    body: { input: [...hi, { role: 'assistant', content: [{ type: 'output_text', text: 'sure', annotations: [] }, { type: 'refusal', refusal: 'but not that' }] }] },
    got: (r) => r.request.messages[1],
    want: { role: 'assistant', parts: [{ type: 'text', text: 'sure' }, { type: 'text', text: 'but not that' }] },
  },
  {
    name: 'function_call (with id and status) and function_call_output: the call with parsed arguments, the result named after the call',
    body: {
      input: [
        ...hi,
        { type: 'function_call', id: 'fc_9', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
    },
    got: (r) => r.request.messages.slice(1),
    want: [
      { role: 'assistant', parts: [{ type: 'tool-call', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } }] },
      { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: [{ type: 'text', text: 'sunny' }] }] },
    ],
  },
  {
    name: 'function_call_output as content parts (text and image)',
    body: {
      input: [
        ...hi,
        { type: 'function_call', call_id: 'call_1', name: 'screenshot', arguments: '' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'here' }, { type: 'input_image', image_url: `data:image/png;base64,${png}` }] },
      ],
    },
    got: (r) => r.request.messages.slice(1),
    want: [
      { role: 'assistant', parts: [{ type: 'tool-call', id: 'call_1', name: 'screenshot', input: {} }] },
      {
        role: 'tool',
        parts: [
          {
            type: 'tool-result',
            toolCallId: 'call_1',
            toolName: 'screenshot',
            output: [
              { type: 'text', text: 'here' },
              { type: 'file', mediaType: 'image/png', data: { base64: png } },
            ],
          },
        ],
      },
    ],
  },
  {
    name: 'custom_tool_call and custom_tool_call_output: freeform on both, the input as raw text',
    body: {
      input: [
        ...hi,
        { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: patch },
        { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Done' },
      ],
    },
    got: (r) => r.request.messages.slice(1),
    want: [
      { role: 'assistant', parts: [{ type: 'tool-call', id: 'call_p', name: 'apply_patch', input: patch, freeform: true }] },
      { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'call_p', toolName: 'apply_patch', output: [{ type: 'text', text: 'Done' }], freeform: true }] },
    ],
  },
  {
    name: 'reasoning items: summary texts joined, else the raw content; encrypted_content as the signature, "redacted." as redacted data',
    body: {
      input: [
        ...hi,
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'a' }, { type: 'summary_text', text: 'b' }], encrypted_content: 'sig-1' },
        { type: 'reasoning', id: 'rs_2', summary: [], content: [{ type: 'reasoning_text', text: 'raw' }] },
        { type: 'reasoning', id: 'rs_3', summary: [], encrypted_content: 'redacted.EqQB' },
      ],
    },
    got: (r) => r.request.messages[1],
    want: {
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'a\n\nb', signature: 'sig-1' },
        { type: 'reasoning', text: 'raw' },
        { type: 'reasoning', text: '', redacted: 'EqQB' },
      ],
    },
  },
  {
    name: 'a function_call with a namespace -> the neutral name of that namespaced tool',
    body: {
      tools: [{ type: 'namespace', name: 'mcp__docs', description: 'd', tools: [{ type: 'function', name: 'search', parameters: {} }] }],
      input: [...hi, { type: 'function_call', call_id: 'c', name: 'search', namespace: 'mcp__docs', arguments: '{}' }],
    },
    got: (r) => r.request.messages[1],
    want: { role: 'assistant', parts: [{ type: 'tool-call', id: 'c', name: 'search', input: {} }] },
  },
  { name: 'web_search_call items from an earlier turn are left out with a note', body: { input: [...hi, { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } }] }, got: (r) => [r.request.messages.length, r.notes], want: [1, ['input[1] (web_search_call): an OpenAI-hosted search from an earlier turn, left out']] },

  // tools
  {
    name: 'a function tool: its JSON Schema as is; no parameters -> an empty object schema',
    body: { tools: [{ type: 'function', name: 'f', description: 'does f', strict: true, parameters: { type: 'object', properties: { a: { type: 'integer' } } } }, { type: 'function', name: 'g', parameters: null }] },
    got: (r) => r.request.tools,
    want: [
      { type: 'function', name: 'f', description: 'does f', inputSchema: { type: 'object', properties: { a: { type: 'integer' } } } },
      { type: 'function', name: 'g', inputSchema: { type: 'object', properties: {} } },
    ],
  },
  {
    name: 'a custom tool without a grammar: a function of one string input, freeform',
    body: { tools: [{ type: 'custom', name: 'note' }] },
    got: (r) => [r.request.tools, r.answer.tools.get('note')],
    want: [
      [{ type: 'function', name: 'note', inputSchema: { type: 'object', properties: { input: { type: 'string', description: 'The raw input for this tool, as plain text (not JSON).' } }, required: ['input'] }, freeform: {} }],
      { name: 'note', freeform: true },
    ],
  },
  {
    name: 'namespace tools: nested names kept plain; a name declared twice becomes namespace__name',
    body: {
      tools: [
        { type: 'function', name: 'search', parameters: {} },
        { type: 'namespace', name: 'mcp__docs_', description: 'd', tools: [{ type: 'function', name: 'search', parameters: {} }, { type: 'custom', name: 'write' }] },
      ],
    },
    got: (r) => [r.request.tools.map((t) => t.name), [...r.answer.tools]],
    want: [
      ['search', 'mcp__docs__search', 'write'],
      [
        ['search', { name: 'search', freeform: false }],
        ['mcp__docs__search', { name: 'search', namespace: 'mcp__docs_', freeform: false }],
        ['write', { name: 'write', namespace: 'mcp__docs_', freeform: true }],
      ],
    ],
  },
  {
    name: 'web_search and web_search_preview -> the hosted web search',
    body: { tools: [{ type: 'web_search_preview' }, { type: 'web_search_2025_08_26' }] },
    got: (r) => r.request.tools,
    want: [
      { type: 'hosted', kind: 'web_search', name: 'web_search_preview' },
      { type: 'hosted', kind: 'web_search', name: 'web_search_2025_08_26' },
    ],
  },
  {
    name: 'other hosted tools are left out, one note each',
    body: {
      tools: [
        { type: 'file_search', vector_store_ids: ['vs_1'] },
        { type: 'code_interpreter', container: { type: 'auto' } },
        { type: 'computer_use_preview', display_width: 1, display_height: 1, environment: 'linux' },
        { type: 'image_generation' },
        { type: 'mcp', server_label: 'x', server_url: 'https://x' },
        { type: 'local_shell' },
      ],
    },
    got: (r) => [r.request.tools, r.notes],
    want: [
      [],
      ['file_search', 'code_interpreter', 'computer_use_preview', 'image_generation', 'mcp', 'local_shell'].map((t, i) => `tools[${i}] (${t}): a hosted OpenAI tool tokenpool cannot run, left out`),
    ],
  },

  {
    name: 'a namespace entry that is not a function or custom tool, and top_logprobs: left out with a note each',
    body: { tools: [{ type: 'namespace', name: 'ns', description: '', tools: [{ type: 'web_search' }] }], top_logprobs: 3 },
    got: (r) => [r.request.tools, r.notes],
    want: [[], ['tools[0].tools[0] (web_search): not a function or custom tool, left out', 'top_logprobs: log probabilities are not offered, left out']],
  },

  // tool_choice
  ...(['auto', 'none', 'required'] as const).map((choice) => ({ name: `tool_choice ${choice}`, body: { tool_choice: choice }, got: (r: ResponsesRequest) => r.request.toolChoice, want: { type: choice } })),
  {
    name: 'tool_choice {type: function, name} and {type: custom, name} -> that tool',
    body: { tools: [{ type: 'function', name: 'f', parameters: {} }, { type: 'custom', name: 'p' }], tool_choice: { type: 'custom', name: 'p' } },
    got: (r) => r.request.toolChoice,
    want: { type: 'tool', name: 'p' },
  },
  {
    name: 'tool_choice {type: function} for a namespaced tool -> its neutral name',
    body: { tools: [{ type: 'namespace', name: 'ns', description: '', tools: [{ type: 'function', name: 'f', parameters: {} }] }], tool_choice: { type: 'function', name: 'f' } },
    got: (r) => r.request.toolChoice,
    want: { type: 'tool', name: 'f' },
  },
  {
    name: 'tool_choice {type: web_search} -> the hosted tool',
    body: { tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search' } },
    got: (r) => r.request.toolChoice,
    want: { type: 'tool', name: 'web_search' },
  },
  {
    name: 'tool_choice allowed_tools: only the listed tools, the mode as the choice',
    body: { tools: [{ type: 'function', name: 'a', parameters: {} }, { type: 'function', name: 'b', parameters: {} }, { type: 'web_search' }], tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'b' }, { type: 'web_search' }] } },
    got: (r) => [r.request.tools.map((t) => t.name), r.request.toolChoice],
    want: [['b', 'web_search'], { type: 'required' }],
  },

  // settings
  {
    name: 'parallel_tool_calls, max_output_tokens, temperature, top_p',
    body: { parallel_tool_calls: false, max_output_tokens: 512, temperature: 0.3, top_p: 0.9 },
    got: (r) => [r.request.parallelToolCalls, r.request.maxOutputTokens, r.request.temperature, r.request.topP],
    want: [false, 512, 0.3, 0.9],
  },
  {
    name: 'text.format json_schema -> JSON with the schema and name',
    body: { text: { format: { type: 'json_schema', name: 'answer', strict: true, schema: { type: 'object', properties: { n: { type: 'number' } } } } } },
    got: (r) => r.request.responseFormat,
    want: { type: 'json', schema: { type: 'object', properties: { n: { type: 'number' } } }, name: 'answer' },
  },
  { name: 'text.format json_object -> JSON', body: { text: { format: { type: 'json_object' } } }, got: (r) => r.request.responseFormat, want: { type: 'json' } },
  { name: 'text.format text -> no format', body: { text: { format: { type: 'text' }, verbosity: 'low' } }, got: (r) => r.request.responseFormat, want: undefined },
  ...(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const).map((effort) => ({
    name: `reasoning.effort ${effort}`,
    body: { reasoning: { effort } },
    got: (r: ResponsesRequest) => r.request.reasoning,
    want: { effort, includeThoughts: false },
  })),
  { name: 'reasoning.effort max -> xhigh', body: { reasoning: { effort: 'max' } }, got: (r) => r.request.reasoning, want: { effort: 'xhigh', includeThoughts: false } },
  ...(['auto', 'concise', 'detailed'] as const).map((summary) => ({
    name: `reasoning.summary ${summary} -> thoughts included`,
    body: { reasoning: { effort: 'low', summary } },
    got: (r: ResponsesRequest) => r.request.reasoning,
    want: { effort: 'low', includeThoughts: true },
  })),
  { name: 'reasoning.summary null -> no thoughts', body: { reasoning: { summary: null } }, got: (r) => r.request.reasoning, want: { includeThoughts: false } },
  { name: 'no reasoning -> no reasoning settings', body: {}, got: (r) => r.request.reasoning, want: undefined },
  { name: 'without include reasoning.encrypted_content: the encoder keeps signatures out', body: { include: ['message.output_text.logprobs'] }, got: (r) => [r.answer.includeEncrypted, r.notes], want: [false, ['include "message.output_text.logprobs": not offered, left out']] },
  { name: 'stream true / absent', body: { stream: true }, got: (r) => [r.request.stream, run({}).request.stream], want: [true, false] },
  { name: 'store true is treated as false (no error, the same request)', body: { store: true }, got: (r) => r.request, want: run({}).request },
  { name: 'prompt_cache_key -> the session key; none without it', body: { prompt_cache_key: 'conv-42' }, got: (r) => [r.sessionKey, run({}).sessionKey], want: ['conv-42', undefined] },
  {
    name: 'client_metadata, metadata, user, truncation, service_tier change nothing in the request',
    body: { client_metadata: { a: 'b' }, metadata: { k: 'v' }, user: 'u', truncation: 'auto', service_tier: 'flex', safety_identifier: 's' },
    got: (r) => [r.request, r.notes],
    want: [run({}).request, []],
  },
  { name: 'the client model names the answer; the upstream model the request', body: { model: 'gpt-5' }, got: (r) => [r.answer.model, r.request.model], want: ['gpt-5', 'gemini-2.5-pro'] },
  {
    name: 'the echo repeats what the response object shows',
    body: { instructions: 'i', tool_choice: 'required', parallel_tool_calls: false, temperature: 0.5, top_p: 1, max_output_tokens: 9, reasoning: { effort: 'low', summary: 'auto' }, text: { format: { type: 'text' } }, truncation: 'auto', metadata: { a: '1' }, prompt_cache_key: 'k', user: 'u' },
    got: (r) => r.answer.echo,
    want: {
      instructions: 'i',
      tools: [],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 1,
      max_output_tokens: 9,
      reasoning: { effort: 'low', summary: 'auto' },
      text: { format: { type: 'text' } },
      truncation: 'auto',
      metadata: { a: '1' },
      prompt_cache_key: 'k',
      user: 'u',
    },
  },
];

describe('fromResponsesRequest: each item, field and setting', () => {
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(row.got(run(row.body)), row.want));
  }
});

/** Requests that get a 400 naming the field. */
const refused: { name: string; body: Json; field: string; message: RegExp }[] = [
  { name: 'previous_response_id', body: { previous_response_id: 'resp_1' }, field: 'previous_response_id', message: /tokenpool is stateless: send the whole conversation in input \(store: false\)/ },
  { name: 'conversation', body: { conversation: 'conv_1' }, field: 'conversation', message: /send the whole conversation/ },
  { name: 'a stored prompt', body: { prompt: { id: 'pmpt_1' } }, field: 'prompt', message: /stored prompts/ },
  { name: 'background', body: { background: true }, field: 'background', message: /leave background unset/ },
  { name: 'item_reference', body: { input: [...hi, { type: 'item_reference', id: 'msg_1' }] }, field: 'input[1]', message: /send the whole conversation/ },
  { name: 'local_shell_call items', body: { input: [...hi, { type: 'local_shell_call', call_id: 'c', status: 'completed', action: { type: 'exec', command: ['ls'] } }] }, field: 'input[1]', message: /local_shell_call items/ },
  { name: 'an image by file_id', body: { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }] }] }, field: 'input[0].content[0].file_id', message: /uploaded to OpenAI/ },
  { name: 'a file by file_id', body: { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] }, field: 'input[0].content[0].file_id', message: /uploaded to OpenAI/ },
  { name: 'an image in a developer message', body: { input: [{ role: 'developer', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, field: 'input[0].content[0]', message: /only text/ },
  { name: 'a tool output without its call', body: { input: [...hi, { type: 'function_call_output', call_id: 'call_x', output: 'x' }] }, field: 'input[1].call_id', message: /no tool call with call_id call_x/ },
  { name: 'tool_choice requiring a hosted tool that is left out', body: { tools: [{ type: 'file_search', vector_store_ids: [] }], tool_choice: { type: 'file_search' } }, field: 'tool_choice', message: /file_search/ },
  { name: 'tool_choice requiring an MCP server', body: { tool_choice: { type: 'mcp', server_label: 'deepwiki' } }, field: 'tool_choice', message: /mcp/ },
  { name: 'tool_choice naming an undeclared function', body: { tools: [], tool_choice: { type: 'function', name: 'nope' } }, field: 'tool_choice', message: /nope, which is not in tools/ },
  { name: 'tool_choice web_search without the tool', body: { tool_choice: { type: 'web_search_preview' } }, field: 'tool_choice', message: /not in tools/ },
  { name: 'no input', body: { input: undefined }, field: 'input', message: /send the conversation/ },
  { name: 'a malformed data: URL (no media type, bad escape)', body: { input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:,%E0%A4%A' }] }] }, field: 'input[0].content[0].file_data', message: /malformed data: URL/ },
  { name: 'an image URL that is neither data: nor https', body: { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'file:///etc/passwd' }] }] }, field: 'input[0].content[0].image_url', message: /https URL or a data: URL/ },
];

describe('fromResponsesRequest: what gets a 400 naming the field', () => {
  for (const row of refused) {
    test(row.name, () => {
      assert.throws(
        () => run(row.body),
        (error: unknown) => error instanceof UntranslatableError && error.field === row.field && row.message.test(error.message),
      );
    });
  }
});
