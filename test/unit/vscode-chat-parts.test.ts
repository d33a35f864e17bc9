/**
 * The chat provider's mapping, both ways, without `vscode` (DESIGN section 12): VS Code's chat
 * messages (as plain shapes) to the neutral conversation and on to Gemini and Claude, and the
 * upstream's answer back to the parts the provider reports.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { toAnthropicRequest } from '../../src/protocols/anthropic';
import { UntranslatableError, type AnswerEvent, type ConversationRequest } from '../../src/protocols/conversation';
import { geminiAnswerDecoder, signatureFromToolCallId, toGeminiRequest, toolCallIdWithSignature } from '../../src/protocols/gemini';
import { ChatAnswerError, ChatAnswerParts } from '../../src/vscode/chat/answer';
import type { ChatInputMessage, ChatInputPart, ChatRequestOptions, ChatResponsePart } from '../../src/vscode/chat/parts';
import { promptTsxText, toConversation } from '../../src/vscode/chat/request';

type Json = Record<string, unknown>;

const options = (over: Partial<ChatRequestOptions> = {}): ChatRequestOptions => ({ tools: [], toolMode: 'auto', modelOptions: {}, thinking: false, ...over });
const user = (...parts: ChatInputPart[]): ChatInputMessage => ({ role: 'user', parts });
const assistant = (...parts: ChatInputPart[]): ChatInputMessage => ({ role: 'assistant', parts });
const text = (value: string): ChatInputPart => ({ kind: 'text', value });
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---- VS Code -> neutral ---------------------------------------------------------------------

test('request: every input part kind maps to the neutral message it means', () => {
  const rows: { name: string; messages: ChatInputMessage[]; expected: ConversationRequest['messages'] }[] = [
    { name: 'user text', messages: [user(text('hi'))], expected: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] },
    { name: 'empty text is left out', messages: [user(text(''), text('a'))], expected: [{ role: 'user', parts: [{ type: 'text', text: 'a' }] }] },
    {
      name: 'system role (the host sends 3 for it)',
      messages: [{ role: 'system', parts: [text('be brief')] }, user(text('a'))],
      expected: [{ role: 'system', text: 'be brief' }, { role: 'user', parts: [{ type: 'text', text: 'a' }] }],
    },
    {
      name: 'an image data part becomes an inline file, base64',
      messages: [user(text('what is this?'), { kind: 'data', mimeType: 'image/png', data: PNG })],
      expected: [{ role: 'user', parts: [{ type: 'text', text: 'what is this?' }, { type: 'file', mediaType: 'image/png', data: { base64: Buffer.from(PNG).toString('base64') } }] }],
    },
    {
      name: 'JSON and text data parts become text; the chat\'s own markers (cache_control) are not for the model',
      messages: [user(
        { kind: 'data', mimeType: 'application/json', data: Buffer.from('{"a":1}') },
        { kind: 'data', mimeType: 'text/markdown', data: Buffer.from('# t') },
        { kind: 'data', mimeType: 'cache_control', data: Buffer.from('ephemeral') },
      )],
      expected: [{ role: 'user', parts: [{ type: 'text', text: '{"a":1}' }, { type: 'text', text: '# t' }] }],
    },
    {
      name: 'assistant text, tool call (input kept), and a tool result in the next user message (name from the call)',
      messages: [
        user(text('list files')),
        assistant(text('Let me look.'), { kind: 'tool-call', callId: 'c1', name: 'ls', input: { dir: '.' } }),
        user({ kind: 'tool-result', callId: 'c1', content: [text('a.txt')] }, text('and now?')),
      ],
      expected: [
        { role: 'user', parts: [{ type: 'text', text: 'list files' }] },
        { role: 'assistant', parts: [{ type: 'text', text: 'Let me look.' }, { type: 'tool-call', id: 'c1', name: 'ls', input: { dir: '.' } }] },
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'ls', output: [{ type: 'text', text: 'a.txt' }] }] },
        { role: 'user', parts: [{ type: 'text', text: 'and now?' }] },
      ],
    },
    {
      name: 'parallel tool results stay one tool message; an error result is marked; an image in a result is kept',
      messages: [
        assistant({ kind: 'tool-call', callId: 'a', name: 'x', input: {} }, { kind: 'tool-call', callId: 'b', name: 'y', input: {} }),
        user(
          { kind: 'tool-result', callId: 'a', content: [text('ok')] },
          { kind: 'tool-result', callId: 'b', content: [{ kind: 'data', mimeType: 'image/png', data: PNG }], isError: true },
        ),
      ],
      expected: [
        { role: 'assistant', parts: [{ type: 'tool-call', id: 'a', name: 'x', input: {} }, { type: 'tool-call', id: 'b', name: 'y', input: {} }] },
        { role: 'tool', parts: [
          { type: 'tool-result', toolCallId: 'a', toolName: 'x', output: [{ type: 'text', text: 'ok' }] },
          { type: 'tool-result', toolCallId: 'b', toolName: 'y', output: [{ type: 'file', mediaType: 'image/png', data: { base64: Buffer.from(PNG).toString('base64') } }], isError: true },
        ] },
      ],
    },
    {
      name: 'a prompt-tsx tool result becomes its text',
      messages: [
        assistant({ kind: 'tool-call', callId: 'a', name: 'read', input: {} }),
        user({ kind: 'tool-result', callId: 'a', content: [{ kind: 'prompt-tsx', value: { node: { type: 1, children: [{ type: 2, text: 'line 1\n' }, { type: 1, children: [{ type: 2, text: 'line 2' }] }] } } }] }),
      ],
      expected: [
        { role: 'assistant', parts: [{ type: 'tool-call', id: 'a', name: 'read', input: {} }] },
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'a', toolName: 'read', output: [{ type: 'text', text: 'line 1\nline 2' }] }] },
      ],
    },
    {
      name: 'thinking with its signature and redacted data in the metadata becomes reasoning',
      messages: [assistant({ kind: 'thinking', value: 'hmm', id: 't1', metadata: { signature: 'gemini.c2ln' } }, { kind: 'thinking', value: '', metadata: { redacted: 'opaque' } }, text('done'))],
      expected: [{ role: 'assistant', parts: [
        { type: 'reasoning', text: 'hmm', signature: 'gemini.c2ln' },
        { type: 'reasoning', text: '', redacted: 'opaque' },
        { type: 'text', text: 'done' },
      ] }],
    },
    { name: 'a part this version does not know is left out', messages: [user(text('a'), { kind: 'unknown', description: 'Foo {x}' })], expected: [{ role: 'user', parts: [{ type: 'text', text: 'a' }] }] },
  ];
  for (const row of rows) assert.deepEqual(toConversation('gemini-2.5-flash', row.messages, options()).messages, row.expected, row.name);
});

test('request: what cannot be meant is refused, naming where', () => {
  const rows: { name: string; messages: ChatInputMessage[]; field: RegExp }[] = [
    { name: 'a tool result for a call no assistant message made', messages: [user({ kind: 'tool-result', callId: 'nope', content: [] })], field: /^messages\[0\]\.content\[0\]/ },
    { name: 'a tool call in a user message', messages: [user({ kind: 'tool-call', callId: 'c', name: 'x', input: {} })], field: /^messages\[0\]\.content\[0\]/ },
    { name: 'a tool result in an assistant message', messages: [assistant({ kind: 'tool-result', callId: 'c', content: [] })], field: /^messages\[0\]\.content\[0\]/ },
  ];
  for (const row of rows) {
    assert.throws(() => toConversation('gemini-2.5-flash', row.messages, options()), (err: unknown) => err instanceof UntranslatableError && row.field.test(err.field), row.name);
  }
});

test('request: tools, toolMode and model options', () => {
  const tools = [{ name: 'get_weather', description: 'Weather for a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }, { name: 'now', description: '' }];
  const rows: { name: string; options: ChatRequestOptions; expected: Partial<ConversationRequest> }[] = [
    { name: 'no tools: no tool choice', options: options(), expected: { tools: [] } },
    {
      name: 'auto; a tool without a schema gets an empty object schema',
      options: options({ tools }),
      expected: {
        tools: [
          { type: 'function', name: 'get_weather', description: 'Weather for a city', inputSchema: tools[0].inputSchema as Json },
          { type: 'function', name: 'now', description: undefined, inputSchema: { type: 'object', properties: {} } },
        ],
        toolChoice: { type: 'auto' },
      },
    },
    { name: 'required', options: options({ tools: tools.slice(0, 1), toolMode: 'required' }), expected: { toolChoice: { type: 'required' } } },
    {
      name: 'model options',
      options: options({ modelOptions: { temperature: 0.2, topP: 0.9, maxOutputTokens: 100, stop: ['END'], reasoningEffort: 'low' } }),
      expected: { temperature: 0.2, topP: 0.9, maxOutputTokens: 100, stopSequences: ['END'], reasoning: { includeThoughts: false, effort: 'low' } },
    },
    { name: 'a host with thinking parts asks for thoughts', options: options({ thinking: true }), expected: { reasoning: { includeThoughts: true } } },
  ];
  for (const row of rows) {
    const request = toConversation('gemini-2.5-flash', [user(text('hi'))], row.options);
    for (const [key, value] of Object.entries(row.expected)) assert.deepEqual(request[key as keyof ConversationRequest], value, `${row.name}: ${key}`);
    assert.equal(request.stream, true);
    if (!('toolChoice' in row.expected)) assert.equal(request.toolChoice, undefined, row.name);
  }
  assert.throws(() => toConversation('gemini-2.5-flash', [user(text('hi'))], options({ modelOptions: { reasoningEffort: 'max' } })), /reasoningEffort/);
});

test('request: toolMode required reaches Gemini as mode ANY and Claude as tool_choice any', () => {
  const request = toConversation('gemini-2.5-flash', [user(text('hi'))], options({ tools: [{ name: 'f', description: 'F' }], toolMode: 'required' }));
  assert.deepEqual(toGeminiRequest(request).body.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
  assert.deepEqual(toAnthropicRequest({ ...request, model: 'claude-sonnet-4-5' }).tool_choice, { type: 'any' });
});

test('request: an image reaches Gemini as inlineData and Claude as a base64 image block', () => {
  const request = toConversation('gemini-2.5-flash', [user(text('what?'), { kind: 'data', mimeType: 'image/png', data: PNG })], options());
  const b64 = Buffer.from(PNG).toString('base64');
  assert.deepEqual((toGeminiRequest(request).body.contents as Json[])[0], { role: 'user', parts: [{ text: 'what?' }, { inlineData: { mimeType: 'image/png', data: b64 } }] });
  const claude = toAnthropicRequest({ ...request, model: 'claude-sonnet-4-5' }) as { messages: { content: Json[] }[] };
  assert.deepEqual(claude.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64 } });
});

test('prompt-tsx text: text nodes depth first; nothing else', () => {
  assert.equal(promptTsxText({ node: { children: [{ text: 'a' }, { children: [{ text: 'b' }] }, { text: 'c' }] } }), 'abc');
  assert.equal(promptTsxText(null), '');
  assert.equal(promptTsxText({ node: { props: { priority: 1 } } }), '');
});

// ---- neutral -> VS Code ---------------------------------------------------------------------

const usage = { inputTokens: 3, outputTokens: 2 };
const run = (events: AnswerEvent[], thinking = true): ChatResponsePart[] => {
  const parts = new ChatAnswerParts({ thinking });
  return events.flatMap((event) => parts.push(event));
};

test('answer: every event kind maps to the part the chat shows, as it arrives', () => {
  const rows: { name: string; events: AnswerEvent[]; thinking?: boolean; expected: ChatResponsePart[] }[] = [
    {
      name: 'text deltas each become a text part; finish reports usage',
      events: [{ type: 'response-start', id: 'r', model: 'm' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Hel' }, { type: 'text-delta', id: 't', delta: 'lo' }, { type: 'text-end', id: 't' }, { type: 'finish', reason: 'stop', usage }],
      expected: [{ kind: 'text', value: 'Hel' }, { kind: 'text', value: 'lo' }, { kind: 'usage', usage }],
    },
    {
      name: 'thinking: deltas under the part id, then its signature closes it',
      events: [{ type: 'reasoning-start', id: 'r1' }, { type: 'reasoning-delta', id: 'r1', delta: 'hmm' }, { type: 'reasoning-end', id: 'r1', signature: 'gemini.c2ln' }],
      expected: [{ kind: 'thinking', value: 'hmm', id: 'r1' }, { kind: 'thinking', value: '', id: 'r1', metadata: { signature: 'gemini.c2ln' } }],
    },
    {
      name: 'thinking is not reported to a host without thinking parts',
      thinking: false,
      events: [{ type: 'reasoning-start', id: 'r1' }, { type: 'reasoning-delta', id: 'r1', delta: 'hmm' }, { type: 'reasoning-end', id: 'r1', signature: 's' }],
      expected: [],
    },
    {
      name: 'a tool call is reported once, with its complete JSON input, when it ends',
      events: [{ type: 'tool-call-start', id: 'c', toolCallId: 'call_1', name: 'ls' }, { type: 'tool-call-delta', id: 'c', delta: '{"dir":' }, { type: 'tool-call-delta', id: 'c', delta: '"src"}' }, { type: 'tool-call-end', id: 'c' }],
      expected: [{ kind: 'tool-call', callId: 'call_1', name: 'ls', input: { dir: 'src' } }],
    },
    {
      name: 'a tool call without arguments has input {}',
      events: [{ type: 'tool-call-start', id: 'c', toolCallId: 'call_2', name: 'now' }, { type: 'tool-call-end', id: 'c' }],
      expected: [{ kind: 'tool-call', callId: 'call_2', name: 'now', input: {} }],
    },
  ];
  for (const row of rows) assert.deepEqual(run(row.events, row.thinking ?? true), row.expected, row.name);
});

test('answer: a blocked answer, a broken call or arguments that are not an object fail with a sentence', () => {
  assert.throws(() => run([{ type: 'finish', reason: 'content-filter', rawReason: 'SAFETY', usage }]), (err: unknown) => err instanceof ChatAnswerError && err.reason === 'content-filter' && /blocked the answer \(SAFETY\)/.test(err.message));
  assert.throws(() => run([{ type: 'finish', reason: 'error', rawReason: 'MALFORMED_FUNCTION_CALL', usage }]), /MALFORMED_FUNCTION_CALL/);
  assert.throws(() => run([{ type: 'tool-call-start', id: 'c', toolCallId: 'x', name: 'f' }, { type: 'tool-call-delta', id: 'c', delta: '[1]' }, { type: 'tool-call-end', id: 'c' }]), /f with arguments that are not a JSON object/);
});

// ---- round trips ----------------------------------------------------------------------------

const sse = (...chunks: Json[]): string => chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('');

test('round trip: a Gemini 3 signature rides out in the callId and back into the next turn', () => {
  const decoder = geminiAnswerDecoder({ stream: true, model: 'gemini-3-pro-preview' });
  const answer = sse({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'ls', args: {} }, thoughtSignature: 'c2lnLTE=' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1 } });
  const parts = run([...decoder.push(answer), ...decoder.end()]);
  const call = parts.find((p): p is Extract<ChatResponsePart, { kind: 'tool-call' }> => p.kind === 'tool-call');
  assert.ok(call, JSON.stringify(parts));
  assert.deepEqual(call.input, {}, 'no arguments: {}');
  assert.equal(signatureFromToolCallId(call.callId), 'c2lnLTE=');
  assert.deepEqual(parts.at(-1), { kind: 'usage', usage: { inputTokens: 4, outputTokens: 1 } });

  const next = toConversation('gemini-3-pro-preview', [
    user(text('list')),
    assistant({ kind: 'tool-call', callId: call.callId, name: call.name, input: call.input }),
    user({ kind: 'tool-result', callId: call.callId, content: [text('a.txt')] }),
  ], options({ tools: [{ name: 'ls', description: 'List' }] }));
  const contents = toGeminiRequest(next).body.contents as { role: string; parts: Json[] }[];
  assert.deepEqual(contents[1], { role: 'model', parts: [{ functionCall: { name: 'ls', args: {} }, thoughtSignature: 'c2lnLTE=' }] });
  assert.deepEqual(contents[2], { role: 'user', parts: [{ functionResponse: { name: 'ls', response: { output: 'a.txt' } } }] });
});

test('round trip: a thought and its signature come back as a signed thought part', () => {
  const decoder = geminiAnswerDecoder({ stream: true, model: 'gemini-2.5-pro' });
  const answer = sse({ candidates: [{ content: { role: 'model', parts: [{ text: 'pondering', thought: true, thoughtSignature: 'dGg=' }, { text: 'Answer.' }] }, finishReason: 'STOP' }] });
  const parts = run([...decoder.push(answer), ...decoder.end()]);
  const thinking = parts.filter((p): p is Extract<ChatResponsePart, { kind: 'thinking' }> => p.kind === 'thinking');
  assert.deepEqual(thinking.map((p) => p.value).join(''), 'pondering');
  const metadata = thinking.find((p) => p.metadata)?.metadata;
  assert.ok(metadata?.signature, JSON.stringify(parts));
  assert.deepEqual(parts.filter((p) => p.kind === 'text'), [{ kind: 'text', value: 'Answer.' }]);

  // The host merges a thinking part's pieces and keeps its metadata; the next turn returns them.
  const next = toConversation('gemini-2.5-pro', [user(text('q')), assistant({ kind: 'thinking', value: 'pondering', metadata }, text('Answer.')), user(text('more'))], options());
  const model = (toGeminiRequest(next).body.contents as { role: string; parts: Json[] }[])[1];
  assert.deepEqual(model, { role: 'model', parts: [{ thought: true, text: 'pondering', thoughtSignature: 'dGg=' }, { text: 'Answer.' }] });
});

test('round trip: a callId without a signature (history from elsewhere) goes to Gemini with Google\'s sentinel; a signed one never loses it', () => {
  const signed = toolCallIdWithSignature('abc');
  const request = toConversation('gemini-3-pro-preview', [
    assistant({ kind: 'tool-call', callId: 'toolu_01', name: 'a', input: { x: 1 } }, { kind: 'tool-call', callId: signed, name: 'b', input: {} }),
    user({ kind: 'tool-result', callId: 'toolu_01', content: [text('1')] }, { kind: 'tool-result', callId: signed, content: [text('2')] }),
  ], options());
  const model = (toGeminiRequest(request).body.contents as { parts: Json[] }[])[0];
  assert.deepEqual(model.parts, [
    { functionCall: { name: 'a', args: { x: 1 } }, thoughtSignature: 'skip_thought_signature_validator' },
    { functionCall: { name: 'b', args: {} }, thoughtSignature: 'abc' },
  ]);
});
