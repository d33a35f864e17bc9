import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { collectAnswer, UntranslatableError, type AnswerEvent, type ConversationRequest, type Usage } from '../../src/protocols/conversation';
import { geminiAnswerDecoder, toGeminiRequest } from '../../src/protocols/gemini';
import { chatStreamEncoder, fromChatRequest, renderChatAnswer } from '../../src/protocols/openai-chat';

type Json = Record<string, unknown>;

const MODEL = 'gemini-2.5-pro';
const hi = { role: 'user', content: 'hi' };
const neutralHi = { role: 'user', parts: [{ type: 'text', text: 'hi' }] };
/** The neutral request of `{messages: [hi]}` with `extra` on top: every row states the whole result. */
const expected = (extra: Partial<ConversationRequest> = {}): ConversationRequest =>
  ({ model: MODEL, messages: [neutralHi], tools: [], stream: false, ...extra }) as ConversationRequest;

// A Gemini 3 tool call id as the Gemini codec makes it: the thought signature rides inside.
const SIGNED_ID = 'tpsig_0123456789abcdef_c2lnLTE';
const schema = (properties: Json, required: string[]) => ({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/**
 * opencode 1.18's tools as its OpenAI-compatible provider (@ai-sdk/openai-compatible) declares
 * them: zod schemas as draft-07 JSON Schema (descriptions shortened here).
 */
const OPENCODE_TOOLS: [string, Json][] = [
  ['bash', schema({ command: { type: 'string' }, timeout: { type: 'number' }, description: { type: 'string' } }, ['command', 'description'])],
  ['edit', schema({ filePath: { type: 'string' }, oldString: { type: 'string' }, newString: { type: 'string' }, replaceAll: { type: 'boolean' } }, ['filePath', 'oldString', 'newString'])],
  ['glob', schema({ pattern: { type: 'string' }, path: { type: 'string' } }, ['pattern'])],
  ['grep', schema({ pattern: { type: 'string' }, path: { type: 'string' }, include: { type: 'string' } }, ['pattern'])],
  ['list', schema({ path: { type: 'string' }, ignore: { type: 'array', items: { type: 'string' } } }, [])],
  ['read', schema({ filePath: { type: 'string' }, offset: { type: 'number' }, limit: { type: 'number' } }, ['filePath'])],
  ['write', schema({ content: { type: 'string' }, filePath: { type: 'string' } }, ['content', 'filePath'])],
  ['webfetch', schema({ url: { type: 'string' }, format: { type: 'string', enum: ['text', 'markdown', 'html'] }, timeout: { type: 'number' } }, ['url', 'format'])],
  ['todowrite', schema({ todos: { type: 'array', items: { type: 'object', properties: { content: { type: 'string' }, status: { type: 'string' } } } } }, ['todos'])],
  ['todoread', schema({}, [])],
  ['task', schema({ description: { type: 'string' }, prompt: { type: 'string' }, subagent_type: { type: 'string' } }, ['description', 'prompt', 'subagent_type'])],
];

describe('fromChatRequest: opencode, as it talks to an OpenAI-compatible provider (DESIGN section 10)', () => {
  test('the title call: a system prompt and the user text, streamed', () => {
    const body = {
      model: 'claude-haiku-4-5',
      max_tokens: 32000,
      temperature: 0.5,
      messages: [
        { role: 'system', content: 'You are a title generator. You output ONLY a thread title. Nothing else.' },
        { role: 'user', content: 'Generate a title for this conversation:\n' },
        { role: 'user', content: 'list the files here' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    };
    assert.deepEqual(fromChatRequest(body, 'gemini-2.5-flash'), {
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', text: 'You are a title generator. You output ONLY a thread title. Nothing else.' },
        { role: 'user', parts: [{ type: 'text', text: 'Generate a title for this conversation:\n' }] },
        { role: 'user', parts: [{ type: 'text', text: 'list the files here' }] },
      ],
      tools: [],
      maxOutputTokens: 32000,
      temperature: 0.5,
      stream: true,
    });
  });

  test('the main call: two system messages, eleven tools, max_tokens 32000, include_usage', () => {
    const body = {
      model: 'gemini-3-pro-preview',
      max_tokens: 32000,
      messages: [
        { role: 'system', content: 'You are opencode, an interactive CLI tool.' },
        { role: 'system', content: 'Here is some useful information about the environment you are running in: <env>…</env>' },
        { role: 'user', content: [{ type: 'text', text: '[[call bash {"command":"ls","description":"List files"}]]' }] },
      ],
      tools: OPENCODE_TOOLS.map(([name, parameters]) => ({ type: 'function', function: { name, description: `The ${name} tool`, parameters } })),
      tool_choice: 'auto',
      stream: true,
      stream_options: { include_usage: true },
    };
    assert.deepEqual(fromChatRequest(body, 'gemini-3-pro-preview'), {
      model: 'gemini-3-pro-preview',
      messages: [
        { role: 'system', text: 'You are opencode, an interactive CLI tool.' },
        { role: 'system', text: 'Here is some useful information about the environment you are running in: <env>…</env>' },
        { role: 'user', parts: [{ type: 'text', text: '[[call bash {"command":"ls","description":"List files"}]]' }] },
      ],
      // The schemas go on as sent: reducing them is the Gemini codec's job.
      tools: OPENCODE_TOOLS.map(([name, inputSchema]) => ({ type: 'function', name, description: `The ${name} tool`, inputSchema })),
      toolChoice: { type: 'auto' },
      maxOutputTokens: 32000,
      stream: true,
    });
  });

  test('the next turn: its tool calls come back without extra_content, ids as we sent them, results as tool messages', () => {
    const body = {
      model: 'gemini-3-pro-preview',
      messages: [
        { role: 'system', content: 'You are opencode.' },
        { role: 'user', content: 'list and read' },
        {
          role: 'assistant',
          content: '',
          reasoning_content: 'thinking about it',
          tool_calls: [
            { id: SIGNED_ID, type: 'function', function: { name: 'bash', arguments: '{"command":"ls","description":"List files"}' } },
            { id: 'call_00000000000000ff', type: 'function', function: { name: 'read', arguments: '{"filePath":"/w/a.txt"}' } },
          ],
        },
        { role: 'tool', tool_call_id: SIGNED_ID, content: 'a.txt\nb.txt' },
        { role: 'tool', tool_call_id: 'call_00000000000000ff', content: [{ type: 'text', text: 'hello' }, { type: 'text', text: ' world' }] },
        { role: 'assistant', content: 'tool said: a.txt b.txt | hello world' },
        { role: 'user', content: 'thanks' },
      ],
      tools: OPENCODE_TOOLS.slice(0, 6).map(([name, parameters]) => ({ type: 'function', function: { name, parameters } })),
      stream: true,
    };
    const request = fromChatRequest(body, 'gemini-3-pro-preview');
    assert.deepEqual(request.messages, [
      { role: 'system', text: 'You are opencode.' },
      { role: 'user', parts: [{ type: 'text', text: 'list and read' }] },
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: 'thinking about it' },
          { type: 'tool-call', id: SIGNED_ID, name: 'bash', input: { command: 'ls', description: 'List files' } },
          { type: 'tool-call', id: 'call_00000000000000ff', name: 'read', input: { filePath: '/w/a.txt' } },
        ],
      },
      {
        role: 'tool',
        parts: [
          { type: 'tool-result', toolCallId: SIGNED_ID, toolName: 'bash', output: [{ type: 'text', text: 'a.txt\nb.txt' }] },
          { type: 'tool-result', toolCallId: 'call_00000000000000ff', toolName: 'read', output: [{ type: 'text', text: 'hello' }, { type: 'text', text: ' world' }] },
        ],
      },
      { role: 'assistant', parts: [{ type: 'text', text: 'tool said: a.txt b.txt | hello world' }] },
      { role: 'user', parts: [{ type: 'text', text: 'thanks' }] },
    ]);
  });
});

const PNG_BASE64 = 'iVBORw0KGgo=';

describe('fromChatRequest: each field, translated', () => {
  const table: [string, Json, ConversationRequest][] = [
    ['stream', { stream: true }, expected({ stream: true })],
    [
      'system and developer messages stay in place, text parts joined',
      {
        messages: [
          { role: 'developer', content: 'be brief' },
          hi,
          { role: 'system', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
        ],
      },
      expected({ messages: [{ role: 'system', text: 'be brief' }, neutralHi as never, { role: 'system', text: 'a\nb' }] }),
    ],
    [
      'user text parts and images: data: URL (base64 and percent-encoded), http URL by extension, unknown extension',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}`, detail: 'high' } },
              { type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=2' } },
              { type: 'image_url', image_url: { url: 'https://example.com/render' } },
            ],
          },
        ],
      },
      expected({
        messages: [
          {
            role: 'user',
            parts: [
              { type: 'text', text: 'look' },
              { type: 'file', mediaType: 'image/png', data: { base64: PNG_BASE64 } },
              { type: 'file', mediaType: 'image/svg+xml', data: { base64: Buffer.from('<svg/>').toString('base64') } },
              { type: 'file', mediaType: 'image/webp', data: { url: 'https://example.com/cat.webp?size=2' } },
              { type: 'file', mediaType: 'image/*', data: { url: 'https://example.com/render' } },
            ],
          },
        ],
      }),
    ],
    [
      'user audio and an inline file',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } },
              { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } },
            ],
          },
        ],
      },
      expected({
        messages: [
          {
            role: 'user',
            parts: [
              { type: 'file', mediaType: 'audio/wav', data: { base64: 'UklGRg==' } },
              { type: 'file', mediaType: 'audio/mpeg', data: { base64: 'SUQz' } },
              { type: 'file', mediaType: 'application/pdf', data: { base64: 'JVBERi0=' } },
            ],
          },
        ],
      }),
    ],
    [
      'assistant text parts (refusal left out), an empty assistant turn dropped, empty arguments as {}',
      {
        messages: [
          hi,
          { role: 'assistant', content: [{ type: 'text', text: 'one' }, { type: 'refusal', refusal: 'no' }, { type: 'text', text: 'two' }], refusal: 'no' },
          { role: 'assistant', content: null },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'todoread', arguments: '' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '[]' },
        ],
      },
      expected({
        messages: [
          neutralHi as never,
          { role: 'assistant', parts: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
          { role: 'assistant', parts: [{ type: 'tool-call', id: 'c1', name: 'todoread', input: {} }] },
          { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'todoread', output: [{ type: 'text', text: '[]' }] }] },
        ],
      }),
    ],
    [
      'legacy functions, function_call and function messages',
      {
        messages: [
          hi,
          { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { role: 'function', name: 'weather', content: 'rain' },
        ],
        functions: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
        function_call: { name: 'weather' },
      },
      expected({
        messages: [
          neutralHi as never,
          { role: 'assistant', parts: [{ type: 'tool-call', id: 'call_legacy_1', name: 'weather', input: { city: 'Oslo' } }] },
          { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'call_legacy_1', toolName: 'weather', output: [{ type: 'text', text: 'rain' }] }] },
        ],
        tools: [{ type: 'function', name: 'weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
        toolChoice: { type: 'tool', name: 'weather' },
      }),
    ],
    ['legacy function_call "none"', { function_call: 'none' }, expected({ toolChoice: { type: 'none' } })],
    [
      'a tool without parameters gets an empty object schema; strict is a hint',
      { tools: [{ type: 'function', function: { name: 'now', description: 'the time', strict: true } }] },
      expected({ tools: [{ type: 'function', name: 'now', description: 'the time', inputSchema: { type: 'object', properties: {} } }] }),
    ],
    ['web_search_options: the hosted search', { web_search_options: {} }, expected({ tools: [{ type: 'hosted', kind: 'web_search', name: 'web_search' }] })],
    ['tool_choice none', { tool_choice: 'none' }, expected({ toolChoice: { type: 'none' } })],
    ['tool_choice required', { tool_choice: 'required' }, expected({ toolChoice: { type: 'required' } })],
    [
      'tool_choice naming a function',
      { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } } },
      expected({ tools: [{ type: 'function', name: 'f', inputSchema: { type: 'object', properties: {} } }], toolChoice: { type: 'tool', name: 'f' } }),
    ],
    [
      'tool_choice allowed_tools keeps only the listed tools',
      {
        tools: [{ type: 'function', function: { name: 'f' } }, { type: 'function', function: { name: 'g' } }],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'g' } }] } },
      },
      expected({ tools: [{ type: 'function', name: 'g', inputSchema: { type: 'object', properties: {} } }], toolChoice: { type: 'required' } }),
    ],
    ['parallel_tool_calls', { parallel_tool_calls: false }, expected({ parallelToolCalls: false })],
    ['max_tokens', { max_tokens: 100 }, expected({ maxOutputTokens: 100 })],
    ['max_completion_tokens wins over max_tokens', { max_tokens: 100, max_completion_tokens: 200 }, expected({ maxOutputTokens: 200 })],
    ['temperature and top_p', { temperature: 0.2, top_p: 0.9 }, expected({ temperature: 0.2, topP: 0.9 })],
    ['top_k (vLLM-style clients)', { top_k: 40 }, expected({ topK: 40 })],
    ['stop as a string', { stop: 'END' }, expected({ stopSequences: ['END'] })],
    ['stop as an array', { stop: ['a', 'b'] }, expected({ stopSequences: ['a', 'b'] })],
    ['response_format text', { response_format: { type: 'text' } }, expected({ responseFormat: { type: 'text' } })],
    ['response_format json_object', { response_format: { type: 'json_object' } }, expected({ responseFormat: { type: 'json' } })],
    [
      'response_format json_schema',
      { response_format: { type: 'json_schema', json_schema: { name: 'point', schema: { type: 'object' }, strict: true } } },
      expected({ responseFormat: { type: 'json', schema: { type: 'object' }, name: 'point' } }),
    ],
    ['reasoning_effort', { reasoning_effort: 'low' }, expected({ reasoning: { effort: 'low', includeThoughts: true } })],
    ['reasoning_effort max is the highest neutral effort', { reasoning_effort: 'max' }, expected({ reasoning: { effort: 'xhigh', includeThoughts: true } })],
    ['reasoning_effort none asks for no thoughts', { reasoning_effort: 'none' }, expected({ reasoning: { effort: 'none', includeThoughts: false } })],
    [
      'bookkeeping fields are accepted and change nothing',
      { seed: 1, user: 'u', metadata: { a: 'b' }, store: true, logprobs: false, n: 1, stream_options: { include_usage: true }, service_tier: 'auto', frequency_penalty: 0 },
      expected(),
    ],
  ];
  for (const [name, extra, want] of table) {
    test(name, () => assert.deepEqual(fromChatRequest({ model: 'client-model', messages: [hi], ...extra }, MODEL), want));
  }
});

describe('fromChatRequest: what cannot be translated is refused, naming the field', () => {
  const call = (args: unknown, type: unknown = 'function') => ({ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type, function: { name: 'f', arguments: args } }] });
  const userPart = (part: Json) => ({ messages: [{ role: 'user', content: [part] }] });
  const table: [string, Json, string][] = [
    ['no messages', { messages: undefined }, 'messages'],
    ['n above 1', { n: 2 }, 'n'],
    ['logprobs', { logprobs: true }, 'logprobs'],
    ['top_logprobs', { top_logprobs: 3 }, 'top_logprobs'],
    ['logit_bias', { logit_bias: { '50256': -100 } }, 'logit_bias'],
    ['audio output', { modalities: ['text', 'audio'] }, 'modalities'],
    ['audio settings', { audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
    ['a custom tool', { tools: [{ type: 'custom', custom: { name: 'apply_patch' } }] }, 'tools[0].type'],
    ['tool_choice naming a custom tool', { tool_choice: { type: 'custom', custom: { name: 'x' } } }, 'tool_choice'],
    ['a function without a name', { tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
    ['an unknown role', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['an unknown user part', userPart({ type: 'video', video: {} }), 'messages[0].content[0].type'],
    ['an image by ftp URL', userPart({ type: 'image_url', image_url: { url: 'ftp://x/a.png' } }), 'messages[0].content[0].image_url.url'],
    ['a data: URL without a media type', userPart({ type: 'image_url', image_url: { url: 'data:;base64,AAAA' } }), 'messages[0].content[0].image_url.url'],
    ['audio in another format', userPart({ type: 'input_audio', input_audio: { data: 'AA', format: 'flac' } }), 'messages[0].content[0].input_audio'],
    ['an uploaded file', userPart({ type: 'file', file: { file_id: 'file-abc' } }), 'messages[0].content[0].file'],
    ['an image in a system message', { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' } }] }] }, 'messages[0].content[0]'],
    ['tool arguments that are not JSON', { messages: [hi, call('{"command": ')] }, 'messages[1].tool_calls[0].function.arguments'],
    ['tool arguments that are not an object', { messages: [hi, call('[1]')] }, 'messages[1].tool_calls[0].function.arguments'],
    ['a custom tool call', { messages: [hi, call('{}', 'custom')] }, 'messages[1].tool_calls[0].type'],
    ['a tool call without an id', { messages: [hi, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, 'messages[1].tool_calls[0].id'],
    ['a tool result for an unknown call', { messages: [hi, { role: 'tool', tool_call_id: 'nope', content: 'x' }] }, 'messages[1].tool_call_id'],
    ['a function result for no function_call', { messages: [hi, { role: 'function', name: 'f', content: 'x' }] }, 'messages[1].name'],
    ['an unknown response_format', { response_format: { type: 'grammar' } }, 'response_format.type'],
    ['an unknown reasoning_effort', { reasoning_effort: 'extreme' }, 'reasoning_effort'],
  ];
  for (const [name, extra, field] of table) {
    test(name, () => {
      assert.throws(
        () => fromChatRequest({ model: 'm', messages: [hi], ...extra }, MODEL),
        (error: unknown) => error instanceof UntranslatableError && error.field === field,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// answers
// ---------------------------------------------------------------------------------------------

const CREATED = 1767312000;
const USAGE: Usage = { inputTokens: 12, outputTokens: 30, cachedInputTokens: 4, reasoningTokens: 9 };
const finish = (reason: Extract<AnswerEvent, { type: 'finish' }>['reason'], usage: Usage = USAGE): AnswerEvent => ({ type: 'finish', reason, usage });

const TEXT_EVENTS: AnswerEvent[] = [
  { type: 'response-start', id: 'resp1', model: 'gemini-2.5-pro' },
  { type: 'text-start', id: 't0' },
  { type: 'text-delta', id: 't0', delta: 'Hel' },
  { type: 'text-delta', id: 't0', delta: 'lo' },
  { type: 'text-end', id: 't0', signature: 'gemini.c2ln' },
  finish('stop'),
];

const REASONING_EVENTS: AnswerEvent[] = [
  { type: 'response-start', id: 'resp2', model: 'gemini-2.5-pro' },
  { type: 'reasoning-start', id: 'r0' },
  { type: 'reasoning-delta', id: 'r0', delta: 'thinking about it' },
  { type: 'reasoning-end', id: 'r0', signature: 'gemini.c2ln' },
  { type: 'text-start', id: 't0' },
  { type: 'text-delta', id: 't0', delta: 'ok' },
  { type: 'text-end', id: 't0' },
  finish('stop'),
];

const TOOL_EVENTS: AnswerEvent[] = [
  { type: 'response-start', id: 'resp3', model: 'gemini-3-pro-preview' },
  { type: 'tool-call-start', id: 'k0', toolCallId: SIGNED_ID, name: 'bash' },
  { type: 'tool-call-delta', id: 'k0', delta: '{"command":' },
  { type: 'tool-call-delta', id: 'k0', delta: '"ls"}' },
  { type: 'tool-call-end', id: 'k0' },
  { type: 'tool-call-start', id: 'k1', toolCallId: 'call_00000000000000ff', name: 'read' },
  { type: 'tool-call-delta', id: 'k1', delta: '{"filePath":"/w/a.txt"}' },
  { type: 'tool-call-end', id: 'k1' },
  // Gemini finishes a function-call turn with STOP.
  finish('stop'),
];

const chunk = (id: string, delta: Json, finishReason: string | null = null) =>
  `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: CREATED, model: 'gpt-5', choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
const usageChunk = (id: string) =>
  `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-5',
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 9 } },
  })}\n\n`;
const DONE = 'data: [DONE]\n\n';

const encodeAll = (events: AnswerEvent[], includeUsage: boolean): string => {
  const encoder = chatStreamEncoder({ model: 'gpt-5', includeUsage, created: CREATED });
  return events.map((event) => encoder.push(event)).join('') + encoder.end();
};

describe('chatStreamEncoder: neutral events as Chat chunks, exactly', () => {
  const role = { role: 'assistant', content: '' };
  const table: [string, AnswerEvent[], boolean, string][] = [
    [
      'text: role first, one chunk per delta, finish, [DONE]; the text signature is dropped',
      TEXT_EVENTS,
      false,
      chunk('chatcmpl-resp1', role) + chunk('chatcmpl-resp1', { content: 'Hel' }) + chunk('chatcmpl-resp1', { content: 'lo' }) + chunk('chatcmpl-resp1', {}, 'stop') + DONE,
    ],
    [
      'reasoning as reasoning_content, before the text',
      REASONING_EVENTS,
      false,
      chunk('chatcmpl-resp2', role) + chunk('chatcmpl-resp2', { reasoning_content: 'thinking about it' }) + chunk('chatcmpl-resp2', { content: 'ok' }) + chunk('chatcmpl-resp2', {}, 'stop') + DONE,
    ],
    [
      'parallel tool calls: indexes from 0, ids unchanged, arguments as deltas, finish tool_calls',
      TOOL_EVENTS,
      false,
      chunk('chatcmpl-resp3', role) +
        chunk('chatcmpl-resp3', { tool_calls: [{ index: 0, id: SIGNED_ID, type: 'function', function: { name: 'bash', arguments: '' } }] }) +
        chunk('chatcmpl-resp3', { tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }) +
        chunk('chatcmpl-resp3', { tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }) +
        chunk('chatcmpl-resp3', { tool_calls: [{ index: 1, id: 'call_00000000000000ff', type: 'function', function: { name: 'read', arguments: '' } }] }) +
        chunk('chatcmpl-resp3', { tool_calls: [{ index: 1, function: { arguments: '{"filePath":"/w/a.txt"}' } }] }) +
        chunk('chatcmpl-resp3', {}, 'tool_calls') +
        DONE,
    ],
    [
      'include_usage: a last chunk with no choices and the usage',
      TEXT_EVENTS,
      true,
      chunk('chatcmpl-resp1', role) + chunk('chatcmpl-resp1', { content: 'Hel' }) + chunk('chatcmpl-resp1', { content: 'lo' }) + chunk('chatcmpl-resp1', {}, 'stop') + usageChunk('chatcmpl-resp1') + DONE,
    ],
  ];
  for (const [name, events, includeUsage, want] of table) test(name, () => assert.equal(encodeAll(events, includeUsage), want));

  const reasons: [Extract<AnswerEvent, { type: 'finish' }>['reason'], string][] = [
    ['stop', 'stop'],
    ['stop-sequence', 'stop'],
    ['length', 'length'],
    ['tool-calls', 'tool_calls'],
    ['content-filter', 'content_filter'],
    ['error', 'stop'],
    ['other', 'stop'],
  ];
  for (const [reason, want] of reasons) {
    test(`finish ${reason} -> finish_reason ${want}`, () => {
      const text = encodeAll([{ type: 'response-start', id: 'r', model: 'm' }, finish(reason)], false);
      assert.equal(text, chunk('chatcmpl-r', role) + chunk('chatcmpl-r', {}, want) + DONE);
    });
  }

  test('a stop-sequence finish after a tool call stays stop; a length finish stays length', () => {
    const calls = TOOL_EVENTS.slice(0, -1);
    assert.match(encodeAll([...calls, finish('stop-sequence')], false), /"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]/);
    assert.match(encodeAll([...calls, finish('length')], false), /"finish_reason":"length"\}\]\}\n\ndata: \[DONE\]/);
  });

  test('without response-start the first chunk still says the role, with a fresh chatcmpl id', () => {
    const encoder = chatStreamEncoder({ model: 'gpt-5', includeUsage: false, created: CREATED });
    const first = JSON.parse(encoder.push({ type: 'text-delta', id: 't', delta: 'x' }).split('\n\n')[0]!.slice('data: '.length)) as Json;
    assert.match(String(first.id), /^chatcmpl-[0-9a-f]{24}$/);
    assert.deepEqual(first.choices, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  });

  test('[DONE] is written once, and nothing after finish', () => {
    const encoder = chatStreamEncoder({ model: 'gpt-5', includeUsage: false, created: CREATED });
    for (const event of TEXT_EVENTS) encoder.push(event);
    assert.equal(encoder.push({ type: 'text-delta', id: 't0', delta: 'late' }), '');
    assert.equal(encoder.end(), DONE);
    assert.equal(encoder.end(), '');
  });
});

/** The bytes of our stream, served to the real `openai` SDK as `/chat/completions` answers them. */
function sdkOn(body: string): OpenAI {
  const fetch = async (): Promise<Response> => {
    const bytes = new TextEncoder().encode(body);
    // Cut into small pieces so chunks straddle reads, as on a real socket.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 37) controller.enqueue(bytes.subarray(i, i + 37));
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return new OpenAI({ apiKey: 'test', baseURL: 'http://tokenpool.invalid/v1', fetch, maxRetries: 0 });
}

describe('the openai SDK reads our stream (ChatCompletionStream)', () => {
  test('parallel tool calls arrive whole, with their ids intact, and the usage', async () => {
    const stream = sdkOn(encodeAll(TOOL_EVENTS, true)).chat.completions.stream({ model: 'gpt-5', messages: [{ role: 'user', content: 'go' }] });
    const completion = await stream.finalChatCompletion();
    assert.equal(completion.id, 'chatcmpl-resp3');
    assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
    assert.deepEqual(
      completion.choices[0]?.message.tool_calls?.map((c) => (c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : [])),
      [
        [SIGNED_ID, 'bash', '{"command":"ls"}'],
        ['call_00000000000000ff', 'read', '{"filePath":"/w/a.txt"}'],
      ],
    );
    assert.deepEqual(completion.usage, {
      prompt_tokens: 12,
      completion_tokens: 30,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 9 },
    });
  });

  test('text and reasoning_content accumulate into the final message', async () => {
    const stream = sdkOn(encodeAll(REASONING_EVENTS, false)).chat.completions.stream({ model: 'gpt-5', messages: [{ role: 'user', content: 'go' }] });
    const message = await stream.finalMessage();
    assert.equal(message.role, 'assistant');
    assert.equal(message.content, 'ok');
    assert.equal((message as unknown as Json).reasoning_content, 'thinking about it');
  });
});

describe('renderChatAnswer: a whole answer as one chat.completion', () => {
  test('reasoning, text and parallel tool calls, with usage and ids unchanged', () => {
    const answer = collectAnswer([...REASONING_EVENTS.slice(0, -1), ...TOOL_EVENTS.slice(1, -1), finish('stop')]);
    assert.deepEqual(renderChatAnswer(answer, 'gpt-5', CREATED), {
      id: 'chatcmpl-resp2',
      object: 'chat.completion',
      created: CREATED,
      model: 'gpt-5',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'ok',
            refusal: null,
            reasoning_content: 'thinking about it',
            tool_calls: [
              { id: SIGNED_ID, type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } },
              { id: 'call_00000000000000ff', type: 'function', function: { name: 'read', arguments: '{"filePath":"/w/a.txt"}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 9 } },
    });
  });

  const table: [string, AnswerEvent[], Json][] = [
    ['no text: content null', [{ type: 'response-start', id: 'r', model: 'm' }, finish('content-filter')], { role: 'assistant', content: null, refusal: null }],
    [
      'arguments that were not JSON are passed on as the text the model wrote',
      [
        { type: 'response-start', id: 'r', model: 'm' },
        { type: 'tool-call-start', id: 'k', toolCallId: 'call_1', name: 'f' },
        { type: 'tool-call-delta', id: 'k', delta: '{"a":' },
        { type: 'tool-call-end', id: 'k' },
        finish('length'),
      ],
      { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":' } }] },
    ],
    ['text parts joined, no reasoning_content when there was none', TEXT_EVENTS, { role: 'assistant', content: 'Hello', refusal: null }],
  ];
  for (const [name, events, message] of table) {
    test(name, () => {
      const rendered = renderChatAnswer(collectAnswer(events), 'gpt-5', CREATED) as { choices: { message: Json }[] };
      assert.deepEqual(rendered.choices[0]?.message, message);
    });
  }

  test('finish reasons as in the stream', () => {
    const reasonOf = (events: AnswerEvent[]) => (renderChatAnswer(collectAnswer(events), 'gpt-5') as { choices: { finish_reason: string }[] }).choices[0]?.finish_reason;
    assert.equal(reasonOf(TEXT_EVENTS), 'stop');
    assert.equal(reasonOf([...TEXT_EVENTS.slice(0, -1), finish('length')]), 'length');
    assert.equal(reasonOf([...TEXT_EVENTS.slice(0, -1), finish('content-filter')]), 'content_filter');
    assert.equal(reasonOf(TOOL_EVENTS), 'tool_calls');
  });
});

describe('opencode on Gemini 3 through the codecs: the thought signature survives the round trip', () => {
  test('Gemini functionCall -> Chat stream -> the SDK -> the next turn -> Gemini functionCall with its thoughtSignature', async () => {
    const gemini = {
      responseId: 'r1',
      modelVersion: 'gemini-3-pro-preview',
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTE=' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5 },
    };
    const decoder = geminiAnswerDecoder({ stream: true, model: 'gemini-3-pro-preview' });
    const encoder = chatStreamEncoder({ model: 'gemini-3-pro-preview', includeUsage: true });
    const events = [...decoder.push(`data: ${JSON.stringify(gemini)}\r\n\r\n`), ...decoder.end()];
    const wire = events.map((event) => encoder.push(event)).join('') + encoder.end();
    const message = await sdkOn(wire).chat.completions.stream({ model: 'gemini-3-pro-preview', messages: [{ role: 'user', content: 'go' }] }).finalMessage();
    const call = message.tool_calls?.[0];
    assert.ok(call?.type === 'function');

    // opencode sends the call back as it got it (no extra_content), with the tool's output.
    const next = fromChatRequest(
      {
        model: 'gemini-3-pro-preview',
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: '', tool_calls: [{ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] },
          { role: 'tool', tool_call_id: call.id, content: 'a.txt' },
        ],
        tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }],
      },
      'gemini-3-pro-preview',
    );
    const contents = toGeminiRequest(next).body.contents as { role: string; parts: Json[] }[];
    assert.deepEqual(contents[1], { role: 'model', parts: [{ functionCall: { name: 'bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTE=' }] });
  });
});
