/**
 * The real SDKs on models of the other family (DESIGN section 10): @anthropic-ai/sdk on Gemini
 * (through an alias, as Claude Code's model names land), and openai chat on Claude and on Gemini 3.
 * The fake upstream's scripted model answers `[[call NAME ARGS]]` with a function call and a tool
 * result with `tool said: …`, and refuses a Gemini 3 function-call turn without its signature.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { assertUpstreamAuthorisedByPool, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

/** A tool schema the way Claude Code writes them: draft 2020-12, closed objects, exclusive bounds. */
const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object' as const,
    properties: {
      city: { type: 'string', description: 'City name' },
      days: { type: 'integer', exclusiveMinimum: 0 },
      unit: { anyOf: [{ const: 'celsius' }, { const: 'fahrenheit' }] },
    },
    required: ['city'],
    additionalProperties: false,
  },
};

const geminiBodies = (h: ProxyHarness) => h.upstream.requests.filter((r) => r.route === 'vertex-gemini');

describe('Anthropic SDK on a Gemini model', () => {
  let h: ProxyHarness;
  let client: Anthropic;
  before(async () => {
    h = await startProxyHarness({
      accounts: 2,
      pace: { chunks: 4, intervalMs: 2 },
      configure: (c) => {
        c.routing.model_aliases = { 'claude-haiku-*': 'gemini-2.5-flash', 'claude-*': 'gemini-2.5-pro' };
      },
    });
    client = new Anthropic({ apiKey: h.apiKey, baseURL: h.url, maxRetries: 0 });
  });
  after(() => h.close());

  test('a tool round trip with a Claude-style schema, through the alias', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather? [[call get_weather {"city":"Paris"}]]' }];
    const first = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools: [weatherTool], messages });
    assert.equal(first.stop_reason, 'tool_use');
    assert.equal(first.model, 'claude-sonnet-4-5', 'the client sees the model it asked for');
    const call = first.content.find((b) => b.type === 'tool_use');
    assert.ok(call && call.type === 'tool_use', 'a tool_use block');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.input, { city: 'Paris' });
    assert.match(call.id, /^[A-Za-z0-9_-]+$/, 'a tool_use id Anthropic clients accept');

    const upstream = geminiBodies(h).at(-1)!;
    assert.equal(upstream.model, 'gemini-2.5-pro');
    assert.ok(upstream.path.endsWith(':generateContent'));
    const declared = (upstream.body as { tools: { functionDeclarations: { name: string; parameters: Record<string, unknown> }[] }[] }).tools[0]
      .functionDeclarations[0];
    assert.equal(declared.name, 'get_weather');
    assert.equal('additionalProperties' in declared.parameters, false);
    assert.equal('$schema' in declared.parameters, false);

    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '22C and sunny' }] });
    const second = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools: [weatherTool], messages });
    assert.equal(second.stop_reason, 'end_turn');
    const text = second.content.find((b) => b.type === 'text');
    assert.ok(text && text.type === 'text');
    assert.match(text.text, /tool said: 22C and sunny/);
    const sentBack = (geminiBodies(h).at(-1)!.body as { contents: { role: string; parts: Record<string, unknown>[] }[] }).contents;
    const response = sentBack.flatMap((c) => c.parts).find((p) => 'functionResponse' in p) as { functionResponse: { name: string } };
    assert.equal(response.functionResponse.name, 'get_weather', 'the tool result names its function');
    assertUpstreamAuthorisedByPool(h);
  });

  test("Anthropic's bash and text editor tools are offered to Gemini as functions and called by their names", async () => {
    const tools: Anthropic.ToolUnion[] = [
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
    ];
    const ask = 'Fix it. [[call str_replace_based_edit_tool {"command":"str_replace","path":"/tmp/a.py","old_str":"x = 1","new_str":"x = 2"}]]';
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: ask }];
    const first = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages });
    assert.equal(first.stop_reason, 'tool_use');
    const call = first.content.find((b) => b.type === 'tool_use');
    assert.ok(call && call.type === 'tool_use');
    assert.equal(call.name, 'str_replace_based_edit_tool');
    assert.deepEqual(call.input, { command: 'str_replace', path: '/tmp/a.py', old_str: 'x = 1', new_str: 'x = 2' });

    const declared = (geminiBodies(h).at(-1)!.body as { tools: { functionDeclarations: { name: string; parameters: { properties: Record<string, unknown> } }[] }[] })
      .tools[0].functionDeclarations;
    assert.deepEqual(declared.map((d) => d.name), ['bash', 'str_replace_based_edit_tool']);
    assert.ok('command' in declared[0].parameters.properties && 'old_str' in declared[1].parameters.properties, 'each with its documented input');

    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'The file has been edited.' }] });
    const second = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages });
    const text = second.content.find((b) => b.type === 'text');
    assert.ok(text && text.type === 'text');
    assert.match(text.text, /tool said: The file has been edited\./);
  });

  test("a server tool Anthropic runs (code execution) is left out, logged, and the request still answered", async () => {
    const logged = h.log.lines.length;
    const answer = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      tools: [{ type: 'code_execution_20250825', name: 'code_execution' }, weatherTool],
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    const declared = (geminiBodies(h).at(-1)!.body as { tools: { functionDeclarations: { name: string }[] }[] }).tools[0].functionDeclarations;
    assert.deepEqual(declared.map((d) => d.name), ['get_weather']);
    assert.ok(h.log.lines.slice(logged).some((l) => l.level === 'info' && /tools\[0\] \(code_execution_20250825\).*left out/.test(l.message)), 'one log line says what was left out');
  });

  test('an is_error tool result reaches Gemini as an error', async () => {
    const first = await client.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [{ role: 'user', content: '[[call get_weather {"city":"Atlantis"}]]' }],
    });
    const call = first.content.find((b) => b.type === 'tool_use')!;
    assert.equal(call.type, 'tool_use');
    const second = await client.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: '[[call get_weather {"city":"Atlantis"}]]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.type === 'tool_use' ? call.id : '', content: 'no such city', is_error: true }] },
      ],
    });
    assert.match(second.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), /no such city/);
    const parts = (geminiBodies(h).at(-1)!.body as { contents: { parts: Record<string, unknown>[] }[] }).contents.flatMap((c) => c.parts);
    const fr = parts.find((p) => 'functionResponse' in p) as { functionResponse: { response: Record<string, unknown> } };
    assert.deepEqual(Object.keys(fr.functionResponse.response), ['error']);
  });

  test('Gemini 3: the thought signature rides in the tool_use id and the next turn is accepted', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: '[[call get_weather {"city":"Oslo"}]]' }];
    const first = await client.messages.create({ model: 'gemini-3-pro-preview', max_tokens: 1024, tools: [weatherTool], messages });
    const call = first.content.find((b) => b.type === 'tool_use');
    assert.ok(call && call.type === 'tool_use');
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '-3C' }] });
    const second = await client.messages.create({ model: 'gemini-3-pro-preview', max_tokens: 1024, tools: [weatherTool], messages });
    assert.match(second.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), /tool said: -3C/);
    const parts = (geminiBodies(h).at(-1)!.body as { contents: { parts: Record<string, unknown>[] }[] }).contents.flatMap((c) => c.parts);
    const fc = parts.find((p) => 'functionCall' in p)!;
    assert.equal(typeof fc.thoughtSignature, 'string', 'the signature went back on the functionCall part');
  });

  test('parallel tool calls come back as two tool_use blocks', async () => {
    const message = await client.messages.create({
      model: 'gemini-2.5-pro',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [{ role: 'user', content: '[[call get_weather {"city":"Rome"}]] [[call get_weather {"city":"Lima"}]]' }],
    });
    const calls = message.content.filter((b) => b.type === 'tool_use');
    assert.deepEqual(calls.map((c) => (c.type === 'tool_use' ? c.input : null)), [{ city: 'Rome' }, { city: 'Lima' }]);
    assert.notEqual(calls[0].type === 'tool_use' && calls[0].id, calls[1].type === 'tool_use' && calls[1].id, 'distinct ids');
  });

  test('messages.stream: text deltas, then thinking with its signature', async () => {
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 128, messages: [{ role: 'user', content: 'Stream a few words please' }] });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    assert.equal(deltas.join(''), 'echo: Stream a few words please');
    assert.ok(deltas.length > 1, 'several deltas, as they arrived');
    assert.equal(final.stop_reason, 'end_turn');
    assert.ok(final.usage.output_tokens > 0);
    const seen = geminiBodies(h).at(-1)!;
    assert.equal(seen.model, 'gemini-2.5-flash', 'the haiku alias');
    assert.ok(seen.url.endsWith(':streamGenerateContent?alt=sse'));

    const history: Anthropic.MessageParam[] = [{ role: 'user', content: '[[think]] why is the sky blue' }];
    const thinking = await client.messages
      .stream({ model: 'gemini-2.5-pro', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: history })
      .finalMessage();
    const blocks = thinking.content.filter((b) => b.type === 'thinking');
    assert.ok(blocks.some((b) => b.type === 'thinking' && b.thinking.length > 0), 'the thought summary as a thinking block');
    assert.ok(blocks.some((b) => b.type === 'thinking' && /^gemini\./.test(b.signature)), "Gemini's signature in a thinking block");
    const config = (geminiBodies(h).at(-1)!.body as { generationConfig: { thinkingConfig: unknown } }).generationConfig.thinkingConfig;
    assert.deepEqual(config, { thinkingBudget: 1024, includeThoughts: true });

    // The next turn hands the blocks back as they came: the signature is restored on the model's part.
    history.push({ role: 'assistant', content: thinking.content }, { role: 'user', content: 'and at sunset?' });
    await client.messages.create({ model: 'gemini-2.5-pro', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: history });
    const model = (geminiBodies(h).at(-1)!.body as { contents: { role: string; parts: Record<string, unknown>[] }[] }).contents.find((c) => c.role === 'model');
    assert.ok(model?.parts.some((p) => typeof p.thoughtSignature === 'string' && p.thoughtSignature.length > 0), 'thoughtSignature sent back');
  });

  test('max_tokens stops as max_tokens; stop_sequences and sampling settings reach generationConfig', async () => {
    // This SDK version's types have no sampling settings; older clients and the Messages API still send them.
    const sampling = { temperature: 0.2, top_p: 0.9, top_k: 20 } as object;
    const cut = await client.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 5,
      stop_sequences: ['END'],
      ...sampling,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: '[[max_tokens]] a long story' }],
    });
    assert.equal(cut.stop_reason, 'max_tokens');
    const sent = geminiBodies(h).at(-1)!.body as { generationConfig: Record<string, unknown>; systemInstruction: unknown };
    assert.deepEqual(sent.generationConfig, { maxOutputTokens: 5, stopSequences: ['END'], temperature: 0.2, topP: 0.9, topK: 20 });
    assert.deepEqual(sent.systemInstruction, { parts: [{ text: 'Be brief.' }] });
  });

  test('an image, through the beta endpoint (?beta=true, anthropic-beta) as Claude Code calls it', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const message = await client.beta.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      betas: ['interleaved-thinking-2025-05-14', 'context-management-2025-06-27'],
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'what is this' }] }],
    });
    assert.equal(message.stop_reason, 'end_turn');
    const seen = geminiBodies(h).at(-1)!;
    assert.deepEqual((seen.body as { contents: unknown }).contents, [
      { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: png } }, { text: 'what is this' }] },
    ]);
  });

  test('a safety block is a refusal that says why, in stop_details and as text', async () => {
    const message = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: '[[safety]] something' }] });
    assert.equal(message.stop_reason, 'refusal');
    const why = 'Gemini stopped the answer (SAFETY): the answer may contain safety violations';
    assert.deepEqual(message.stop_details, { type: 'refusal', category: null, explanation: why });
    assert.deepEqual(message.content.map((b) => (b.type === 'text' ? b.text : b.type)), [why]);
  });

  test('countTokens on a Gemini model uses Gemini countTokens', async () => {
    const count = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'one two three four' }] });
    assert.equal(typeof count.input_tokens, 'number');
    assert.ok(count.input_tokens >= 4);
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.route, 'vertex-gemini');
    assert.ok(seen.path.endsWith('/gemini-2.5-pro:countTokens'));
  });

  test('an untranslatable field is a 400 naming it', async () => {
    await assert.rejects(
      client.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 64,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nowhere', content: 'x' }] }],
      }),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /tool_use_id/.test(err.message),
    );
  });
});

describe('OpenAI SDK chat on Claude and Gemini 3 models', () => {
  let h: ProxyHarness;
  let client: OpenAI;
  before(async () => {
    h = await startProxyHarness({ accounts: 2, pace: { chunks: 3, intervalMs: 2 } });
    client = new OpenAI({ apiKey: h.apiKey, baseURL: `${h.url}/v1`, maxRetries: 0 });
  });
  after(() => h.close());

  const tools: OpenAI.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema as unknown as Record<string, unknown> } },
  ];

  for (const model of ['claude-sonnet-4-5@20250929', 'gemini-3-pro-preview']) {
    test(`${model}: a refusal reaches Chat as content_filter with the reason in refusal, streamed and whole`, async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: '[[safety]] something' }];
      const whole = await client.chat.completions.create({ model, messages });
      const streamed = await client.chat.completions.stream({ model, messages, stream: true }).finalChatCompletion();
      const why = model.startsWith('claude')
        ? "Claude declined to answer: This request triggered restrictions on harmful content and was blocked under Anthropic's Usage Policy."
        : 'Gemini stopped the answer (SAFETY): the answer may contain safety violations';
      for (const completion of [whole, streamed]) {
        assert.equal(completion.choices[0].finish_reason, 'content_filter');
        assert.equal(completion.choices[0].message.refusal, why);
      }
    });

    test(`${model}: a tool round trip`, async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: '[[call get_weather {"city":"Kyiv"}]]' }];
      const first = await client.chat.completions.create({ model, messages, tools });
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      const call = first.choices[0].message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Kyiv' });
      // What clients send back: the call without any provider extras, then the tool's result.
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] });
      messages.push({ role: 'tool', tool_call_id: call.id, content: '5C, windy' });
      const second = await client.chat.completions.create({ model, messages, tools });
      assert.match(second.choices[0].message.content ?? '', /tool said: 5C, windy/);
      const route = h.upstream.requests.at(-1)!.route;
      assert.equal(route, model.startsWith('claude') ? 'vertex-anthropic' : 'vertex-gemini');
    });

    test(`${model}: a stream with usage`, async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Stream a few words please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined | null;
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, 'echo: Stream a few words please');
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    });
  }

  test('gemini-3-pro-preview: a client that rewrote the tool call id (no signature left) still gets its next turn, with one log line', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: '[[call get_weather {"city":"Lima"}]]' }];
    const first = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    const call = first.choices[0].message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    // As LiteLLM does: its own id in place of the one the proxy gave (which carried the signature).
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: 'call_rewritten_1', type: 'function', function: call.function }] });
    messages.push({ role: 'tool', tool_call_id: 'call_rewritten_1', content: '18C' });
    const logged = h.log.lines.length;
    const second = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    assert.match(second.choices[0].message.content ?? '', /tool said: 18C/);
    const sent = (h.upstream.lastGeminiBody()!.contents[1].parts[0] as { thoughtSignature?: string }).thoughtSignature;
    assert.equal(sent, 'skip_thought_signature_validator');
    const lines = h.log.lines.slice(logged).filter((l) => /thought signature/.test(l.message));
    assert.equal(lines.length, 1, 'one line per request');
    assert.match(lines[0].message, /gemini-3-pro-preview: function calls sent back without their thought signature \(get_weather\)/);
  });

  test('a streamed tool call keeps its id through ChatCompletionStream', async () => {
    const final = await client.chat.completions
      .stream({ model: 'claude-sonnet-4-5@20250929', messages: [{ role: 'user', content: '[[call get_weather {"city":"Bern"}]]' }], tools })
      .finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.match(call.id, /\S/);
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Bern' });
  });
});
