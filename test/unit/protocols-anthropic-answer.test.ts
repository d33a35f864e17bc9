import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicAnswerDecoder, anthropicStreamEncoder, renderAnthropicAnswer } from '../../src/protocols/anthropic';
import { collectAnswer, type AnswerEvent, type FinishReason } from '../../src/protocols/conversation';

const sse = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** Claude's stream as Vertex sends it: thinking with a signature, text, a tool call, usage with cache counters. */
const claudeStream = [
  sse('message_start', { message: { id: 'msg_vrtx_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 20, output_tokens: 1 } } }),
  sse('ping', {}),
  sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'see.' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCkYIBRgC' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Running ' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'ls — ok' } }),
  sse('content_block_stop', { index: 1 }),
  sse('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: {} } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"command": ' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '"ls"}' } }),
  sse('content_block_stop', { index: 2 }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }),
  sse('message_stop', {}),
].join('');

const claudeEvents: AnswerEvent[] = [
  { type: 'response-start', id: 'msg_vrtx_01', model: 'claude-sonnet-4-5' },
  { type: 'reasoning-start', id: 'b0' },
  { type: 'reasoning-delta', id: 'b0', delta: 'Let me ' },
  { type: 'reasoning-delta', id: 'b0', delta: 'see.' },
  { type: 'reasoning-end', id: 'b0', signature: 'EqQBCkYIBRgC' },
  { type: 'text-start', id: 'b1' },
  { type: 'text-delta', id: 'b1', delta: 'Running ' },
  { type: 'text-delta', id: 'b1', delta: 'ls — ok' },
  { type: 'text-end', id: 'b1' },
  { type: 'tool-call-start', id: 'b2', toolCallId: 'toolu_01', name: 'Bash' },
  { type: 'tool-call-delta', id: 'b2', delta: '{"command": ' },
  { type: 'tool-call-delta', id: 'b2', delta: '"ls"}' },
  { type: 'tool-call-end', id: 'b2' },
  { type: 'finish', reason: 'tool-calls', rawReason: 'tool_use', usage: { inputTokens: 35, cachedInputTokens: 20, outputTokens: 42 } },
];

/** Feeds `text` to a decoder in pieces of `size` characters (0: whole). */
function decode(text: string, size = 0, stream = true): AnswerEvent[] {
  const decoder = anthropicAnswerDecoder({ stream });
  const out: AnswerEvent[] = [];
  const step = size || text.length || 1;
  for (let i = 0; i < text.length; i += step) out.push(...decoder.push(text.slice(i, i + step)));
  return [...out, ...decoder.end()];
}

const lastOf = (events: AnswerEvent[]) => events.at(-1);

describe('anthropicAnswerDecoder: Claude SSE -> events', () => {
  test('a whole stream', () => assert.deepEqual(decode(claudeStream), claudeEvents));
  for (const size of [1, 2, 7, 13, 64]) {
    test(`split every ${size} characters (inside lines, JSON and multi-byte text)`, () => assert.deepEqual(decode(claudeStream, size), claudeEvents));
  }
  test('CRLF line endings', () => assert.deepEqual(decode(claudeStream.replaceAll('\n', '\r\n'), 5), claudeEvents));
  test('events come out as their bytes arrive, not at the end', () => {
    const decoder = anthropicAnswerDecoder({ stream: true });
    const cut = claudeStream.indexOf('event: content_block_stop');
    assert.deepEqual(decoder.push(claudeStream.slice(0, cut)).map((e) => e.type), ['response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta']);
  });

  const stops: [string, FinishReason][] = [
    ['end_turn', 'stop'], ['max_tokens', 'length'], ['tool_use', 'tool-calls'], ['stop_sequence', 'stop-sequence'],
    ['refusal', 'content-filter'], ['pause_turn', 'other'], ['model_context_window_exceeded', 'length'],
  ];
  for (const [stopReason, reason] of stops) {
    test(`stop_reason ${stopReason} -> ${reason}`, () => {
      const text = sse('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 3, output_tokens: 0 } } }) +
        sse('message_delta', { delta: { stop_reason: stopReason, stop_sequence: stopReason === 'stop_sequence' ? 'END' : null }, usage: { output_tokens: 2 } }) + sse('message_stop', {});
      assert.deepEqual(lastOf(decode(text)), {
        type: 'finish', reason, rawReason: stopReason, usage: { inputTokens: 3, outputTokens: 2 }, ...(stopReason === 'stop_sequence' ? { stopSequence: 'END' } : {}),
        ...(stopReason === 'refusal' ? { message: 'Claude declined to answer.' } : {}),
      });
    });
  }

  test('usage: message_delta totals replace message_start ones; thinking tokens kept', () => {
    const text = sse('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 3, output_tokens: 1 } } }) +
      sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 7, cache_read_input_tokens: 4, output_tokens: 9, output_tokens_details: { thinking_tokens: 5 } } }) + sse('message_stop', {});
    assert.deepEqual(lastOf(decode(text)), { type: 'finish', reason: 'stop', rawReason: 'end_turn', usage: { inputTokens: 11, cachedInputTokens: 4, outputTokens: 9, reasoningTokens: 5 } });
  });

  test('redacted_thinking -> reasoning with redacted data', () => {
    const text = sse('message_start', { message: { id: 'm', model: 'c' } }) +
      sse('content_block_start', { index: 0, content_block: { type: 'redacted_thinking', data: 'EmwKAhgB' } }) + sse('content_block_stop', { index: 0 }) +
      sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }) + sse('message_stop', {});
    assert.deepEqual(decode(text).slice(1, 3), [{ type: 'reasoning-start', id: 'b0' }, { type: 'reasoning-end', id: 'b0', redacted: 'EmwKAhgB' }]);
  });

  test('server tool blocks (Anthropic ran the search) are skipped, their deltas too; text citations ignored', () => {
    const text = sse('message_start', { message: { id: 'm', model: 'c' } }) +
      sse('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }) +
      sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } }) + sse('content_block_stop', { index: 0 }) +
      sse('content_block_start', { index: 1, content_block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] } }) + sse('content_block_stop', { index: 1 }) +
      sse('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }) +
      sse('content_block_delta', { index: 2, delta: { type: 'citations_delta', citation: { type: 'web_search_result_location' } } }) +
      sse('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'found' } }) + sse('content_block_stop', { index: 2 }) +
      sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }) + sse('message_stop', {});
    assert.deepEqual(decode(text).slice(1, -1), [{ type: 'text-start', id: 'b2' }, { type: 'text-delta', id: 'b2', delta: 'found' }, { type: 'text-end', id: 'b2' }]);
  });

  test('an error event -> finish error with the upstream type and message', () => {
    const text = claudeStream.slice(0, claudeStream.indexOf('event: content_block_stop')) + sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }) + sse('message_stop', {});
    const events = decode(text);
    assert.deepEqual(events.slice(-2), [
      { type: 'reasoning-end', id: 'b0', signature: 'EqQBCkYIBRgC' },
      { type: 'finish', reason: 'error', rawReason: 'overloaded_error: Overloaded', message: "Claude's answer failed: overloaded_error: Overloaded", usage: { inputTokens: 35, cachedInputTokens: 20, outputTokens: 1 } },
    ]);
  });

  test('a stream cut before message_stop: open parts closed, finish error', () => {
    const text = claudeStream.slice(0, claudeStream.indexOf('event: content_block_stop'));
    assert.deepEqual(decode(text).slice(-2), [
      { type: 'reasoning-end', id: 'b0', signature: 'EqQBCkYIBRgC' },
      { type: 'finish', reason: 'error', rawReason: 'the upstream stream ended before message_stop', message: "Claude's answer failed: the upstream stream ended before message_stop", usage: { inputTokens: 35, cachedInputTokens: 20, outputTokens: 1 } },
    ]);
  });

  test('a cut after message_delta keeps its stop reason', () => {
    const text = claudeStream.slice(0, claudeStream.indexOf('event: message_stop'));
    assert.deepEqual(lastOf(decode(text)), lastOf(claudeEvents));
  });

  test('a last event without its blank line is still read at the end', () => {
    const text = claudeStream.slice(0, claudeStream.indexOf('event: message_stop')).trimEnd();
    assert.deepEqual(decode(text), claudeEvents);
  });

  test('an empty body: a start and a finish error', () => {
    assert.deepEqual(decode(''), [
      { type: 'response-start', id: '', model: '' },
      { type: 'finish', reason: 'error', rawReason: 'the upstream stream ended before message_stop', message: "Claude's answer failed: the upstream stream ended before message_stop", usage: { inputTokens: 0, outputTokens: 0 } },
    ]);
  });
});

describe('anthropicAnswerDecoder: freeform tools (Codex apply_patch on Claude)', () => {
  test('the call is marked freeform and its raw input is one delta at the end', () => {
    const text = [
      sse('message_start', { message: { id: 'msg_1', model: 'claude', content: [], usage: { input_tokens: 3, output_tokens: 0 } } }),
      sse('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'apply_patch', input: {} } }),
      sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"input": "*** Begin' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: ' Patch\\n"}' } }),
      sse('content_block_stop', { index: 0 }),
      sse('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }),
      sse('message_stop', {}),
    ].join('');
    const decoder = anthropicAnswerDecoder({ stream: true, freeformTools: ['apply_patch'] });
    const events = [...decoder.push(text), ...decoder.end()];
    assert.deepEqual(events.slice(1, 4), [
      { type: 'tool-call-start', id: 'b0', toolCallId: 'toolu_1', name: 'apply_patch', freeform: true },
      { type: 'tool-call-delta', id: 'b0', delta: '*** Begin Patch\n' },
      { type: 'tool-call-end', id: 'b0' },
    ]);
  });
});

describe('anthropicAnswerDecoder: one Messages JSON (not streamed)', () => {
  const message = {
    id: 'msg_vrtx_02', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
    content: [
      { type: 'thinking', thinking: 'hm', signature: 'EqQB' },
      { type: 'text', text: 'Here.' },
      { type: 'tool_use', id: 'toolu_02', name: 'Read', input: { path: 'a.txt' } },
      { type: 'tool_use', id: 'toolu_03', name: 'Now', input: {} },
    ],
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 12, cache_read_input_tokens: 0, output_tokens: 30 },
  };
  test('the same events a stream would give, read at end()', () => {
    const decoder = anthropicAnswerDecoder({ stream: false });
    const text = JSON.stringify(message);
    assert.deepEqual(decoder.push(text.slice(0, 40)), []);
    assert.deepEqual([...decoder.push(text.slice(40)), ...decoder.end()], [
      { type: 'response-start', id: 'msg_vrtx_02', model: 'claude-sonnet-4-5' },
      { type: 'reasoning-start', id: 'b0' },
      { type: 'reasoning-delta', id: 'b0', delta: 'hm' },
      { type: 'reasoning-end', id: 'b0', signature: 'EqQB' },
      { type: 'text-start', id: 'b1' },
      { type: 'text-delta', id: 'b1', delta: 'Here.' },
      { type: 'text-end', id: 'b1' },
      { type: 'tool-call-start', id: 'b2', toolCallId: 'toolu_02', name: 'Read' },
      { type: 'tool-call-delta', id: 'b2', delta: '{"path":"a.txt"}' },
      { type: 'tool-call-end', id: 'b2' },
      { type: 'tool-call-start', id: 'b3', toolCallId: 'toolu_03', name: 'Now' },
      { type: 'tool-call-delta', id: 'b3', delta: '{}' },
      { type: 'tool-call-end', id: 'b3' },
      { type: 'finish', reason: 'tool-calls', rawReason: 'tool_use', usage: { inputTokens: 12, outputTokens: 30 } },
    ]);
  });
  test('collected: parts with parsed inputs', () => {
    assert.deepEqual(collectAnswer(decode(JSON.stringify(message), 0, false)).parts, [
      { type: 'reasoning', text: 'hm', signature: 'EqQB' },
      { type: 'text', text: 'Here.' },
      { type: 'tool-call', id: 'toolu_02', name: 'Read', input: { path: 'a.txt' } },
      { type: 'tool-call', id: 'toolu_03', name: 'Now', input: {} },
    ]);
  });
  test('an error body -> finish error', () => {
    assert.deepEqual(lastOf(decode('{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}', 0, false)), {
      type: 'finish', reason: 'error', rawReason: 'invalid_request_error: bad', message: "Claude's answer failed: invalid_request_error: bad", usage: { inputTokens: 0, outputTokens: 0 },
    });
  });
  test('an unparsable body -> finish error', () => {
    assert.equal((lastOf(decode('{"id":', 0, false)) as { reason: string }).reason, 'error');
  });
});

/** Encodes events one at a time, returning what each push wrote. */
function encode(events: AnswerEvent[], model = 'claude-opus-4-1'): string[] {
  const encoder = anthropicStreamEncoder({ model });
  return [...events.map((e) => encoder.push(e)), encoder.end()];
}

const finish = (reason: FinishReason, extra: object = {}): AnswerEvent => ({ type: 'finish', reason, usage: { inputTokens: 30, cachedInputTokens: 20, outputTokens: 7 }, ...extra });

describe('anthropicStreamEncoder: events -> Anthropic SSE', () => {
  test('exact text of a Gemini answer with a thought, text and a tool call, one write per event', () => {
    const writes = encode([
      { type: 'response-start', id: 'resp-1', model: 'gemini-2.5-pro' },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'thinking about it' },
      { type: 'reasoning-end', id: 'r', signature: 'gemini.c2lnLTE=' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Hi' },
      { type: 'text-end', id: 't' },
      { type: 'tool-call-start', id: 'c', toolCallId: 'tpsig_00_c2ln', name: 'Bash' },
      { type: 'tool-call-delta', id: 'c', delta: '{"command":"ls"}' },
      { type: 'tool-call-end', id: 'c' },
      finish('tool-calls'),
    ]);
    assert.deepEqual(writes, [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_resp-1","type":"message","role":"assistant","model":"claude-opus-4-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}\n\n' +
        'event: ping\ndata: {"type":"ping"}\n\n',
      '',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"thinking about it"}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"gemini.c2lnLTE="}}\n\n' +
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
      '',
      'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"tpsig_00_c2ln","name":"Bash","input":{}}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"command\\":\\"ls\\"}"}}\n\n',
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":10,"output_tokens":7,"cache_read_input_tokens":20}}\n\n' +
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      '',
    ]);
  });

  test("a text part's signature -> an empty thinking block carrying it, right after the text", () => {
    const text = encode([{ type: 'response-start', id: 'r', model: 'g' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'ok' }, { type: 'text-end', id: 't', signature: 'gemini.dGV4dA==' }, finish('stop')]).join('');
    assert.ok(text.includes(
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"gemini.dGV4dA=="}}\n\n' +
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n' +
      'event: message_delta'), text);
  });

  test('an empty text part or unsigned empty reasoning makes no block', () => {
    const writes = encode([{ type: 'response-start', id: 'r', model: 'g' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: '' }, { type: 'text-end', id: 't' },
      { type: 'reasoning-start', id: 'r' }, { type: 'reasoning-end', id: 'r' }, { type: 'text-start', id: 'u' }, { type: 'text-delta', id: 'u', delta: 'x' }, { type: 'text-end', id: 'u' }, finish('stop')]);
    assert.deepEqual(writes.slice(1, 6), ['', '', '', '', '']);
    assert.ok(writes[7].includes('"index":0,"content_block":{"type":"text","text":""}'), writes[7]);
  });

  test('an empty text part with a signature -> only the signature block', () => {
    const writes = encode([{ type: 'text-start', id: 't' }, { type: 'text-end', id: 't', signature: 'gemini.cw==' }]);
    assert.ok(writes[1].startsWith('event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}'), writes[1]);
  });

  test('redacted reasoning -> a redacted_thinking block', () => {
    const text = encode([{ type: 'reasoning-start', id: 'r' }, { type: 'reasoning-end', id: 'r', redacted: 'EmwK' }, finish('stop')]).join('');
    assert.ok(text.includes('"index":0,"content_block":{"type":"redacted_thinking","data":"EmwK"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'), text);
  });

  test('a signed reasoning part with no text is still a thinking block with its signature', () => {
    const text = encode([{ type: 'reasoning-start', id: 'r' }, { type: 'reasoning-end', id: 'r', signature: 'gemini.eA==' }, finish('stop')]).join('');
    assert.ok(text.includes('"content_block":{"type":"thinking","thinking":"","signature":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"gemini.eA=="}}'), text);
  });

  const stops: [FinishReason, string][] = [
    ['stop', 'end_turn'], ['length', 'max_tokens'], ['tool-calls', 'tool_use'], ['stop-sequence', 'stop_sequence'],
    ['content-filter', 'refusal'], ['other', 'end_turn'],
  ];
  test('later text deltas of a block are the same bytes as the first one\'s shape (quotes, newlines, unicode escaped)', () => {
    const delta = 'say "hi"\n— ok \u2028';
    const text = encode([{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'a' }, { type: 'text-delta', id: 't', delta }, finish('stop')]).join('');
    const expected = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: delta } })}\n\n`;
    assert.ok(text.includes(expected), text);
  });

  test('finish error -> an error event after the open blocks close, and no message_stop', () => {
    const text = encode([{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'par' }, finish('error', { rawReason: 'UNAVAILABLE' })]).join('');
    assert.ok(text.endsWith('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: error\ndata: {"type":"error","error":{"type":"api_error","message":"The upstream answer failed: UNAVAILABLE"}}\n\n'), text);
    assert.ok(!text.includes('message_stop'));
  });
  for (const [reason, stopReason] of stops) {
    test(`finish ${reason} -> stop_reason ${stopReason}`, () => {
      const text = encode([finish(reason, { stopSequence: 'END' })]).join('');
      const sequence = reason === 'stop-sequence' ? '"END"' : 'null';
      assert.ok(text.includes(`"delta":{"stop_reason":"${stopReason}","stop_sequence":${sequence}}`), text);
    });
  }

  test('no response-start: message_start comes first anyway, with a msg_ id', () => {
    const [first] = encode([{ type: 'tool-call-start', id: 'c', toolCallId: 'call_1', name: 'f' }, finish('stop')]);
    assert.match(first, /^event: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_[0-9a-f]{24}",.*\n\nevent: ping\n.*\n\nevent: content_block_start\n/s);
  });

  test('end() without a finish closes open blocks and the message', () => {
    const writes = encode([{ type: 'response-start', id: 'msg_x', model: 'g' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'par' }]);
    assert.equal(writes.at(-1),
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n');
  });

  test('finish closes a block left open; nothing is written after message_stop', () => {
    const writes = encode([{ type: 'tool-call-start', id: 'c', toolCallId: 'call_1', name: 'f' }, finish('tool-calls'), { type: 'text-start', id: 'late' }]);
    assert.ok(writes[1].startsWith('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: message_delta'), writes[1]);
    assert.deepEqual(writes.slice(2), ['', '']);
  });

  test('decoding our own stream gives the events back', () => {
    const events = claudeEvents.map((e) => (e.type === 'response-start' ? { ...e, model: 'claude-opus-4-1' } : e));
    assert.deepEqual(decode(encode(events).join('')), events);
  });
});

describe("the Anthropic SDK's own stream accumulator reads our stream", () => {
  test('messages.stream().finalMessage() against our SSE over HTTP', async () => {
    const body = encode([
      { type: 'response-start', id: 'resp-9', model: 'gemini-2.5-pro' },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'thinking' },
      { type: 'reasoning-end', id: 'r', signature: 'gemini.c2ln' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'He' },
      { type: 'text-delta', id: 't', delta: 'llo' },
      { type: 'text-end', id: 't', signature: 'gemini.dA==' },
      { type: 'tool-call-start', id: 'c', toolCallId: 'call_7', name: 'Bash' },
      { type: 'tool-call-delta', id: 'c', delta: '{"comm' },
      { type: 'tool-call-delta', id: 'c', delta: 'and":"ls"}' },
      { type: 'tool-call-end', id: 'c' },
      finish('tool-calls'),
    ]).join('');
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new Anthropic({ apiKey: 'test-key', baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRetries: 0 });
      const message = await client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
      assert.equal(message.id, 'msg_resp-9');
      assert.equal(message.model, 'claude-opus-4-1');
      assert.deepEqual(message.content, [
        { type: 'thinking', thinking: 'thinking', signature: 'gemini.c2ln' },
        { type: 'text', text: 'Hello' },
        { type: 'thinking', thinking: '', signature: 'gemini.dA==' },
        { type: 'tool_use', id: 'call_7', name: 'Bash', input: { command: 'ls' } },
      ]);
      assert.equal(message.stop_reason, 'tool_use');
      assert.deepEqual(message.usage, { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 20 });
    } finally {
      server.close();
    }
  });
});

describe('renderAnthropicAnswer: the whole Messages JSON', () => {
  test('every part kind, signatures, usage and stop sequence', () => {
    const rendered = renderAnthropicAnswer({
      id: 'resp-3',
      model: 'gemini-2.5-pro',
      parts: [
        { type: 'reasoning', text: 'hm', signature: 'gemini.c2ln' },
        { type: 'reasoning', text: '', redacted: 'EmwK' },
        { type: 'text', text: 'done', signature: 'gemini.dA==' },
        { type: 'tool-call', id: 'call_1', name: 'Bash', input: { command: 'ls' } },
        { type: 'tool-call', id: 'call_2', name: 'Bash', input: 'not json' },
      ],
      finish: { type: 'finish', reason: 'stop-sequence', stopSequence: 'END', usage: { inputTokens: 30, cachedInputTokens: 20, outputTokens: 7 } },
    }, 'claude-haiku-4-5');
    assert.deepEqual(rendered, {
      id: 'msg_resp-3',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [
        { type: 'thinking', thinking: 'hm', signature: 'gemini.c2ln' },
        { type: 'redacted_thinking', data: 'EmwK' },
        { type: 'text', text: 'done' },
        { type: 'thinking', thinking: '', signature: 'gemini.dA==' },
        { type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'ls' } },
        { type: 'tool_use', id: 'call_2', name: 'Bash', input: {} },
      ],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
      usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 20 },
    });
  });
  for (const [reason, stopReason] of [['stop', 'end_turn'], ['length', 'max_tokens'], ['tool-calls', 'tool_use'], ['content-filter', 'refusal'], ['error', 'end_turn']] as const) {
    test(`${reason} -> ${stopReason}, no stop_sequence`, () => {
      const rendered = renderAnthropicAnswer({ id: 'msg_1', model: 'g', parts: [], finish: { type: 'finish', reason, usage: { inputTokens: 1, outputTokens: 2 } } }, 'c');
      assert.deepEqual([rendered.id, rendered.stop_reason, rendered.stop_sequence, rendered.usage], ['msg_1', stopReason, null, { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 0 }]);
    });
  }
});
