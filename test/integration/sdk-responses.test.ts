/**
 * The real openai SDK's Responses API (`responses.create`, `responses.stream`) against the proxy,
 * on Gemini and Claude models (DESIGN section 10; issue 9). The fake's scripted model answers
 * `[[call NAME ARGS]]` with a function call and a function_call_output with `tool said: …`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { assertUpstreamAuthorisedByPool, startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

describe('openai SDK Responses API through the proxy', () => {
  let h: ProxyHarness;
  let client: OpenAI;
  before(async () => {
    h = await startProxyHarness({
      accounts: 2,
      pace: { chunks: 3, intervalMs: 2 },
      configure: (c) => {
        c.routing.model_aliases = { 'gpt-5*': 'gemini-2.5-pro' };
      },
    });
    client = new OpenAI({ apiKey: h.apiKey, baseURL: `${h.url}/v1`, maxRetries: 0 });
  });
  after(() => h.close());

  test('text, through an alias', async () => {
    const response = await client.responses.create({ model: 'gpt-5', instructions: 'Be brief.', input: 'Say hi from Responses' });
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'echo: Say hi from Responses');
    assert.equal(response.model, 'gpt-5');
    assert.ok(response.usage && response.usage.input_tokens > 0 && response.usage.output_tokens > 0);
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.route, 'vertex-gemini');
    assert.ok(seen.path.endsWith('/gemini-2.5-pro:generateContent'));
    assert.deepEqual((seen.body as { systemInstruction: unknown }).systemInstruction, { parts: [{ text: 'Be brief.' }] });
    assertUpstreamAuthorisedByPool(h);
  });

  test('a stream of events with increasing sequence numbers, ending in response.completed', async () => {
    const stream = await client.responses.create({ model: 'gemini-2.5-flash', input: 'Stream a few words please', stream: true });
    const types: string[] = [];
    const numbers: number[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      numbers.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.equal(text, 'echo: Stream a few words please');
    assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 1, 'several deltas, as they arrived');
    assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i), 'sequence numbers count up by one');
  });

  for (const model of ['gemini-3-pro-preview', 'claude-sonnet-4-5@20250929']) {
    test(`${model}: a function tool round trip with function_call_output`, async () => {
      const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: '[[call get_weather {"city":"Quito"}]]' }];
      const first = await client.responses.create({
        model,
        input,
        tools: [weather],
        store: false,
        include: ['reasoning.encrypted_content'],
      });
      const call = first.output.find((item) => item.type === 'function_call');
      assert.ok(call && call.type === 'function_call', 'a function_call item');
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments), { city: 'Quito' });
      input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '17C, drizzle' });
      const second = await client.responses.create({ model, input, tools: [weather], store: false, include: ['reasoning.encrypted_content'] });
      assert.match(second.output_text, /tool said: 17C, drizzle/);
      const seen = h.upstream.requests.at(-1)!;
      assert.equal(seen.route, model.startsWith('claude') ? 'vertex-anthropic' : 'vertex-gemini');
      if (model.startsWith('gemini-3')) {
        const parts = (seen.body as { contents: { parts: Record<string, unknown>[] }[] }).contents.flatMap((c) => c.parts);
        assert.equal(typeof parts.find((p) => 'functionCall' in p)?.thoughtSignature, 'string', 'the signature went back with the call');
      }
    });
  }

  test('text.format JSON schema becomes Gemini JSON output', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    await client.responses.create({ model: 'gemini-2.5-flash', input: 'json please', text: { format: { type: 'json_schema', name: 'reply', schema, strict: true } } });
    const config = (h.upstream.requests.at(-1)!.body as { generationConfig: Record<string, unknown> }).generationConfig;
    assert.equal(config.responseMimeType, 'application/json');
    assert.deepEqual(config.responseSchema, { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] });
  });

  test('responses.stream: the final response keeps the call id of a streamed function call', async () => {
    const final = await client.responses
      .stream({ model: 'gemini-2.5-pro', input: [{ role: 'user', content: '[[call get_weather {"city":"Baku"}]]' }], tools: [weather] })
      .finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.match(call.call_id, /\S/);
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Baku' });
  });

  test('previous_response_id is a 400 that says to send the whole input', async () => {
    await assert.rejects(
      client.responses.create({ model: 'gemini-2.5-flash', input: 'again', previous_response_id: 'resp_123' }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /previous_response_id/.test(err.message) && /whole/.test(err.message),
    );
  });
});
