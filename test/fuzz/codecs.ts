/**
 * Property-based tests of the translation codecs (issue 17), shared by `npm test` (a few thousand
 * runs, test/unit/protocols-fuzz.test.ts) and `npm run soak` (many more, test/soak/fuzz.ts).
 *
 * - Requests: a valid request of each translated front-end with one field replaced by arbitrary
 *   JSON (hostile strings included: `__proto__`, `constructor`, malformed URLs and escapes, JSON
 *   nested past the limit), or a tool schema from a grammar of JSON Schema keywords (`$ref` graphs
 *   into `$defs`, boolean schemas, odd types). Taken the way the server does (body parse and depth
 *   check, decode, encode for Gemini and for Claude). Only our typed 400s may be thrown; the
 *   upstream body is bounded by a function of the request's size; the schema work, counted, too.
 * - Answers: arbitrary sequences of neutral events into each client encoder (streamed and whole),
 *   and arbitrary Gemini chunks through the Gemini decoder into each: nothing throws, and what is
 *   written is bounded by what came in.
 */
import fc from 'fast-check';
import { anthropicStreamEncoder, fromAnthropicRequest, renderAnthropicAnswer, toAnthropicRequest } from '../../src/protocols/anthropic';
import { collectAnswer, UntranslatableError, type AnswerEvent, type ConversationRequest, type FinishReason } from '../../src/protocols/conversation';
import { geminiAnswerDecoder, toGeminiCountTokensRequest, toGeminiRequest } from '../../src/protocols/gemini';
import { reduceSchema, schemaBudget, type SchemaBudget } from '../../src/protocols/gemini-schema';
import { chatStreamEncoder, fromChatRequest, renderChatAnswer } from '../../src/protocols/openai-chat';
import { fromResponsesRequest, renderResponsesAnswer, responsesStreamEncoder, type ResponsesAnswerOptions } from '../../src/protocols/openai-responses';
import { parseJsonObject } from '../../src/proxy/body';
import { HttpError } from '../../src/proxy/errors';

type Json = Record<string, unknown>;

/** Strings that have broken lookups, parsers and URL rules before. */
const HOSTILE_STRINGS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__',
  '', ' ', '\u0000', '\ud800', '%', '%E0%A4%A', '%zz', '~', '~1', '~0~1/', '#', '#/', '#/$defs', '#/$defs/D0', '#/$defs/%E0%A4%A', '#/constructor', '#/__proto__', '#/properties/a',
  'file:///etc/passwd', 'http://169.254.169.254/', 'https://x.test/a.constructor', 'https://x.test/a.png', 'https://', 'gs://b/o', 'javascript:alert(1)',
  'data:', 'data:,', 'data:image/png,%E0%A4%A', 'data:image/png;base64,@@', 'data:image/png;base64,iVBORw0KGgo=', 'data:text/plain,a%2Cb',
  'object', 'string', 'array', 'null', 'integer', 'number', 'boolean', 'function', 'custom', 'text', 'image', 'tool_use', 'tool_result', 'function_call',
  'max', 'none', 'high', 'auto', 'required', 'any', 'user', 'assistant', 'system', 'developer', 'tool', 'model',
  '{"a":1}', '[[[[1]]]]', '{', 'null', '1e999', 'gemini.c2ln', 'redacted.eA==',
];

const hostileString = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) });
const key = fc.oneof(fc.constantFrom('type', 'text', 'content', 'role', 'name', 'id', 'url', 'input', 'arguments', 'properties', 'items', '$ref', 'source', 'image_url', 'data', '__proto__', 'constructor'), fc.string({ maxLength: 6 }));

/** JSON with hostile strings and keys, nested a little. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-1, 0, 1, 2 ** 31, 1e308)),
    hostileString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Sometimes a value nested past the depth limit, in a random container. */
const deepJson = fc.integer({ min: 120, max: 400 }).map((depth) => JSON.parse('[{"a":'.repeat(depth) + '1' + '}]'.repeat(depth)) as unknown);

// ---- JSON Schema grammar --------------------------------------------------------------------

const DEF_NAMES = ['D0', 'D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8'];
const refTarget = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DEF_NAMES.map((d) => `#/$defs/${d}`), ...DEF_NAMES.map((d) => `#/definitions/${d}`)) },
  { weight: 1, arbitrary: fc.constantFrom('#', '#/properties/a', '#/$defs/%E0%A4%A', '#/constructor', '#/__proto__', 'other.json#/x', '#/$defs/D0/properties/l', '#/$defs/nope') },
);
const typeName = fc.constantFrom('object', 'string', 'array', 'integer', 'number', 'boolean', 'null', 'constructor', '__proto__', 'toString', 'any');

/** A JSON Schema node from keywords clients write (and some they should not). */
export const schemaNode: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean(),
    fc.record({ $ref: refTarget, description: fc.option(hostileString, { nil: undefined }) }, { requiredKeys: ['$ref'] }),
    fc.record(
      {
        type: fc.oneof(typeName, fc.array(typeName, { maxLength: 3 })),
        properties: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
        required: fc.array(fc.oneof(key, fc.integer()), { maxLength: 3 }),
        items: fc.oneof(tie('node'), fc.array(tie('node'), { maxLength: 2 })),
        prefixItems: fc.array(tie('node'), { maxLength: 2 }),
        anyOf: fc.array(tie('node'), { maxLength: 3 }),
        oneOf: fc.array(tie('node'), { maxLength: 3 }),
        allOf: fc.array(tie('node'), { maxLength: 3 }),
        enum: fc.array(hostileJson, { maxLength: 3 }),
        const: hostileJson,
        format: fc.constantFrom('date-time', 'enum', 'float', 'uri', 'constructor', '__proto__'),
        default: hostileJson,
        examples: fc.array(hostileJson, { maxLength: 2 }),
        description: hostileString,
        nullable: fc.boolean(),
        additionalProperties: fc.oneof(fc.boolean(), tie('node')),
        minimum: fc.integer(),
        exclusiveMinimum: fc.oneof(fc.integer(), fc.boolean()),
        exclusiveMaximum: fc.oneof(fc.integer(), fc.boolean()),
        $ref: refTarget,
      },
      { requiredKeys: [] },
    ),
  ),
})).node;

/** A root schema: a node with `$defs` (and sometimes `definitions`) that refer to one another. */
export const rootSchema: fc.Arbitrary<Json> = fc
  .record({
    root: schemaNode,
    defs: fc.array(schemaNode, { minLength: 1, maxLength: DEF_NAMES.length }),
    doubling: fc.boolean(),
  })
  .map(({ root, defs, doubling }) => {
    const $defs: Json = Object.fromEntries(defs.map((d, i) => [DEF_NAMES[i], d]));
    // a doubling chain through the definitions, the shape that once inlined to 2^n copies
    if (doubling) for (let i = 0; i < DEF_NAMES.length - 1; i++) $defs[DEF_NAMES[i]] = { type: 'object', properties: { l: { $ref: `#/$defs/${DEF_NAMES[i + 1]}` }, r: { $ref: `#/definitions/${DEF_NAMES[i + 1]}` }, x: defs[i] ?? {} } };
    const base = typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as Json) : { type: 'object', allOf: [root] };
    return { ...base, $defs, definitions: $defs };
  });

// ---- Requests --------------------------------------------------------------------------------

type FrontEnd = 'chat' | 'responses' | 'anthropic';

const TOOL = { name: 'f', description: 'a tool', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } };

/** A valid request of each front-end, and the paths of the fields the fuzzer replaces. */
const BASES: Record<FrontEnd, { body: () => Json; fields: string[][]; schemaAt: string[] }> = {
  chat: {
    body: () => ({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":"x"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      tools: [{ type: 'function', function: { name: TOOL.name, description: TOOL.description, parameters: TOOL.schema } }],
      tool_choice: 'auto',
      reasoning_effort: 'low',
      max_tokens: 100,
      stop: ['x'],
      response_format: { type: 'text' },
    }),
    fields: [
      ['messages'], ['messages', '0'], ['messages', '1', 'content'], ['messages', '1', 'content', '0'], ['messages', '1', 'content', '1', 'image_url', 'url'],
      ['messages', '1', 'role'], ['messages', '2', 'tool_calls', '0', 'function', 'arguments'], ['messages', '2', 'tool_calls', '0', 'id'], ['messages', '2', 'tool_calls'],
      ['messages', '3', 'tool_call_id'], ['messages', '3', 'content'], ['tools'], ['tools', '0'], ['tools', '0', 'function', 'name'], ['tool_choice'],
      ['reasoning_effort'], ['max_tokens'], ['stop'], ['response_format'], ['temperature'], ['top_p'], ['stream_options'], ['n'], ['metadata'],
    ],
    schemaAt: ['tools', '0', 'function', 'parameters'],
  },
  responses: {
    body: () => ({
      model: 'm',
      instructions: 'be brief',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: 'https://x.test/a.png' }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'hm' }], encrypted_content: 'gemini.c2ln' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":"x"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
      ],
      tools: [{ type: 'function', name: TOOL.name, description: TOOL.description, parameters: TOOL.schema }, { type: 'web_search' }],
      tool_choice: 'auto',
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      text: { format: { type: 'text' } },
      store: false,
    }),
    fields: [
      ['input'], ['input', '0'], ['input', '0', 'content'], ['input', '0', 'content', '1', 'image_url'], ['input', '0', 'role'], ['input', '1'], ['input', '1', 'encrypted_content'],
      ['input', '2', 'arguments'], ['input', '2', 'call_id'], ['input', '2', 'name'], ['input', '3', 'output'], ['input', '3', 'call_id'], ['tools'], ['tools', '0'], ['tools', '1'],
      ['tool_choice'], ['reasoning'], ['reasoning', 'effort'], ['include'], ['text'], ['text', 'format'], ['instructions'], ['metadata'], ['max_output_tokens'], ['previous_response_id'],
    ],
    schemaAt: ['tools', '0', 'parameters'],
  },
  anthropic: {
    body: () => ({
      model: 'm',
      max_tokens: 100,
      system: [{ type: 'text', text: 'be brief' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 'gemini.c2ln' }, { type: 'tool_use', id: 'c1', name: 'f', input: { a: 'x' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'ok' }] },
      ],
      tools: [{ name: TOOL.name, description: TOOL.description, input_schema: TOOL.schema }],
      tool_choice: { type: 'auto' },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      output_config: { effort: 'low' },
      stop_sequences: ['x'],
    }),
    fields: [
      ['messages'], ['messages', '0'], ['messages', '0', 'content'], ['messages', '0', 'content', '1'], ['messages', '0', 'content', '1', 'source'], ['messages', '0', 'content', '1', 'source', 'url'],
      ['messages', '1', 'content', '0'], ['messages', '1', 'content', '1', 'input'], ['messages', '1', 'content', '1', 'id'], ['messages', '2', 'content', '0', 'content'],
      ['messages', '2', 'content', '0', 'tool_use_id'], ['system'], ['tools'], ['tools', '0'], ['tools', '0', 'type'], ['tool_choice'], ['thinking'], ['output_config'],
      ['output_config', 'effort'], ['stop_sequences'], ['max_tokens'], ['metadata'], ['temperature'],
    ],
    schemaAt: ['tools', '0', 'input_schema'],
  },
};

/** `body` with the value at `path` replaced (parents made where missing). */
function setAt(body: Json, path: string[], value: unknown): Json {
  let at: Record<string, unknown> = body;
  for (const step of path.slice(0, -1)) {
    const next = at[step];
    if (typeof next !== 'object' || next === null) at[step] = {};
    at = at[step] as Record<string, unknown>;
  }
  Object.defineProperty(at, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return body;
}

/** Each front-end's valid request as it is, before the fuzzer replaces a field. */
export const baseRequests = (): RequestCase[] => (Object.keys(BASES) as FrontEnd[]).map((frontEnd) => ({ frontEnd, body: BASES[frontEnd].body() }));

export interface RequestCase {
  frontEnd: FrontEnd;
  body: Json;
}

/** A front-end's valid request with one field replaced by hostile JSON, or its tool schema by one from the grammar. */
export const hostileRequest: fc.Arbitrary<RequestCase> = fc.constantFrom<FrontEnd>('chat', 'responses', 'anthropic').chain((frontEnd) => {
  const base = BASES[frontEnd];
  const field = fc.record({ path: fc.constantFrom(...base.fields), value: fc.oneof({ weight: 9, arbitrary: hostileJson }, { weight: 1, arbitrary: deepJson }) });
  const schema = rootSchema.map((value) => ({ path: base.schemaAt, value: value as unknown }));
  return fc.oneof(field, schema).map(({ path, value }) => ({ frontEnd, body: setAt(base.body(), path, value) }));
});

/** What counts as our typed 400: the body check's HttpError 400, or a codec's UntranslatableError. */
const isOur400 = (err: unknown): boolean => err instanceof UntranslatableError || (err instanceof HttpError && err.status === 400);

/** Values (containers and leaves) in a JSON value: the request's own size in nodes. */
function countValues(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    n++;
    if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) stack.push(child);
  }
  return n;
}

/**
 * The fuzzer's schema budget: the product's limits scaled down, so that a generated `$ref` graph
 * (nine definitions at most) can pass them and show they hold.
 */
const LIMITS: SchemaBudget['limits'] = { nodes: 64, bytes: 4096, refDepth: 6 };
/** A little more than the most inlining may add: its node and byte budgets, with a node's own keys. */
const INLINED_OUTPUT_BOUND = LIMITS.nodes * 96 + LIMITS.bytes * 2;
/** Nodes reduced past the budget before every loop notices it is spent: one per open frame at most. */
const WORK_SLACK = 64;

/**
 * The request taken as the server takes it: body parsed and depth-checked, decoded, encoded for
 * Gemini (generateContent and countTokens) and for Claude. Throws only what the property allows.
 */
export function translateRequest({ frontEnd, body }: RequestCase): { inBytes: number; outBytes: number; nodes: number; visited: number } | 'refused' {
  const text = JSON.stringify(body);
  const inBytes = Buffer.byteLength(text);
  const budget = schemaBudget(LIMITS);
  try {
    const parsed = parseJsonObject(Buffer.from(text));
    const nodes = countValues(parsed);
    const decode = (model: string): ConversationRequest => {
      if (frontEnd === 'chat') return fromChatRequest(parsed, model);
      if (frontEnd === 'responses') return fromResponsesRequest(parsed, model).request;
      return fromAnthropicRequest(parsed, model, []);
    };
    const gemini = toGeminiRequest(decode('gemini-2.5-pro'), budget);
    const count = toGeminiCountTokensRequest(decode('gemini-3-pro-preview'), 'gemini', schemaBudget(LIMITS));
    const claude = toAnthropicRequest(decode('claude-sonnet-4-5'));
    const outBytes = Math.max(JSON.stringify(gemini.body).length, JSON.stringify(count).length, JSON.stringify(claude).length);
    return { inBytes, outBytes, nodes, visited: budget.visited };
  } catch (err) {
    if (isOur400(err)) return 'refused';
    throw err;
  }
}

/** The request property: only our 400s; upstream bodies and schema work bounded by the request's size. */
export const requestProperty = fc.property(hostileRequest, (c) => {
  const result = translateRequest(c);
  if (result === 'refused') return;
  const outBound = 8 * result.inBytes + INLINED_OUTPUT_BOUND;
  if (result.outBytes > outBound) throw new Error(`upstream body of ${result.outBytes} bytes from ${result.inBytes} (bound ${outBound})`);
  const workBound = result.nodes + LIMITS.nodes + WORK_SLACK;
  if (result.visited > workBound) throw new Error(`schema work ${result.visited} nodes for a request of ${result.nodes} (bound ${workBound})`);
});

/** The schema property on its own (more runs of the grammar): never throws, output and work bounded. */
export const schemaProperty = fc.property(rootSchema, (schema) => {
  const budget = schemaBudget(LIMITS);
  const out = JSON.stringify(reduceSchema(schema, budget));
  const inBytes = JSON.stringify(schema).length;
  if (out.length > 8 * inBytes + INLINED_OUTPUT_BOUND) throw new Error(`reduced schema of ${out.length} bytes from ${inBytes}`);
  const nodes = countValues(schema);
  if (budget.visited > nodes + LIMITS.nodes + WORK_SLACK) throw new Error(`schema work ${budget.visited} nodes for ${nodes}`);
});

// ---- Answers ---------------------------------------------------------------------------------

const FINISH_REASONS: FinishReason[] = ['stop', 'stop-sequence', 'length', 'tool-calls', 'content-filter', 'error', 'other'];
const partId = fc.constantFrom('p0', 'p1', 'p2', '__proto__', 'constructor');
const count = fc.oneof(fc.nat(), fc.constantFrom(-1, 0, Number.MAX_SAFE_INTEGER, 1.5));

/** One neutral event, in any order with any other: starts without ends, deltas of unknown parts, two finishes. */
export const answerEvent: fc.Arbitrary<AnswerEvent> = fc.oneof(
  fc.record({ type: fc.constant('response-start' as const), id: hostileString, model: hostileString }),
  fc.record({ type: fc.constant('text-start' as const), id: partId }),
  fc.record({ type: fc.constant('text-delta' as const), id: partId, delta: hostileString }),
  fc.record({ type: fc.constant('text-end' as const), id: partId, signature: fc.option(hostileString, { nil: undefined }) }),
  fc.record({ type: fc.constant('reasoning-start' as const), id: partId }),
  fc.record({ type: fc.constant('reasoning-delta' as const), id: partId, delta: hostileString }),
  fc.record({ type: fc.constant('reasoning-end' as const), id: partId, signature: fc.option(hostileString, { nil: undefined }), redacted: fc.option(hostileString, { nil: undefined }) }),
  fc.record({ type: fc.constant('tool-call-start' as const), id: partId, toolCallId: hostileString, name: hostileString, freeform: fc.option(fc.boolean(), { nil: undefined }) }),
  fc.record({ type: fc.constant('tool-call-delta' as const), id: partId, delta: fc.oneof(hostileString, hostileJson.map((v) => JSON.stringify(v) ?? '')) }),
  fc.record({ type: fc.constant('tool-call-end' as const), id: partId }),
  fc.record({
    type: fc.constant('finish' as const),
    reason: fc.constantFrom(...FINISH_REASONS),
    usage: fc.record({ inputTokens: count, outputTokens: count, cachedInputTokens: fc.option(count, { nil: undefined }), reasoningTokens: fc.option(count, { nil: undefined }) }),
    stopSequence: fc.option(hostileString, { nil: undefined }),
    rawReason: fc.option(hostileString, { nil: undefined }),
  }),
) as fc.Arbitrary<AnswerEvent>;

const responsesOptions = (): ResponsesAnswerOptions => ({
  model: 'm',
  includeEncrypted: true,
  tools: new Map([['f', { name: 'f', freeform: false }], ['shell', { name: 'shell', namespace: 'ns', freeform: true }]]),
  echo: { instructions: null, tools: [] },
});

/** Each client codec: a stream encoder and a whole-answer renderer. */
const CLIENTS: [string, { encoder: () => { push(e: AnswerEvent): string; end(): string }; render: (a: ReturnType<typeof collectAnswer>) => unknown }][] = [
  ['chat', { encoder: () => chatStreamEncoder({ model: 'm', includeUsage: true, created: 1 }), render: (a) => renderChatAnswer(a, 'm', 1) }],
  ['anthropic', { encoder: () => anthropicStreamEncoder({ model: 'm' }), render: (a) => renderAnthropicAnswer(a, 'm') }],
  ['responses', { encoder: () => responsesStreamEncoder(responsesOptions()), render: (a) => renderResponsesAnswer(a, responsesOptions()) }],
];

/** What the events carry, in bytes: the bound's input. */
const eventBytes = (events: AnswerEvent[]): number => events.reduce((n, e) => n + JSON.stringify(e).length, 0);

/** Encoded output per event at most this many bytes beyond what the events carry (a protocol's framing). */
const FRAMING_BYTES_PER_EVENT = 2048;

function encodeAll(events: AnswerEvent[]): void {
  const inBytes = eventBytes(events);
  for (const [name, client] of CLIENTS) {
    const encoder = client.encoder();
    let out = 0;
    for (const event of events) out += encoder.push(event).length;
    out += encoder.end().length;
    const whole = JSON.stringify(client.render(collectAnswer(events))).length;
    const bound = 6 * inBytes + FRAMING_BYTES_PER_EVENT * (events.length + 2);
    if (out > bound) throw new Error(`${name} stream wrote ${out} bytes for ${inBytes} bytes of events (bound ${bound})`);
    if (whole > bound) throw new Error(`${name} whole answer of ${whole} bytes for ${inBytes} bytes of events (bound ${bound})`);
  }
}

/** Arbitrary neutral event sequences into each encoder: never throws, output bounded. */
export const encoderProperty = fc.property(fc.array(answerEvent, { maxLength: 30 }), (events) => encodeAll(events));

/**
 * A Gemini chunk as the upstream may send it: Google's answer is protobuf JSON, so every field has
 * its documented type, but any value, count, order or combination (parts the decoder has no place
 * for, calls with any arguments, finish reasons it does not know, a chunk that is not an answer).
 */
const geminiPart = fc.oneof(
  fc.record({ text: hostileString, thought: fc.option(fc.boolean(), { nil: undefined }), thoughtSignature: fc.option(hostileString, { nil: undefined }) }, { requiredKeys: ['text'] }),
  fc.record({ functionCall: fc.record({ name: hostileString, args: fc.dictionary(key, hostileJson, { maxKeys: 3 }), id: fc.option(hostileString, { nil: undefined }) }, { requiredKeys: ['name'] }), thoughtSignature: fc.option(hostileString, { nil: undefined }) }, { requiredKeys: ['functionCall'] }),
  fc.record({ inlineData: fc.record({ mimeType: hostileString, data: hostileString }) }),
  fc.record({ executableCode: fc.record({ language: hostileString, code: hostileString }) }),
);
const geminiChunk = fc.oneof(
  { weight: 4, arbitrary: fc.record({
    candidates: fc.array(fc.record({
      content: fc.record({ role: fc.constantFrom('model', 'user', '__proto__'), parts: fc.array(geminiPart, { maxLength: 3 }) }),
      finishReason: fc.option(fc.constantFrom('STOP', 'MAX_TOKENS', 'SAFETY', 'RECITATION', 'MALFORMED_FUNCTION_CALL', 'FINISH_REASON_UNSPECIFIED', 'SOMETHING_NEW'), { nil: undefined }),
    }, { requiredKeys: [] }), { maxLength: 2 }),
    usageMetadata: fc.option(fc.record({ promptTokenCount: count, candidatesTokenCount: count, thoughtsTokenCount: count, cachedContentTokenCount: count }, { requiredKeys: [] }), { nil: undefined }),
    modelVersion: fc.option(hostileString, { nil: undefined }),
    responseId: fc.option(hostileString, { nil: undefined }),
    promptFeedback: fc.option(fc.record({ blockReason: fc.constantFrom('SAFETY', 'OTHER', 'BLOCKLIST') }), { nil: undefined }),
    error: fc.option(fc.record({ code: fc.integer(), message: hostileString, status: hostileString }), { nil: undefined }),
  }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.constant([]), fc.constant('text'), fc.constant(42)) },
);

/** Arbitrary Gemini chunks (as SSE, cut at arbitrary points) through the Gemini decoder into each encoder. */
export const upstreamProperty = fc.property(fc.array(geminiChunk, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (chunks, cuts) => {
  const sse = chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
  const pieces: string[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const at = Math.min(sse.length, cut % (sse.length + 1));
    if (at <= from) continue;
    pieces.push(sse.slice(from, at));
    from = at;
  }
  pieces.push(sse.slice(from));
  const decoder = geminiAnswerDecoder({ stream: true, model: 'gemini-2.5-pro', freeformTools: ['shell'] });
  const events = [...pieces.flatMap((p) => decoder.push(p)), ...decoder.end()];
  const whole = geminiAnswerDecoder({ stream: false, model: 'gemini-2.5-pro' });
  whole.push(JSON.stringify(chunks));
  const wholeEvents = whole.end();
  if (eventBytes(events) > 4 * sse.length + 4096 || eventBytes(wholeEvents) > 4 * sse.length + 4096) throw new Error('the decoder made more than it was given');
  encodeAll(events);
  encodeAll(wholeEvents);
});

/** Every property with a name, for the unit test and the soak. */
export const PROPERTIES: { name: string; property: fc.IProperty<never[]>; share: number }[] = [
  { name: 'requests of each front-end with a hostile field or schema', property: requestProperty as unknown as fc.IProperty<never[]>, share: 0.4 },
  { name: 'schemas from the grammar', property: schemaProperty as unknown as fc.IProperty<never[]>, share: 0.2 },
  { name: 'neutral event sequences into each encoder', property: encoderProperty as unknown as fc.IProperty<never[]>, share: 0.2 },
  { name: 'Gemini chunks through the decoder into each encoder', property: upstreamProperty as unknown as fc.IProperty<never[]>, share: 0.2 },
];
