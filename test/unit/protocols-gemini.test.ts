import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { collectAnswer, UntranslatableError, type AnswerEvent, type ConversationRequest, type Message, type Tool, type Usage } from '../../src/protocols/conversation';
import {
  countTokensFromGemini,
  geminiAnswerDecoder,
  signatureFromToolCallId,
  SKIP_SIGNATURE_VALIDATOR,
  toGeminiCountTokensRequest,
  toGeminiRequest,
  toolCallIdWithSignature,
} from '../../src/protocols/gemini';

type Json = Record<string, unknown>;

const request = (over: Partial<ConversationRequest> = {}): ConversationRequest => ({
  model: 'gemini-2.5-pro',
  messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  stream: false,
  ...over,
});
const body = (over: Partial<ConversationRequest> = {}): Json => toGeminiRequest(request(over)).body;
const user = (text: string): Message => ({ role: 'user', parts: [{ type: 'text', text }] });
const fn = (name: string, inputSchema: Json = { type: 'object', properties: { q: { type: 'string' } } }): Tool => ({ type: 'function', name, inputSchema });
const webSearch: Tool = { type: 'hosted', kind: 'web_search', name: 'web_search' };
const signedId = (sig: string) => toolCallIdWithSignature(sig);

// ---- ids ------------------------------------------------------------------------------------

test('tool call ids: a signature survives the id exactly; ids without one are plain', () => {
  for (const sig of ['c2lnLTE=', 'Cq0CAdHtim9+/Zx==', 'x'.repeat(3000), 'ü/+=']) {
    const id = toolCallIdWithSignature(sig);
    assert.match(id, /^tpsig_[0-9a-f]{16}_[A-Za-z0-9_-]+$/);
    assert.equal(signatureFromToolCallId(id), sig);
  }
  assert.match(toolCallIdWithSignature(), /^call_[0-9a-f]{16}$/);
  assert.match(toolCallIdWithSignature(''), /^call_[0-9a-f]{16}$/);
  assert.notEqual(toolCallIdWithSignature('s'), toolCallIdWithSignature('s'), 'ids are unique');
  for (const foreign of ['toolu_01ABC', 'call_abc', 'tpsig_short_c2ln', 'fc_123']) assert.equal(signatureFromToolCallId(foreign), undefined, foreign);
});

// ---- request: contents ----------------------------------------------------------------------

test('request: messages -> systemInstruction and contents', () => {
  const rows: { name: string; messages: Message[]; system?: unknown; contents: unknown }[] = [
    {
      name: 'every system message, in order, in systemInstruction (also one mid-conversation)',
      messages: [{ role: 'system', text: 'be brief' }, user('a'), { role: 'system', text: 'reminder' }, { role: 'assistant', parts: [{ type: 'text', text: 'b' }] }],
      system: { parts: [{ text: 'be brief' }, { text: 'reminder' }] },
      contents: [{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: 'b' }] }],
    },
    {
      name: 'consecutive user turns merged into one content (a system message between them is not a turn)',
      messages: [user('a'), { role: 'system', text: 's' }, user('b')],
      system: { parts: [{ text: 's' }] },
      contents: [{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }],
    },
    {
      name: 'consecutive assistant turns merged',
      messages: [user('a'), { role: 'assistant', parts: [{ type: 'text', text: 'b' }] }, { role: 'assistant', parts: [{ type: 'text', text: 'c' }] }],
      contents: [{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: 'b' }, { text: 'c' }] }],
    },
    {
      name: 'empty texts left out (Gemini refuses a part without data), an emptied turn too',
      messages: [user('a'), { role: 'assistant', parts: [{ type: 'text', text: '' }] }, user('b')],
      contents: [{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }],
    },
    {
      name: 'files: base64 -> inlineData, URL -> fileData',
      messages: [{ role: 'user', parts: [{ type: 'file', mediaType: 'image/png', data: { base64: 'iVBORw0K' } }, { type: 'file', mediaType: 'application/pdf', data: { url: 'gs://b/doc.pdf' } }] }],
      contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBORw0K' } }, { fileData: { mimeType: 'application/pdf', fileUri: 'gs://b/doc.pdf' } }] }],
    },
    {
      name: 'tool result -> functionResponse {output}, error -> {error}, in a user content',
      messages: [
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'Bash', output: [{ type: 'text', text: 'line 1' }, { type: 'text', text: 'line 2' }] }] },
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c2', toolName: 'Read', output: [{ type: 'text', text: 'no such file' }], isError: true }] },
      ],
      contents: [{ role: 'user', parts: [{ functionResponse: { name: 'Bash', response: { output: 'line 1\nline 2' } } }, { functionResponse: { name: 'Read', response: { error: 'no such file' } } }] }],
    },
    {
      name: 'image tool results after the function responses, then the user text of the same turn',
      messages: [
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'Shot', output: [{ type: 'text', text: 'took it' }, { type: 'file', mediaType: 'image/png', data: { base64: 'AAAA' } }] }] },
        { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'c2', toolName: 'Ls', output: [{ type: 'text', text: 'a.txt' }] }] },
        user('go on'),
      ],
      contents: [
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'Shot', response: { output: 'took it' } } },
            { functionResponse: { name: 'Ls', response: { output: 'a.txt' } } },
            { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
            { text: 'go on' },
          ],
        },
      ],
    },
    {
      name: 'assistant tool calls -> functionCall {name, args}; an unsigned id gives no thoughtSignature',
      messages: [user('a'), { role: 'assistant', parts: [{ type: 'text', text: 'let me look' }, { type: 'tool-call', id: 'toolu_01', name: 'Read', input: { path: 'a' } }, { type: 'tool-call', id: 'call_02', name: 'Ls', input: {} }] }],
      contents: [{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: 'let me look' }, { functionCall: { name: 'Read', args: { path: 'a' } } }, { functionCall: { name: 'Ls', args: {} } }] }],
    },
    {
      name: 'freeform tool call (raw string input) -> args {input}',
      messages: [user('a'), { role: 'assistant', parts: [{ type: 'tool-call', id: 'c', name: 'apply_patch', input: '*** Begin Patch', freeform: true }] }],
      contents: [{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ functionCall: { name: 'apply_patch', args: { input: '*** Begin Patch' } } }] }],
    },
  ];
  for (const row of rows) {
    const got = body({ messages: row.messages });
    assert.deepEqual(got.contents, row.contents, row.name);
    assert.deepEqual(got.systemInstruction, row.system, `${row.name}: systemInstruction`);
  }
});

test('request: signatures go back only when they came from Gemini', () => {
  const model = (parts: Extract<Message, { role: 'assistant' }>['parts']) => (body({ messages: [user('q'), { role: 'assistant', parts }] }).contents as Json[])[1]?.parts;
  const rows: { name: string; parts: Extract<Message, { role: 'assistant' }>['parts']; want: unknown }[] = [
    { name: 'a signed tool call id -> thoughtSignature on its functionCall part', parts: [{ type: 'tool-call', id: signedId('sig-1'), name: 'Bash', input: { cmd: 'ls' } }], want: [{ functionCall: { name: 'Bash', args: { cmd: 'ls' } }, thoughtSignature: 'sig-1' }] },
    { name: 'a text part with a gemini signature -> thoughtSignature, prefix stripped', parts: [{ type: 'text', text: 'hello', signature: 'gemini.abc' }], want: [{ text: 'hello', thoughtSignature: 'abc' }] },
    { name: 'a text part with a foreign signature -> none', parts: [{ type: 'text', text: 'hello', signature: 'EqQBClaude' }], want: [{ text: 'hello' }] },
    { name: 'reasoning with a gemini signature -> thought part', parts: [{ type: 'reasoning', text: 'hmm', signature: 'gemini.t1' }, { type: 'text', text: 'x' }], want: [{ thought: true, text: 'hmm', thoughtSignature: 't1' }, { text: 'x' }] },
    { name: 'reasoning with a Claude signature dropped', parts: [{ type: 'reasoning', text: 'hmm', signature: 'EqQBClaude' }, { type: 'text', text: 'x' }], want: [{ text: 'x' }] },
    { name: 'reasoning without a signature dropped', parts: [{ type: 'reasoning', text: 'hmm' }, { type: 'text', text: 'x' }], want: [{ text: 'x' }] },
    { name: 'redacted reasoning dropped', parts: [{ type: 'reasoning', text: '', redacted: 'opaque' }, { type: 'text', text: 'x' }], want: [{ text: 'x' }] },
    { name: 'empty signed reasoning right after an unsigned text -> that text\'s signature', parts: [{ type: 'text', text: 'answer' }, { type: 'reasoning', text: '', signature: 'gemini.s9' }], want: [{ text: 'answer', thoughtSignature: 's9' }] },
    { name: 'empty signed reasoning after a signed text -> a part of its own', parts: [{ type: 'text', text: 'answer', signature: 'gemini.s1' }, { type: 'reasoning', text: '', signature: 'gemini.s2' }], want: [{ text: 'answer', thoughtSignature: 's1' }, { thought: true, text: '', thoughtSignature: 's2' }] },
    { name: 'empty signed reasoning first -> a part of its own', parts: [{ type: 'reasoning', text: '', signature: 'gemini.s2' }, { type: 'text', text: 'a' }], want: [{ thought: true, text: '', thoughtSignature: 's2' }, { text: 'a' }] },
  ];
  for (const row of rows) assert.deepEqual(model(row.parts), row.want, row.name);
});

test('request: Gemini 3 function calls without a signature get Google\'s sentinel; a real signature always wins', () => {
  type AssistantParts = Extract<Message, { role: 'assistant' }>['parts'];
  const call = (id: string, name: string): AssistantParts[number] => ({ type: 'tool-call', id, name, input: {} });
  const result = (id: string, name: string): Message => ({ role: 'tool', parts: [{ type: 'tool-result', toolCallId: id, toolName: name, output: [{ type: 'text', text: 'ok' }] }] });
  const S = SKIP_SIGNATURE_VALIDATOR;
  const rows: { name: string; model: string; turns: AssistantParts[]; want: (string | undefined)[][]; unsigned: string[] }[] = [
    { name: 'a rewritten id (LiteLLM) on Gemini 3', model: 'gemini-3-pro-preview', turns: [[call('call_abc', 'bash')]], want: [[S]], unsigned: ['bash'] },
    { name: 'a Claude tool id (history from another model)', model: 'gemini-3-flash-preview', turns: [[call('toolu_01X', 'read')]], want: [[S]], unsigned: ['read'] },
    { name: 'a real signature is kept', model: 'gemini-3-pro-preview', turns: [[call(signedId('real'), 'bash')]], want: [['real']], unsigned: [] },
    { name: 'parallel calls: only the first is signed, by the model', model: 'gemini-3-pro-preview', turns: [[call(signedId('real'), 'a'), call('call_2', 'b')]], want: [['real', undefined]], unsigned: [] },
    { name: 'parallel calls without any: the first gets the sentinel', model: 'gemini-3-pro-preview', turns: [[call('c1', 'a'), call('c2', 'b')]], want: [[S, undefined]], unsigned: ['a'] },
    { name: 'each step of the turn', model: 'gemini-3-pro-preview', turns: [[call('c1', 'a')], [call(signedId('s2'), 'b')], [call('c3', 'c')]], want: [[S], ['s2'], [S]], unsigned: ['a', 'c'] },
    { name: 'Gemini 2.5 does not need one', model: 'gemini-2.5-pro', turns: [[call('call_abc', 'bash')]], want: [[undefined]], unsigned: [] },
  ];
  for (const row of rows) {
    const messages: Message[] = [user('q')];
    for (const turn of row.turns) {
      messages.push({ role: 'assistant', parts: turn });
      for (const part of turn) if (part.type === 'tool-call') messages.push(result(part.id, part.name));
    }
    const got = toGeminiRequest(request({ model: row.model, messages }));
    const models = (got.body.contents as { role: string; parts: Json[] }[]).filter((c) => c.role === 'model');
    assert.deepEqual(models.map((c) => c.parts.filter((p) => 'functionCall' in p).map((p) => p.thoughtSignature)), row.want, row.name);
    assert.deepEqual(got.unsigned, row.unsigned, `${row.name}: unsigned`);
  }
});

// ---- request: tools -------------------------------------------------------------------------

test('request: tools -> functionDeclarations with reduced parameters', () => {
  const got = body({
    tools: [
      { type: 'function', name: 'Bash', description: 'Run a command', inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false, properties: { command: { type: 'string' }, timeout: { type: 'number', exclusiveMinimum: 0 } }, required: ['command'] } },
      { type: 'function', name: 'ExitPlanMode', inputSchema: { type: 'object', properties: {}, additionalProperties: false } },
      { type: 'function', name: 'apply_patch', description: 'Patch files', inputSchema: {}, freeform: { grammar: 'lark' } },
    ],
  });
  assert.deepEqual(got.tools, [
    {
      functionDeclarations: [
        { name: 'Bash', description: 'Run a command', parameters: { type: 'object', properties: { command: { type: 'string' }, timeout: { type: 'number', minimum: 0 } }, required: ['command'] } },
        { name: 'ExitPlanMode' },
        { name: 'apply_patch', description: 'Patch files', parameters: { type: 'object', properties: { input: { type: 'string', description: 'The raw input.' } }, required: ['input'] } },
      ],
    },
  ]);
  assert.equal(body().tools, undefined, 'no tools: no tools field');
});

test('request: hosted web_search -> googleSearch where the model takes it, else left out and named', () => {
  const rows: { name: string; model: string; tools: Tool[]; want: unknown; dropped: string[] }[] = [
    { name: 'Gemini 3 with functions: both', model: 'gemini-3-pro-preview', tools: [fn('f'), webSearch], want: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] }, { googleSearch: {} }], dropped: [] },
    { name: 'Gemini 2.5 with functions: left out', model: 'gemini-2.5-pro', tools: [fn('f'), webSearch], want: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] }], dropped: ['web_search'] },
    { name: 'Gemini 2.5 without functions: googleSearch alone', model: 'gemini-2.5-flash', tools: [webSearch], want: [{ googleSearch: {} }], dropped: [] },
  ];
  for (const row of rows) {
    const got = toGeminiRequest(request({ model: row.model, tools: row.tools }));
    assert.deepEqual(got.body.tools, row.want, row.name);
    assert.deepEqual(got.dropped, row.dropped, `${row.name}: dropped`);
  }
});

test('request: toolChoice -> toolConfig.functionCallingConfig', () => {
  const rows: { choice: ConversationRequest['toolChoice']; want: unknown }[] = [
    { choice: { type: 'auto' }, want: { functionCallingConfig: { mode: 'AUTO' } } },
    { choice: { type: 'none' }, want: { functionCallingConfig: { mode: 'NONE' } } },
    { choice: { type: 'required' }, want: { functionCallingConfig: { mode: 'ANY' } } },
    { choice: { type: 'tool', name: 'g' }, want: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } } },
    { choice: undefined, want: undefined },
  ];
  for (const row of rows) assert.deepEqual(body({ tools: [fn('f'), fn('g')], toolChoice: row.choice }).toolConfig, row.want, JSON.stringify(row.choice));
  assert.equal(body({ toolChoice: { type: 'required' } }).toolConfig, undefined, 'no function tools: no toolConfig');
  assert.equal(body({ model: 'gemini-3-pro-preview', tools: [fn('f'), webSearch], toolChoice: { type: 'tool', name: 'web_search' } }).toolConfig, undefined, 'a kept hosted tool is offered, not forced');
});

test('request: a toolChoice naming a hosted tool that was left out is a 400 naming tool_choice', () => {
  assert.throws(
    () => toGeminiRequest(request({ model: 'gemini-2.5-pro', tools: [fn('f'), webSearch], toolChoice: { type: 'tool', name: 'web_search' } })),
    (error: unknown) => error instanceof UntranslatableError && error.field === 'tool_choice' && /web_search/.test(error.message),
  );
});

// ---- request: generation settings -----------------------------------------------------------

test('request: generation settings -> generationConfig, one field each', () => {
  const rows: { name: string; over: Partial<ConversationRequest>; want: Json | undefined }[] = [
    { name: 'nothing set: no generationConfig', over: {}, want: undefined },
    { name: 'maxOutputTokens', over: { maxOutputTokens: 32000 }, want: { maxOutputTokens: 32000 } },
    { name: 'temperature (0 is kept)', over: { temperature: 0 }, want: { temperature: 0 } },
    { name: 'topP', over: { topP: 0.9 }, want: { topP: 0.9 } },
    { name: 'topK', over: { topK: 40 }, want: { topK: 40 } },
    { name: 'stopSequences', over: { stopSequences: ['END', '\n\n'] }, want: { stopSequences: ['END', '\n\n'] } },
    { name: 'empty stopSequences left out', over: { stopSequences: [] }, want: undefined },
    { name: 'text response format: nothing', over: { responseFormat: { type: 'text' } }, want: undefined },
    { name: 'json without schema', over: { responseFormat: { type: 'json' } }, want: { responseMimeType: 'application/json' } },
    {
      name: 'json with schema -> responseSchema reduced',
      over: { responseFormat: { type: 'json', name: 'r', schema: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', exclusiveMinimum: 0 } }, required: ['n'] } } },
      want: { responseMimeType: 'application/json', responseSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] } },
    },
  ];
  for (const row of rows) assert.deepEqual(body(row.over).generationConfig, row.want, row.name);
  const all = body({ maxOutputTokens: 5, temperature: 1, stopSequences: ['x'] }).generationConfig as Json;
  assert.equal(all.candidateCount, undefined, 'candidateCount is never sent');
});

test('request: reasoning -> thinkingConfig', () => {
  const rows: { name: string; model: string; reasoning: ConversationRequest['reasoning']; want: Json | undefined }[] = [
    { name: 'no reasoning: no thinkingConfig', model: 'gemini-2.5-pro', reasoning: undefined, want: undefined },
    { name: 'a model that does not think (2.0): no thinkingConfig', model: 'gemini-2.0-flash-001', reasoning: { adaptive: true, includeThoughts: true }, want: undefined },
    { name: 'includeThoughts alone', model: 'gemini-2.5-pro', reasoning: { includeThoughts: true }, want: { includeThoughts: true } },
    { name: 'budgetTokens -> thinkingBudget', model: 'gemini-2.5-pro', reasoning: { budgetTokens: 10000, includeThoughts: false }, want: { thinkingBudget: 10000, includeThoughts: false } },
    { name: 'budget above a Flash model\'s limit -> its limit', model: 'gemini-2.5-flash', reasoning: { budgetTokens: 31999, includeThoughts: true }, want: { thinkingBudget: 24576, includeThoughts: true } },
    { name: 'adaptive -> -1 (dynamic)', model: 'gemini-2.5-pro', reasoning: { adaptive: true, includeThoughts: false }, want: { thinkingBudget: -1, includeThoughts: false } },
    { name: 'gemini-3: effort minimal -> low', model: 'gemini-3-pro-preview', reasoning: { effort: 'minimal', includeThoughts: true }, want: { thinkingLevel: 'low', includeThoughts: true } },
    { name: 'gemini-3: effort low -> low', model: 'gemini-3-pro-preview', reasoning: { effort: 'low', includeThoughts: true }, want: { thinkingLevel: 'low', includeThoughts: true } },
    { name: 'gemini-3: effort none -> low (it cannot stop thinking)', model: 'gemini-3-flash-preview', reasoning: { effort: 'none', includeThoughts: false }, want: { thinkingLevel: 'low', includeThoughts: false } },
    { name: 'gemini-3: effort medium -> high', model: 'gemini-3-pro-preview', reasoning: { effort: 'medium', includeThoughts: true }, want: { thinkingLevel: 'high', includeThoughts: true } },
    { name: 'gemini-3: effort high -> high', model: 'gemini-3-pro-preview', reasoning: { effort: 'high', includeThoughts: true }, want: { thinkingLevel: 'high', includeThoughts: true } },
    { name: 'gemini-3: effort xhigh -> high', model: 'gemini-3-pro-preview', reasoning: { effort: 'xhigh', includeThoughts: true }, want: { thinkingLevel: 'high', includeThoughts: true } },
    { name: 'gemini-3: an explicit budget stays a budget', model: 'gemini-3-pro-preview', reasoning: { budgetTokens: 2048, includeThoughts: true }, want: { thinkingBudget: 2048, includeThoughts: true } },
    { name: 'flash: effort none -> 0', model: 'gemini-2.5-flash', reasoning: { effort: 'none', includeThoughts: false }, want: { thinkingBudget: 0, includeThoughts: false } },
    { name: 'pro: effort none -> 128 (its minimum)', model: 'gemini-2.5-pro', reasoning: { effort: 'none', includeThoughts: false }, want: { thinkingBudget: 128, includeThoughts: false } },
    { name: 'effort minimal -> 512', model: 'gemini-2.5-pro', reasoning: { effort: 'minimal', includeThoughts: true }, want: { thinkingBudget: 512, includeThoughts: true } },
    { name: 'effort low -> 1024', model: 'gemini-2.5-pro', reasoning: { effort: 'low', includeThoughts: true }, want: { thinkingBudget: 1024, includeThoughts: true } },
    { name: 'effort medium -> 8192', model: 'gemini-2.5-pro', reasoning: { effort: 'medium', includeThoughts: true }, want: { thinkingBudget: 8192, includeThoughts: true } },
    { name: 'effort high -> 24576', model: 'gemini-2.5-pro', reasoning: { effort: 'high', includeThoughts: true }, want: { thinkingBudget: 24576, includeThoughts: true } },
    { name: 'effort xhigh -> 32768', model: 'gemini-2.5-pro', reasoning: { effort: 'xhigh', includeThoughts: true }, want: { thinkingBudget: 32768, includeThoughts: true } },
    { name: 'flash: effort xhigh -> 24576 (its limit)', model: 'gemini-2.5-flash', reasoning: { effort: 'xhigh', includeThoughts: true }, want: { thinkingBudget: 24576, includeThoughts: true } },
  ];
  for (const row of rows) {
    const config = body({ model: row.model, reasoning: row.reasoning }).generationConfig as Json | undefined;
    assert.deepEqual(config?.thinkingConfig, row.want, row.name);
  }
});

// ---- count tokens ---------------------------------------------------------------------------

test('countTokens: Vertex takes the contents, the Gemini API a generateContentRequest', () => {
  const req = request({ model: 'gemini-2.5-flash', messages: [{ role: 'system', text: 's' }, user('count me')], tools: [fn('f')], maxOutputTokens: 9 });
  const contents = [{ role: 'user', parts: [{ text: 'count me' }] }];
  const systemInstruction = { parts: [{ text: 's' }] };
  const tools = [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] }];
  assert.deepEqual(toGeminiCountTokensRequest(req, 'vertex'), { contents, systemInstruction, tools });
  assert.deepEqual(toGeminiCountTokensRequest(req, 'gemini'), { generateContentRequest: { model: 'models/gemini-2.5-flash', contents, systemInstruction, tools } });
  assert.deepEqual(toGeminiCountTokensRequest(request({ model: 'gemini-2.5-flash' }), 'vertex'), { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
  assert.equal(countTokensFromGemini({ totalTokens: 42, promptTokensDetails: [] }), 42);
  assert.equal(countTokensFromGemini({}), 0);
});

// ---- answers --------------------------------------------------------------------------------

const sse = (...chunks: Json[]) => chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`).join('');
const usage = { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 3, cachedContentTokenCount: 4, totalTokenCount: 18 };
const chunk = (parts: Json[], finishReason?: string, extra: Json = {}): Json => ({
  candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}) }],
  modelVersion: 'gemini-2.5-pro',
  responseId: 'resp-1',
  ...extra,
});

/** Decodes text fed in the given pieces; tool call ids replaced by what they carry, so rows can name them. */
function decode(text: string, opts: { stream?: boolean; pieces?: number[]; freeformTools?: string[] } = {}): AnswerEvent[] {
  const decoder = geminiAnswerDecoder({ stream: opts.stream ?? true, freeformTools: opts.freeformTools });
  const events: AnswerEvent[] = [];
  let at = 0;
  for (const size of opts.pieces ?? []) {
    events.push(...decoder.push(text.slice(at, at + size)));
    at += size;
  }
  events.push(...decoder.push(text.slice(at)), ...decoder.end());
  return events.map((event) => (event.type === 'tool-call-start' ? { ...event, toolCallId: describeId(event.toolCallId) } : event));
}
const describeId = (id: string) => {
  const sig = signatureFromToolCallId(id);
  return sig !== undefined ? `signed:${sig}` : /^call_[0-9a-f]{16}$/.test(id) ? 'unsigned' : `bad:${id}`;
};
const start = { type: 'response-start', id: 'resp-1', model: 'gemini-2.5-pro' } as const;
const finish = (reason: string, rawReason: string, use: Usage = { inputTokens: 0, outputTokens: 0 }, message?: string) => ({ type: 'finish', reason, usage: use, rawReason, ...(message ? { message } : {}) });

test('answer: Gemini SSE chunks -> events', () => {
  const rows: { name: string; text: string; want: unknown[]; freeformTools?: string[] }[] = [
    {
      name: 'text in two chunks, STOP, usage',
      text: sse(chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }], 'STOP', { usageMetadata: usage })),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'Hel' }, { type: 'text-delta', id: 'text-0', delta: 'lo' }, { type: 'text-end', id: 'text-0' }, finish('stop', 'STOP', { inputTokens: 10, outputTokens: 8, cachedInputTokens: 4, reasoningTokens: 3 })],
    },
    {
      name: 'usage without thoughts or cache',
      text: sse(chunk([{ text: 'a' }], 'STOP', { usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 2 } })),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'a' }, { type: 'text-end', id: 'text-0' }, finish('stop', 'STOP', { inputTokens: 7, outputTokens: 2 })],
    },
    {
      name: 'thought parts -> reasoning, the signature on the first text part -> text-end',
      text: sse(chunk([{ text: 'thinking about it', thought: true }]), chunk([{ text: 'answer', thoughtSignature: 'c2lnLTE=' }], 'STOP')),
      want: [
        start,
        { type: 'reasoning-start', id: 'reasoning-0' },
        { type: 'reasoning-delta', id: 'reasoning-0', delta: 'thinking about it' },
        { type: 'reasoning-end', id: 'reasoning-0' },
        { type: 'text-start', id: 'text-1' },
        { type: 'text-delta', id: 'text-1', delta: 'answer' },
        { type: 'text-end', id: 'text-1', signature: 'gemini.c2lnLTE=' },
        finish('stop', 'STOP'),
      ],
    },
    {
      name: 'a signed thought part -> reasoning-end signature',
      text: sse(chunk([{ text: 'hmm', thought: true, thoughtSignature: 'T' }, { text: 'ok' }], 'STOP')),
      want: [start, { type: 'reasoning-start', id: 'reasoning-0' }, { type: 'reasoning-delta', id: 'reasoning-0', delta: 'hmm' }, { type: 'reasoning-end', id: 'reasoning-0', signature: 'gemini.T' }, { type: 'text-start', id: 'text-1' }, { type: 'text-delta', id: 'text-1', delta: 'ok' }, { type: 'text-end', id: 'text-1' }, finish('stop', 'STOP')],
    },
    {
      name: 'a signature on an empty final text part -> the open text part\'s signature',
      text: sse(chunk([{ text: 'done' }]), chunk([{ text: '', thoughtSignature: 'S' }], 'STOP')),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'done' }, { type: 'text-end', id: 'text-0', signature: 'gemini.S' }, finish('stop', 'STOP')],
    },
    {
      name: 'a signature on an empty text part with no text before it -> an empty reasoning part with it',
      text: sse(chunk([{ text: 'hmm', thought: true }]), chunk([{ text: '', thoughtSignature: 'S' }], 'STOP')),
      want: [start, { type: 'reasoning-start', id: 'reasoning-0' }, { type: 'reasoning-delta', id: 'reasoning-0', delta: 'hmm' }, { type: 'reasoning-end', id: 'reasoning-0' }, { type: 'reasoning-start', id: 'reasoning-1' }, { type: 'reasoning-end', id: 'reasoning-1', signature: 'gemini.S' }, finish('stop', 'STOP')],
    },
    {
      name: 'a function call: start, its args whole, end; signature in the id; STOP -> tool-calls',
      text: sse(chunk([{ functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTE=' }], 'STOP')),
      want: [start, { type: 'tool-call-start', id: 'tool-0', toolCallId: 'signed:c2lnLTE=', name: 'Bash' }, { type: 'tool-call-delta', id: 'tool-0', delta: '{"command":"ls"}' }, { type: 'tool-call-end', id: 'tool-0' }, finish('tool-calls', 'STOP')],
    },
    {
      name: 'parallel calls: only the first signed; text before them closed first',
      text: sse(chunk([{ text: 'I will' }, { functionCall: { name: 'A', args: { x: 1 } }, thoughtSignature: 'S1' }, { functionCall: { name: 'B' } }], 'STOP')),
      want: [
        start,
        { type: 'text-start', id: 'text-0' },
        { type: 'text-delta', id: 'text-0', delta: 'I will' },
        { type: 'text-end', id: 'text-0' },
        { type: 'tool-call-start', id: 'tool-1', toolCallId: 'signed:S1', name: 'A' },
        { type: 'tool-call-delta', id: 'tool-1', delta: '{"x":1}' },
        { type: 'tool-call-end', id: 'tool-1' },
        { type: 'tool-call-start', id: 'tool-2', toolCallId: 'unsigned', name: 'B' },
        { type: 'tool-call-delta', id: 'tool-2', delta: '{}' },
        { type: 'tool-call-end', id: 'tool-2' },
        finish('tool-calls', 'STOP'),
      ],
    },
    {
      name: 'a freeform tool call: its input argument is the raw input',
      freeformTools: ['apply_patch'],
      text: sse(chunk([{ functionCall: { name: 'apply_patch', args: { input: '*** Begin Patch' } } }], 'STOP')),
      want: [start, { type: 'tool-call-start', id: 'tool-0', toolCallId: 'unsigned', name: 'apply_patch', freeform: true }, { type: 'tool-call-delta', id: 'tool-0', delta: '*** Begin Patch' }, { type: 'tool-call-end', id: 'tool-0' }, finish('tool-calls', 'STOP')],
    },
    {
      name: 'MAX_TOKENS -> length, the partial text kept',
      text: sse(chunk([{ text: 'partial' }], 'MAX_TOKENS')),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'partial' }, { type: 'text-end', id: 'text-0' }, finish('length', 'MAX_TOKENS')],
    },
    {
      name: 'SAFETY with no parts -> content-filter, said in words',
      text: sse({ candidates: [{ finishReason: 'SAFETY' }], responseId: 'resp-1', modelVersion: 'gemini-2.5-pro' }),
      want: [start, finish('content-filter', 'SAFETY', undefined, 'Gemini stopped the answer (SAFETY): the answer may contain safety violations')],
    },
    {
      name: 'promptFeedback.blockReason without candidates -> content-filter',
      text: sse({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 3 }, responseId: 'resp-1', modelVersion: 'gemini-2.5-pro' }),
      want: [start, finish('content-filter', 'PROHIBITED_CONTENT', { inputTokens: 3, outputTokens: 0 }, 'Gemini blocked the prompt (PROHIBITED_CONTENT): it contains prohibited content')],
    },
    {
      name: 'an error chunk mid-stream -> error with its status',
      text: sse(chunk([{ text: 'a' }]), { error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'a' }, { type: 'text-end', id: 'text-0' }, finish('error', 'UNAVAILABLE', undefined, "Gemini's answer failed: overloaded")],
    },
    {
      name: 'the stream ends without a finishReason: parts closed, finish other',
      text: sse(chunk([{ text: 'cut' }])),
      want: [start, { type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: 'cut' }, { type: 'text-end', id: 'text-0' }, finish('other', 'no finishReason')],
    },
  ];
  for (const row of rows) assert.deepEqual(decode(row.text, { freeformTools: row.freeformTools }), row.want, row.name);
});

test('answer: chunk splits anywhere give the same events (mid-event, mid-JSON, between \\r and \\n)', () => {
  const text = sse(
    chunk([{ text: 'thinking about it', thought: true }]),
    chunk([{ text: 'Hello ', thoughtSignature: 'c2lnLTE=' }]),
    chunk([{ text: 'wörld' }, { functionCall: { name: 'Bash', args: { command: 'echo "a b"' } }, thoughtSignature: 'c2lnLTI=' }], 'STOP', { usageMetadata: usage }),
  );
  const whole = decode(text);
  assert.equal(whole.filter((event) => event.type === 'text-delta').length, 2);
  for (const pieces of [[1], [7, 3, 1, 40], [text.indexOf('\r\n') + 1], Array.from({ length: text.length }, () => 1)]) {
    assert.deepEqual(decode(text, { pieces }), whole, `pieces ${pieces.slice(0, 5).join(',')}`);
  }
  // An event the upstream never terminated with a blank line still counts.
  assert.deepEqual(decode(text.replace(/\r\n\r\n$/, '')), whole);
  // LF-only framing too.
  assert.deepEqual(decode(text.replace(/\r\n/g, '\n')), whole);
});

test('answer: events are given as chunks arrive, not at the end', () => {
  const decoder = geminiAnswerDecoder({ stream: true });
  assert.deepEqual(decoder.push('data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}],"responseId":"r","modelVersion":"m"}\r\n'), []);
  assert.deepEqual(decoder.push('\r\n').map((event) => event.type), ['response-start', 'text-start', 'text-delta']);
  assert.deepEqual(decoder.push(sse(chunk([{ text: 'b' }], 'STOP'))).map((event) => event.type), ['text-delta', 'text-end', 'finish']);
  assert.deepEqual(decoder.end(), []);
});

test('answer: a non-streamed generateContent body, fed in pieces', () => {
  const json = JSON.stringify(chunk([{ text: 'hmm', thought: true }, { text: 'hi', thoughtSignature: 'S' }, { functionCall: { name: 'f', args: {} } }], 'STOP', { usageMetadata: usage }));
  const decoder = geminiAnswerDecoder({ stream: false });
  assert.deepEqual(decoder.push(json.slice(0, 20)), [], 'nothing before the body is whole');
  decoder.push(json.slice(20));
  const answer = collectAnswer(decoder.end());
  assert.equal(answer.id, 'resp-1');
  assert.equal(answer.model, 'gemini-2.5-pro');
  assert.deepEqual(answer.parts.map((part) => ({ ...part, ...(part.type === 'tool-call' ? { id: describeId(part.id) } : {}) })), [
    { type: 'reasoning', text: 'hmm' },
    { type: 'text', text: 'hi', signature: 'gemini.S' },
    { type: 'tool-call', id: 'unsigned', name: 'f', input: {} },
  ]);
  assert.deepEqual(answer.finish, finish('tool-calls', 'STOP', { inputTokens: 10, outputTokens: 8, cachedInputTokens: 4, reasoningTokens: 3 }));
});

test('answer: missing ids and models are made up; a broken body finishes with error', () => {
  const events = geminiAnswerDecoder({ stream: true, model: 'gemini-2.5-flash' });
  const first = events.push(sse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }] }))[0];
  assert.equal(first.type, 'response-start');
  assert.match((first as { id: string }).id, /^resp_[0-9a-f]{16}$/);
  assert.equal((first as { model: string }).model, 'gemini-2.5-flash');
  const broken = geminiAnswerDecoder({ stream: false });
  broken.push('{"candidates": [');
  assert.deepEqual(broken.end().map((event) => [event.type, event.type === 'finish' ? event.reason : '']), [['response-start', ''], ['finish', 'error']]);
  assert.deepEqual(decode('', { stream: true }).map((event) => event.type), ['response-start', 'finish'], 'an empty stream still starts and finishes');
});

// ---- the signature round trip ---------------------------------------------------------------

test('signatures round trip: decode -> collectAnswer -> assistant message -> toGeminiRequest restores each on its part', () => {
  const upstream = sse(
    chunk([{ text: 'thinking about it', thought: true }]),
    chunk([{ text: 'Let me run it.', thoughtSignature: 'dGV4dC1zaWc=' }]),
    chunk([{ functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTE=' }, { functionCall: { name: 'Read', args: { path: 'a' } } }], 'STOP'),
  );
  const decoder = geminiAnswerDecoder({ stream: true });
  const answer = collectAnswer([...decoder.push(upstream), ...decoder.end()]);
  const calls = answer.parts.filter((part) => part.type === 'tool-call');
  assert.equal(calls.length, 2);
  const next = request({
    model: 'gemini-3-pro-preview',
    reasoning: { includeThoughts: true },
    tools: [fn('Bash'), fn('Read')],
    messages: [
      user('list files'),
      { role: 'assistant', parts: answer.parts },
      { role: 'tool', parts: calls.map((call) => ({ type: 'tool-result' as const, toolCallId: call.id, toolName: call.name, output: [{ type: 'text' as const, text: `${call.name} ok` }] })) },
    ],
  });
  const contents = toGeminiRequest(next).body.contents as Json[];
  assert.deepEqual(contents[1], {
    role: 'model',
    parts: [
      { text: 'Let me run it.', thoughtSignature: 'dGV4dC1zaWc=' },
      { functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTE=' },
      { functionCall: { name: 'Read', args: { path: 'a' } } },
    ],
  });
  assert.deepEqual(contents[2], { role: 'user', parts: [{ functionResponse: { name: 'Bash', response: { output: 'Bash ok' } } }, { functionResponse: { name: 'Read', response: { output: 'Read ok' } } }] });
});
