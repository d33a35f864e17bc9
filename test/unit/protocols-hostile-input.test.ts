/**
 * The translation layer under hostile input (issue 17): each finding as a request a careless script
 * or an agent can send, and what it must get instead of a 500, a stall or a silent change: a 400
 * naming the field, or a translation of bounded cost.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromAnthropicRequest } from '../../src/protocols/anthropic';
import { toAnthropicRequest } from '../../src/protocols/anthropic-request-encoder';
import { UntranslatableError } from '../../src/protocols/conversation';
import { toGeminiRequest } from '../../src/protocols/gemini';
import { MAX_INLINED_NODES, reduceSchema, schemaBudget } from '../../src/protocols/gemini-schema';
import { MAX_JSON_DEPTH, tooDeepAt } from '../../src/protocols/json-depth';
import { fromChatRequest } from '../../src/protocols/openai-chat';
import { fromResponsesRequest } from '../../src/protocols/openai-responses-request';
import { parseJsonObject } from '../../src/proxy/body';
import { HttpError } from '../../src/proxy/errors';
import { doublingRefGraph } from '../helpers/hostile-input';

type Json = Record<string, unknown>;

/** JSON text of `inner` wrapped in `depth` arrays. */
const nestedText = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth);

const untranslatable = (field: string | RegExp, message: RegExp) => (err: unknown) =>
  err instanceof UntranslatableError && (typeof field === 'string' ? err.field === field : field.test(err.field)) && message.test(err.message);

describe('finding: a 2 KB $ref graph stalls the proxy', () => {
  test('on every translated front-end, the graph is cut within the budget, named in a note, and costs milliseconds', () => {
    const schema = doublingRefGraph();
    assert.ok(JSON.stringify(schema).length < 2500, 'the request is small');
    const requests = [
      fromAnthropicRequest({ max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'graph', input_schema: schema }] }, 'gemini-2.5-pro'),
      fromChatRequest({ messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'graph', parameters: schema } }] }, 'gemini-2.5-pro'),
      fromResponsesRequest({ input: 'hi', tools: [{ type: 'function', name: 'graph', parameters: schema }] }, 'gemini-2.5-pro').request,
    ];
    for (const request of requests) {
      const budget = schemaBudget();
      const started = performance.now();
      const { body, notes } = toGeminiRequest(request, budget);
      const ms = performance.now() - started;
      const bytes = JSON.stringify(body).length;
      assert.ok(bytes < 512 * 1024, `the upstream body stays small (${bytes} bytes; unbounded it is 62 MB)`);
      assert.ok(budget.visited <= MAX_INLINED_NODES + 100, `work is bounded (${budget.visited} nodes)`);
      assert.ok(budget.cut > 0, 'the graph was cut');
      assert.ok(ms < 2000, `and quick (${ms.toFixed(0)} ms)`);
      assert.ok(notes.some((n) => /tool graph.*cut/.test(n)), 'a note names the tool whose schema was cut');
    }
  });

  test('one budget per request: a hundred small graphs together cost no more than one big one', () => {
    const budget = schemaBudget();
    for (let i = 0; i < 100; i++) reduceSchema(doublingRefGraph(12), budget);
    assert.ok(budget.inlinedNodes <= MAX_INLINED_NODES + 1, `inlined ${budget.inlinedNodes}`);
  });

  test('ordinary $refs are still inlined in full', () => {
    const reduced = reduceSchema(doublingRefGraph(6));
    const leaves = JSON.stringify(reduced).match(/a leaf/g) ?? [];
    assert.equal(leaves.length, 64, 'all 2^6 leaves');
  });
});

describe('finding: JSON nested 100,000 deep is a 500', () => {
  const deep = nestedText(100_000);
  const spots: [string, string][] = [
    ['a schema default', `{"model":"m","messages":[],"tools":[{"name":"t","input_schema":{"type":"object","properties":{"a":{"default":${deep}}}}}]}`],
    ['an Anthropic tool_use.input', `{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"t","input":{"a":${deep}}}]}]}`],
    ['Responses metadata', `{"model":"m","input":"hi","metadata":{"a":${deep}}}`],
    ['a native Gemini body', `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"a":${deep}}}}]}]}`],
  ];
  for (const [where, text] of spots) {
    test(`in ${where}: a 400 naming where, before any walk`, () => {
      assert.throws(
        () => parseJsonObject(Buffer.from(text)),
        (err: unknown) => err instanceof HttpError && err.status === 400 && /deeper than 128 levels, at \w+/.test(err.message),
      );
    });
  }

  test('the limit is exact, and the path names the field', () => {
    const at = (depth: number) => tooDeepAt(JSON.parse(`{"tools":[{"input_schema":{"default":${nestedText(depth - 4)}}}]}`));
    assert.equal(at(MAX_JSON_DEPTH), undefined);
    assert.match(at(MAX_JSON_DEPTH + 1) ?? '', /^tools\[0\]\.input_schema\.default\[0\]/);
  });

  test('a Responses function_call argument string nested deep: a 400 naming the item', () => {
    const body = { input: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: `{"a":${deep}}` }, { type: 'function_call_output', call_id: 'c1', output: 'ok' }], tools: [{ type: 'function', name: 'f', parameters: {} }] };
    assert.throws(() => fromResponsesRequest(body, 'gemini-2.5-pro'), untranslatable('input[0].arguments', /deeper than 128 levels/));
  });

  test('a Chat tool call argument string nested deep: a 400 naming it', () => {
    const body = { messages: [{ role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: `{"a":${deep}}` } }] }] };
    assert.throws(() => fromChatRequest(body, 'gemini-2.5-pro'), untranslatable('messages[0].tool_calls[0].function.arguments', /deeper than 128 levels/));
  });
});

describe('finding: one malformed field, one 500', () => {
  test('a schema type of "constructor" is an unknown type, left out', () => {
    assert.deepEqual(reduceSchema({ type: 'object', properties: { a: { type: 'constructor', format: 'float' }, b: { type: ['__proto__', 'string'] } } }), {
      type: 'object',
      properties: { a: {}, b: { type: 'string' } },
    });
  });

  test('a $ref with a malformed percent-escape, or into the prototype, leads nowhere', () => {
    const reduced = reduceSchema({ type: 'object', properties: { a: { $ref: '#/$defs/%E0%A4%A', description: 'kept' }, b: { $ref: '#/constructor' }, c: { $ref: '#/__proto__' } } });
    assert.deepEqual(reduced, { type: 'object', properties: { a: { description: 'kept' }, b: {}, c: {} } });
  });

  test('a Chat image_url data: URL with a malformed escape: a 400 naming it, as on Responses', () => {
    const chat = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,%E0%A4%A' } }] }] };
    assert.throws(() => fromChatRequest(chat, 'gemini-2.5-pro'), untranslatable('messages[0].content[0].image_url.url', /malformed data: URL/));
    const responses = { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png,%E0%A4%A' }] }] };
    assert.throws(() => fromResponsesRequest(responses, 'gemini-2.5-pro'), untranslatable('input[0].content[0].image_url', /malformed data: URL/));
  });

  test('an image URL ending in .constructor, sent to Claude, is an image of unknown type', () => {
    const request = fromChatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x.test/a.constructor' } }] }] }, 'claude-sonnet-4-5');
    const body = toAnthropicRequest(request) as { messages: { content: Json[] }[] };
    assert.deepEqual(body.messages[0].content[0], { type: 'image', source: { type: 'url', url: 'https://x.test/a.constructor' } });
  });
});

describe('finding: smaller ones', () => {
  test('effort "constructor" is refused on every front-end, never thinkingBudget: null', () => {
    const base = { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    assert.throws(() => fromAnthropicRequest({ ...base, output_config: { effort: 'constructor' } }, 'gemini-2.5-pro'), untranslatable('output_config.effort', /must be/));
    assert.throws(() => fromChatRequest({ ...base, reasoning_effort: 'constructor' }, 'gemini-2.5-pro'), untranslatable('reasoning_effort', /must be/));
    assert.throws(() => fromResponsesRequest({ input: 'hi', reasoning: { effort: 'constructor' } }, 'gemini-2.5-pro'), untranslatable('reasoning.effort', /must be/));
    for (const effort of ['toString', '__proto__', 'hasOwnProperty']) {
      assert.throws(() => fromAnthropicRequest({ ...base, output_config: { effort } }, 'gemini-2.5-pro'), UntranslatableError, effort);
    }
  });

  test('one rule for image URLs: https and data: pass, file: and other schemes are a 400 on all three front-ends', () => {
    const accepted = ['https://x.test/cat.png', 'data:image/png;base64,iVBORw0KGgo='];
    const refused = ['file:///etc/passwd', 'http://169.254.169.254/latest/meta-data', 'gs://bucket/cat.png', 'ftp://x.test/cat.png', 'javascript:alert(1)', '/etc/passwd', 'https://', 'data:image/png;base64,@@@', 'data:,hello', 'data:image/png'];
    const decoders: [string, (url: string) => unknown][] = [
      ['anthropic', (url) => fromAnthropicRequest({ max_tokens: 9, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url } }] }] }, 'gemini-2.5-pro')],
      ['chat', (url) => fromChatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }, 'gemini-2.5-pro')],
      ['responses', (url) => fromResponsesRequest({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }] }, 'gemini-2.5-pro')],
    ];
    for (const [name, decode] of decoders) {
      for (const url of accepted) assert.doesNotThrow(() => decode(url), `${name} takes ${url}`);
      for (const url of refused) assert.throws(() => decode(url), (err: unknown) => err instanceof UntranslatableError && /url/i.test(err.field), `${name} refuses ${url}`);
    }
  });

  test('a property named __proto__ stays in the tool declaration Gemini gets', () => {
    const body = JSON.parse('{"max_tokens":9,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":{"type":"object","properties":{"__proto__":{"type":"string"},"b":{"type":"integer"}},"required":["__proto__"]}}]}');
    const { body: gemini } = toGeminiRequest(fromAnthropicRequest(body, 'gemini-2.5-pro'));
    const text = JSON.stringify(gemini);
    assert.match(text, /"properties":\{"__proto__":\{"type":"string"\},"b":\{"type":"integer"\}\},"required":\["__proto__"\]/);
  });
});
