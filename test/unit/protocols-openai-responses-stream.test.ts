import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { collectAnswer, type AnswerEvent } from '../../src/protocols/conversation';
import { freeformToolNames, fromResponsesRequest, renderResponsesAnswer, responsesStreamEncoder, type ResponsesAnswerOptions } from '../../src/protocols/openai-responses';

type Json = Record<string, unknown>;

/** Ids numbered per prefix (`fc_1`, `msg_1`, …) and a fixed clock, so whole event sequences can be compared. */
function options(overrides: Partial<ResponsesAnswerOptions> = {}): ResponsesAnswerOptions {
  const counts = new Map<string, number>();
  return {
    model: 'gpt-5-codex',
    includeEncrypted: true,
    tools: new Map(),
    echo: {},
    makeId: (prefix) => {
      counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
      return `${prefix}_${counts.get(prefix)}`;
    },
    now: () => 1_700_000_000_000,
    ...overrides,
  };
}

const usage = { inputTokens: 100, outputTokens: 40, cachedInputTokens: 60, reasoningTokens: 25 };
const wireUsage = {
  input_tokens: 100,
  input_tokens_details: { cached_tokens: 60 },
  output_tokens: 40,
  output_tokens_details: { reasoning_tokens: 25 },
  total_tokens: 140,
};

function encode(events: AnswerEvent[], opts = options()): string {
  const encoder = responsesStreamEncoder(opts);
  return events.map((event) => encoder.push(event)).join('') + encoder.end();
}

/** The SSE text as events, checking the framing (`event:` line equal to the data's `type`) on the way. */
function parse(sse: string): Json[] {
  assert.ok(sse.endsWith('\n\n'), 'every event ends with a blank line');
  return sse
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      assert.deepEqual(rest, []);
      const data = JSON.parse(dataLine.replace(/^data: /, '')) as Json;
      assert.equal(eventLine, `event: ${String(data.type)}`);
      return data;
    });
}

const types = (events: Json[]) => events.map((e) => e.type);

const start: AnswerEvent = { type: 'response-start', id: 'upstream-1', model: 'gemini-2.5-pro' };
const stop = (reason: 'stop' | 'tool-calls' = 'stop'): AnswerEvent => ({ type: 'finish', reason, usage });

describe('responsesStreamEncoder: the event sequence', () => {
  test('a text answer: created, in_progress, the message with its content part, completed; sequence numbers from 0', () => {
    const events = parse(
      encode([start, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Hel' }, { type: 'text-delta', id: 't', delta: 'lo' }, { type: 'text-end', id: 't' }, stop()]),
    );
    const where = { item_id: 'msg_1', output_index: 0 };
    const message = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] };
    const inProgress = { id: 'resp_1', object: 'response', created_at: 1_700_000_000, model: 'gpt-5-codex', status: 'in_progress', output: [], usage: null };
    const expected: Json[] = [
      { type: 'response.created', sequence_number: 0, response: inProgress },
      { type: 'response.in_progress', sequence_number: 1, response: inProgress },
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { ...message, status: 'in_progress', content: [] } },
      { type: 'response.content_part.added', sequence_number: 3, ...where, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } },
      { type: 'response.output_text.delta', sequence_number: 4, ...where, content_index: 0, delta: 'Hel', logprobs: [] },
      { type: 'response.output_text.delta', sequence_number: 5, ...where, content_index: 0, delta: 'lo', logprobs: [] },
      { type: 'response.output_text.done', sequence_number: 6, ...where, content_index: 0, text: 'Hello', logprobs: [] },
      { type: 'response.content_part.done', sequence_number: 7, ...where, content_index: 0, part: { type: 'output_text', text: 'Hello', annotations: [] } },
      { type: 'response.output_item.done', sequence_number: 8, output_index: 0, item: message },
      { type: 'response.completed', sequence_number: 9, response: { ...inProgress, status: 'completed', output: [message], usage: wireUsage } },
    ];
    assert.equal(events.length, expected.length);
    events.forEach((event, i) => assert.deepEqual(pick(event, expected[i]), expected[i], `event ${i}`));
  });

  test('reasoning: a reasoning item with a summary part, its deltas, and the signature as encrypted_content', () => {
    const events = parse(
      encode([
        start,
        { type: 'reasoning-start', id: 'r' },
        { type: 'reasoning-delta', id: 'r', delta: 'thinking ' },
        { type: 'reasoning-delta', id: 'r', delta: 'about it' },
        { type: 'reasoning-end', id: 'r', signature: 'gemini.c2lnLTE=' },
        stop(),
      ]),
    );
    const where = { item_id: 'rs_1', output_index: 0, summary_index: 0 };
    const item = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking about it' }], encrypted_content: 'gemini.c2lnLTE=' };
    assert.deepEqual(
      events.slice(2, -1).map(({ sequence_number: _, ...rest }) => rest),
      [
        { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } },
        { type: 'response.reasoning_summary_part.added', ...where, part: { type: 'summary_text', text: '' } },
        { type: 'response.reasoning_summary_text.delta', ...where, delta: 'thinking ' },
        { type: 'response.reasoning_summary_text.delta', ...where, delta: 'about it' },
        { type: 'response.reasoning_summary_text.done', ...where, text: 'thinking about it' },
        { type: 'response.reasoning_summary_part.done', ...where, part: { type: 'summary_text', text: 'thinking about it' } },
        { type: 'response.output_item.done', output_index: 0, item },
      ],
    );
  });

  const signatureOnly: AnswerEvent[] = [start, { type: 'reasoning-start', id: 'r' }, { type: 'reasoning-end', id: 'r', signature: 'sig-anthropic' }, stop()];
  const textSignature: AnswerEvent[] = [start, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'hi' }, { type: 'text-end', id: 't', signature: 'gemini.c2lnLTI=' }, stop()];
  const cases: { name: string; events: AnswerEvent[]; includeEncrypted: boolean; output: Json[] }[] = [
    { name: 'a reasoning part with only a signature: a reasoning item with an empty summary', events: signatureOnly, includeEncrypted: true, output: [{ id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'sig-anthropic' }] },
    { name: 'the same without include reasoning.encrypted_content: nothing', events: signatureOnly, includeEncrypted: false, output: [] },
    {
      name: 'a text-end signature: an extra reasoning item (empty summary) right after the message',
      events: textSignature,
      includeEncrypted: true,
      output: [
        { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hi', annotations: [] }] },
        { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gemini.c2lnLTI=' },
      ],
    },
    {
      name: 'the same without include: the message only',
      events: textSignature,
      includeEncrypted: false,
      output: [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hi', annotations: [] }] }],
    },
    {
      name: 'reasoning with a summary but no include: the summary without encrypted_content',
      events: [start, { type: 'reasoning-start', id: 'r' }, { type: 'reasoning-delta', id: 'r', delta: 'hmm' }, { type: 'reasoning-end', id: 'r', signature: 's' }, stop()],
      includeEncrypted: false,
      output: [{ id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'hmm' }] }],
    },
    {
      name: 'Anthropic redacted thinking: encrypted_content is "redacted." and the data',
      events: [start, { type: 'reasoning-start', id: 'r' }, { type: 'reasoning-end', id: 'r', redacted: 'EqQBCkYI' }, stop()],
      includeEncrypted: true,
      output: [{ id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'redacted.EqQBCkYI' }],
    },
    {
      name: 'an empty text part: no message item',
      events: [start, { type: 'text-start', id: 't' }, { type: 'text-end', id: 't' }, stop()],
      includeEncrypted: true,
      output: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const events = parse(encode(c.events, options({ includeEncrypted: c.includeEncrypted })));
      const completed = events.at(-1)!;
      assert.equal(completed.type, 'response.completed');
      assert.deepEqual((completed.response as Json).output, c.output);
      const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
      assert.deepEqual(done, c.output, 'each item is also sent as output_item.done');
    });
  }

  test('a function call: output_item.added (in_progress, empty arguments), argument deltas, done with name and arguments', () => {
    const events = parse(
      encode([
        start,
        { type: 'tool-call-start', id: 'c', toolCallId: 'tpsig_0011223344556677_c2lnLTE', name: 'exec_command' },
        { type: 'tool-call-delta', id: 'c', delta: '{"cmd":' },
        { type: 'tool-call-delta', id: 'c', delta: '"ls"}' },
        { type: 'tool-call-end', id: 'c' },
        stop('tool-calls'),
      ]),
    );
    const call = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'tpsig_0011223344556677_c2lnLTE', name: 'exec_command', arguments: '{"cmd":"ls"}' };
    const where = { item_id: 'fc_1', output_index: 0 };
    assert.deepEqual(
      events.slice(2).map(({ sequence_number: _, ...rest }) => rest),
      [
        { type: 'response.output_item.added', output_index: 0, item: { ...call, status: 'in_progress', arguments: '' } },
        { type: 'response.function_call_arguments.delta', ...where, delta: '{"cmd":' },
        { type: 'response.function_call_arguments.delta', ...where, delta: '"ls"}' },
        { type: 'response.function_call_arguments.done', ...where, name: 'exec_command', arguments: '{"cmd":"ls"}' },
        { type: 'response.output_item.done', output_index: 0, item: call },
        { type: 'response.completed', response: (events.at(-1) as Json).response },
      ],
    );
    assert.equal(((events.at(-1) as Json).response as Json).status, 'completed', 'a tool-call finish completes the response');
  });

  test('a call without arguments gets "{}" (Codex parses arguments as JSON)', () => {
    const events = parse(encode([start, { type: 'tool-call-start', id: 'c', toolCallId: 'call_1', name: 'list' }, { type: 'tool-call-end', id: 'c' }, stop('tool-calls')]));
    assert.deepEqual(events.find((e) => e.type === 'response.function_call_arguments.done')?.arguments, '{}');
  });

  test('a call to a namespaced tool carries namespace and the nested name, as Codex routes it (function and custom)', () => {
    const tools = new Map([
      ['spawn_agent', { name: 'spawn_agent', namespace: 'multi_agent_v1', freeform: false }],
      ['docs__write', { name: 'write', namespace: 'docs', freeform: true }],
    ]);
    const events = parse(
      encode(
        [
          start,
          { type: 'tool-call-start', id: 'c', toolCallId: 'call_1', name: 'spawn_agent' },
          { type: 'tool-call-delta', id: 'c', delta: '{}' },
          { type: 'tool-call-end', id: 'c' },
          { type: 'tool-call-start', id: 'w', toolCallId: 'call_2', name: 'docs__write' },
          { type: 'tool-call-delta', id: 'w', delta: '{"input":"x"}' },
          { type: 'tool-call-end', id: 'w' },
          stop(),
        ],
        options({ tools }),
      ),
    );
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Json);
    assert.deepEqual(
      done.map((item) => [item.type, item.name, item.namespace]),
      [
        ['function_call', 'spawn_agent', 'multi_agent_v1'],
        ['custom_tool_call', 'write', 'docs'],
      ],
    );
  });

  test('a freeform tool: custom_tool_call with the raw input decoded from {"input": …}, one delta at the end', () => {
    const tools = new Map([['apply_patch', { name: 'apply_patch', freeform: true }]]);
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hi "there"\n*** End Patch\n';
    const json = JSON.stringify({ input: patch });
    const events = parse(
      encode(
        [
          start,
          { type: 'tool-call-start', id: 'c', toolCallId: 'call_patch', name: 'apply_patch' },
          { type: 'tool-call-delta', id: 'c', delta: json.slice(0, 20) },
          { type: 'tool-call-delta', id: 'c', delta: json.slice(20) },
          { type: 'tool-call-end', id: 'c' },
          stop('tool-calls'),
        ],
        options({ tools }),
      ),
    );
    const call = { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: patch };
    const where = { item_id: 'ctc_1', output_index: 0 };
    assert.deepEqual(
      events.slice(2, -1).map(({ sequence_number: _, ...rest }) => rest),
      [
        { type: 'response.output_item.added', output_index: 0, item: { ...call, input: '' } },
        { type: 'response.custom_tool_call_input.delta', ...where, delta: patch },
        { type: 'response.custom_tool_call_input.done', ...where, input: patch },
        { type: 'response.output_item.done', output_index: 0, item: call },
      ],
    );
  });

  test('a call the upstream marks freeform: its raw input streams as it comes and is not decoded', () => {
    const tools = new Map([['apply_patch', { name: 'apply_patch', freeform: true }]]);
    const raw = '{"input":"this is the raw text"}';
    const events = parse(
      encode(
        [
          start,
          { type: 'tool-call-start', id: 'c', toolCallId: 'call_patch', name: 'apply_patch', freeform: true },
          { type: 'tool-call-delta', id: 'c', delta: raw.slice(0, 9) },
          { type: 'tool-call-delta', id: 'c', delta: raw.slice(9) },
          { type: 'tool-call-end', id: 'c' },
          stop('tool-calls'),
        ],
        options({ tools }),
      ),
    );
    const where = { item_id: 'ctc_1', output_index: 0 };
    assert.deepEqual(
      events.slice(3, -1).map(({ sequence_number: _, ...rest }) => rest),
      [
        { type: 'response.custom_tool_call_input.delta', ...where, delta: raw.slice(0, 9) },
        { type: 'response.custom_tool_call_input.delta', ...where, delta: raw.slice(9) },
        { type: 'response.custom_tool_call_input.done', ...where, input: raw },
        { type: 'response.output_item.done', output_index: 0, item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: raw } },
      ],
    );
    const rendered = renderResponsesAnswer(collectAnswer([start, { type: 'tool-call-start', id: 'c', toolCallId: 'call_patch', name: 'apply_patch', freeform: true }, { type: 'tool-call-delta', id: 'c', delta: raw }, { type: 'tool-call-end', id: 'c' }, stop()]), options({ tools }));
    assert.equal(((rendered.output as Json[])[0] as Json).input, raw);
  });

  test('freeformToolNames: the neutral names an upstream decoder should mark freeform', () => {
    const tools = new Map([
      ['exec_command', { name: 'exec_command', freeform: false }],
      ['apply_patch', { name: 'apply_patch', freeform: true }],
      ['docs__write', { name: 'write', namespace: 'docs', freeform: true }],
    ]);
    assert.deepEqual(freeformToolNames(options({ tools })), ['apply_patch', 'docs__write']);
  });

  test('several parts: each its own output_index, in order', () => {
    const events = parse(
      encode([
        start,
        { type: 'reasoning-start', id: 'r' },
        { type: 'reasoning-delta', id: 'r', delta: 'plan' },
        { type: 'reasoning-end', id: 'r' },
        { type: 'text-start', id: 't' },
        { type: 'text-delta', id: 't', delta: 'Running two commands.' },
        { type: 'text-end', id: 't' },
        { type: 'tool-call-start', id: 'a', toolCallId: 'call_a', name: 'exec_command' },
        { type: 'tool-call-delta', id: 'a', delta: '{"cmd":"ls"}' },
        { type: 'tool-call-end', id: 'a' },
        { type: 'tool-call-start', id: 'b', toolCallId: 'call_b', name: 'exec_command' },
        { type: 'tool-call-delta', id: 'b', delta: '{"cmd":"pwd"}' },
        { type: 'tool-call-end', id: 'b' },
        stop('tool-calls'),
      ]),
    );
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => [e.output_index, (e.item as Json).type, (e.item as Json).id]);
    assert.deepEqual(added, [
      [0, 'reasoning', 'rs_1'],
      [1, 'message', 'msg_1'],
      [2, 'function_call', 'fc_1'],
      [3, 'function_call', 'fc_2'],
    ]);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const output = ((events.at(-1) as Json).response as Json).output as Json[];
    assert.deepEqual(
      output.map((item) => item.call_id ?? item.id),
      ['rs_1', 'msg_1', 'call_a', 'call_b'],
    );
  });

  const endings: { reason: 'length' | 'content-filter' | 'error' | 'stop-sequence' | 'other'; event: string; fields: Json }[] = [
    { reason: 'length', event: 'response.incomplete', fields: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, error: null } },
    { reason: 'content-filter', event: 'response.incomplete', fields: { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, error: null } },
    { reason: 'error', event: 'response.failed', fields: { status: 'failed', incomplete_details: null, error: { code: 'server_error', message: 'the model stopped: MALFORMED_FUNCTION_CALL' } } },
    { reason: 'stop-sequence', event: 'response.completed', fields: { status: 'completed', incomplete_details: null, error: null } },
    { reason: 'other', event: 'response.completed', fields: { status: 'completed', incomplete_details: null, error: null } },
  ];
  for (const e of endings) {
    test(`finish ${e.reason} -> ${e.event} (${String(e.fields.status)}), with usage`, () => {
      const events = parse(encode([start, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'par' }, { type: 'finish', reason: e.reason, usage, rawReason: 'MALFORMED_FUNCTION_CALL' }]));
      const last = events.at(-1)!;
      assert.equal(last.type, e.event);
      const response = last.response as Json;
      assert.deepEqual(pick(response, e.fields), e.fields);
      assert.deepEqual(response.usage, wireUsage);
      const message = (response.output as Json[])[0];
      assert.equal(message.status, e.fields.status === 'completed' ? 'completed' : 'incomplete', 'a part still open at the finish is closed');
      assert.deepEqual(message.content, [{ type: 'output_text', text: 'par', annotations: [] }]);
    });
  }

  test('the upstream stream ends without a finish: open items closed, then response.failed', () => {
    const events = parse(encode([start, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'cut' }]));
    assert.deepEqual(types(events).slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.failed']);
    assert.equal(((events.at(-1) as Json).response as Json).status, 'failed');
  });

  test('nothing after the finish; end() after a finish adds nothing', () => {
    const encoder = responsesStreamEncoder(options());
    encoder.push(start);
    encoder.push(stop());
    assert.equal(encoder.push({ type: 'text-start', id: 't' }), '');
    assert.equal(encoder.end(), '');
  });

  test('the response object repeats the request echo and names the client model', () => {
    const echo = { instructions: 'be brief', tool_choice: 'required', parallel_tool_calls: false, temperature: 0.2, prompt_cache_key: 'k' };
    const events = parse(encode([start, stop()], options({ echo })));
    for (const event of [events[0], events.at(-1)!]) assert.deepEqual(pick(event.response as Json, { ...echo, model: 'gpt-5-codex', store: false }), { ...echo, model: 'gpt-5-codex', store: false });
  });
});

/** One of everything a Codex turn can get back, as the upstream codecs emit it. */
const codexAnswer: AnswerEvent[] = [
  start,
  { type: 'reasoning-start', id: 'r' },
  { type: 'reasoning-delta', id: 'r', delta: 'I will look.' },
  { type: 'reasoning-end', id: 'r', signature: 'gemini.c2lnLTE=' },
  { type: 'text-start', id: 't' },
  { type: 'text-delta', id: 't', delta: 'Looking ' },
  { type: 'text-delta', id: 't', delta: 'now.' },
  { type: 'text-end', id: 't', signature: 'gemini.c2lnLTI=' },
  { type: 'reasoning-start', id: 'x' },
  { type: 'reasoning-end', id: 'x', redacted: 'EqQB' },
  { type: 'tool-call-start', id: 'a', toolCallId: 'tpsig_0011223344556677_c2lnLTM', name: 'exec_command' },
  { type: 'tool-call-delta', id: 'a', delta: '{"cmd":"ls"}' },
  { type: 'tool-call-end', id: 'a' },
  { type: 'tool-call-start', id: 's', toolCallId: 'call_agent', name: 'spawn_agent' },
  { type: 'tool-call-end', id: 's' },
  { type: 'tool-call-start', id: 'p', toolCallId: 'call_patch', name: 'apply_patch' },
  { type: 'tool-call-delta', id: 'p', delta: '{"input":"*** Begin Patch\\n*** End Patch\\n"}' },
  { type: 'tool-call-end', id: 'p' },
  stop('tool-calls'),
];
const codexTools = new Map([
  ['apply_patch', { name: 'apply_patch', freeform: true }],
  ['spawn_agent', { name: 'spawn_agent', namespace: 'multi_agent_v1', freeform: false }],
]);
const codexOutput = [
  { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'I will look.' }], encrypted_content: 'gemini.c2lnLTE=' },
  { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Looking now.', annotations: [] }] },
  { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'gemini.c2lnLTI=' },
  { id: 'rs_3', type: 'reasoning', summary: [], encrypted_content: 'redacted.EqQB' },
  { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'tpsig_0011223344556677_c2lnLTM', name: 'exec_command', arguments: '{"cmd":"ls"}' },
  { id: 'fc_2', type: 'function_call', status: 'completed', call_id: 'call_agent', name: 'spawn_agent', arguments: '{}', namespace: 'multi_agent_v1' },
  { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n' },
];

describe('renderResponsesAnswer: the whole response', () => {
  test('every part as an output item, as the stream would end, with the usage and the echo', () => {
    const rendered = renderResponsesAnswer(collectAnswer(codexAnswer), options({ tools: codexTools, echo: { tool_choice: 'required' } }));
    assert.deepEqual(rendered, {
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      model: 'gpt-5-codex',
      background: false,
      previous_response_id: null,
      store: false,
      parallel_tool_calls: true,
      tool_choice: 'required',
      tools: [],
      temperature: null,
      top_p: null,
      instructions: null,
      metadata: {},
      status: 'completed',
      error: null,
      incomplete_details: null,
      output: codexOutput,
      usage: wireUsage,
    });
    const streamed = parse(encode(codexAnswer, options({ tools: codexTools, echo: { tool_choice: 'required' } }))).at(-1)!.response;
    assert.deepEqual(rendered, streamed);
  });

  test('a length finish: status incomplete, reason max_output_tokens', () => {
    const rendered = renderResponsesAnswer(collectAnswer([start, { type: 'finish', reason: 'length', usage }]), options());
    assert.deepEqual([rendered.status, rendered.incomplete_details, rendered.output], ['incomplete', { reason: 'max_output_tokens' }, []]);
  });
});

/** A fetch that answers every request with `body`, as the `openai` SDK sees a server. */
function fakeFetch(body: string, contentType: string): typeof fetch {
  return () => Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': contentType } }));
}

const callIds = (output: Json[]) => output.map((item) => item.call_id ?? item.id);

describe('what the openai SDK makes of it', () => {
  test('responses.stream: the final response has every item, call ids intact, output_text computed', async () => {
    const client = new OpenAI({ apiKey: 'test-key', baseURL: 'http://tokenpool.invalid/v1', fetch: fakeFetch(encode(codexAnswer, options({ tools: codexTools })), 'text/event-stream') });
    const stream = client.responses.stream({ model: 'gpt-5-codex', input: 'list files' });
    const seen: string[] = [];
    stream.on('event', (event: ResponseStreamEvent) => seen.push(event.type));
    const final = await stream.finalResponse();
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, 'Looking now.');
    assert.deepEqual(callIds(final.output as unknown as Json[]), callIds(codexOutput));
    assert.deepEqual(final.usage, wireUsage);
    assert.ok(seen.includes('response.custom_tool_call_input.delta') && seen.includes('response.reasoning_summary_text.delta'));
  });

  test('the SDK accumulator, fed every event before response.completed, builds the same output as response.completed carries', () => {
    const events = parse(encode(codexAnswer, options({ tools: codexTools }))) as unknown as ResponseStreamEvent[];
    let snapshot: OpenAIResponse | undefined;
    for (const event of events.slice(0, -1)) snapshot = accumulateResponse(event, snapshot);
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    assert.deepEqual(snapshot!.output, completed.response.output);
    assert.equal(snapshot!.output_text, 'Looking now.');
  });

  test('responses.create (not streamed): the rendered response parses, output_text computed', async () => {
    const rendered = renderResponsesAnswer(collectAnswer(codexAnswer), options({ tools: codexTools }));
    const client = new OpenAI({ apiKey: 'test-key', baseURL: 'http://tokenpool.invalid/v1', fetch: fakeFetch(JSON.stringify(rendered), 'application/json') });
    const response = await client.responses.create({ model: 'gpt-5-codex', input: 'list files' });
    assert.equal(response.output_text, 'Looking now.');
    assert.deepEqual(callIds(response.output as unknown as Json[]), callIds(codexOutput));
  });
});

describe('the next turn: what Codex sends back restores the answer', () => {
  test('output items as input: reasoning signatures, call ids, namespaces and freeform calls come back as they were', () => {
    const body = {
      model: 'gpt-5-codex',
      tools: [
        { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } },
        { type: 'custom', name: 'apply_patch', format: { type: 'text' } },
        { type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }] },
      ],
      input: [{ role: 'user', content: 'go' }, ...codexOutput, { type: 'function_call_output', call_id: 'call_agent', output: 'spawned' }],
    };
    const { request, answer } = fromResponsesRequest(body, 'gemini-3-pro-preview');
    assert.deepEqual(answer.tools, new Map([['exec_command', { name: 'exec_command', freeform: false }], ...codexTools]));
    assert.deepEqual(request.messages.slice(1), [
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: 'I will look.', signature: 'gemini.c2lnLTE=' },
          { type: 'text', text: 'Looking now.' },
          // The text's signature, in the reasoning item after it: the Gemini encoder gives it back to the text.
          { type: 'reasoning', text: '', signature: 'gemini.c2lnLTI=' },
          { type: 'reasoning', text: '', redacted: 'EqQB' },
          { type: 'tool-call', id: 'tpsig_0011223344556677_c2lnLTM', name: 'exec_command', input: { cmd: 'ls' } },
          { type: 'tool-call', id: 'call_agent', name: 'spawn_agent', input: {} },
          { type: 'tool-call', id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n', freeform: true },
        ],
      },
      { role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'call_agent', toolName: 'spawn_agent', output: [{ type: 'text', text: 'spawned' }] }] },
    ]);
  });
});

const isPlain = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields of `actual` that `expected` names, in nested objects too (the rest of a response object is checked elsewhere). */
function pick(actual: Json, expected: Json): Json {
  return Object.fromEntries(
    Object.keys(expected).map((key) => {
      const value = actual[key];
      const want = expected[key];
      return [key, isPlain(want) && isPlain(value) ? pick(value, want) : value];
    }),
  );
}
