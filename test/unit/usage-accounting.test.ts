/**
 * The bookkeeping's pure parts (DESIGN section 11), as tables: every protocol's usage shape read
 * into one token shape, the usage found in bytes as they pass (split anywhere, escaped keys, null
 * usage), the outcome of each way a request can end, and the aggregates' rows and quantiles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BucketTable, HOUR_S, groupRows, quantileMs, LATENCY_BOUNDS_MS } from '../../src/core/usage/aggregates';
import { requestOutcome, type RequestEnd, type RequestOutcome, type RequestRecord } from '../../src/core/usage/record';
import { anthropicTokens, geminiTokens, neutralTokens, openaiTokens, tokensFrom, type UsageFormat } from '../../src/core/usage/tokens';
import { UsageScanner } from '../../src/core/usage/usageScanner';

describe('tokens from each protocol’s usage', () => {
  const cases: { name: string; got: () => unknown; want: { input: number; output: number; cached: number; thinking: number } }[] = [
    {
      name: 'Gemini usageMetadata with thoughts and cache',
      got: () => geminiTokens({ promptTokenCount: 120, candidatesTokenCount: 30, thoughtsTokenCount: 50, cachedContentTokenCount: 100, totalTokenCount: 200 }),
      want: { input: 120, output: 30, cached: 100, thinking: 50 },
    },
    { name: 'Gemini usageMetadata of a blocked prompt (prompt only)', got: () => geminiTokens({ promptTokenCount: 9, totalTokenCount: 9 }), want: { input: 9, output: 0, cached: 0, thinking: 0 } },
    {
      name: 'Anthropic message_start then message_delta (cache reads and writes are input)',
      got: () =>
        anthropicTokens(
          { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 1 },
          { output_tokens: 77 },
        ),
      want: { input: 1210, output: 77, cached: 1000, thinking: 0 },
    },
    {
      name: 'Anthropic message_delta that repeats the input counts',
      got: () => anthropicTokens({ input_tokens: 10, output_tokens: 1 }, { input_tokens: 12, output_tokens: 40, output_tokens_details: { thinking_tokens: 15 } }),
      want: { input: 12, output: 25, cached: 0, thinking: 15 },
    },
    {
      name: 'OpenAI usage with cached and reasoning details',
      got: () =>
        openaiTokens({ prompt_tokens: 50, completion_tokens: 70, total_tokens: 120, prompt_tokens_details: { cached_tokens: 20 }, completion_tokens_details: { reasoning_tokens: 30 } }),
      want: { input: 50, output: 40, cached: 20, thinking: 30 },
    },
    { name: 'OpenAI usage without details', got: () => openaiTokens({ prompt_tokens: 5, completion_tokens: 7 }), want: { input: 5, output: 7, cached: 0, thinking: 0 } },
    { name: 'the neutral usage of a translated answer', got: () => neutralTokens({ inputTokens: 8, outputTokens: 20, reasoningTokens: 5, cachedInputTokens: 2 }), want: { input: 8, output: 15, cached: 2, thinking: 5 } },
    { name: 'garbage counts are zero', got: () => geminiTokens({ promptTokenCount: 'many', candidatesTokenCount: -3 }), want: { input: 0, output: 0, cached: 0, thinking: 0 } },
    { name: 'no usage at all', got: () => tokensFrom('anthropic', undefined, undefined), want: { input: 0, output: 0, cached: 0, thinking: 0 } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(c.got(), c.want));
});

/** Feeds `text` to a scanner cut into pieces at `cuts`, and reads the tokens. */
function scan(format: UsageFormat, text: string, cuts: number[] = []): ReturnType<typeof tokensFrom> {
  const scanner = new UsageScanner(format, { first: format === 'anthropic' });
  const bytes = Buffer.from(text);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(bytes.subarray(at, cut));
    at = cut;
  }
  const { first, last } = scanner.result();
  return tokensFrom(format, first, last);
}

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\r\n\r\n`;
const GEMINI_STREAM =
  sse({ candidates: [{ content: { parts: [{ text: 'say "usageMetadata": {"promptTokenCount": 999}' }] } }], usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 2 } }) +
  sse({ candidates: [{ content: { parts: [{ text: ' more' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 9, thoughtsTokenCount: 4 } });
const ANTHROPIC_STREAM = [
  `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', usage: { input_tokens: 21, cache_read_input_tokens: 4, output_tokens: 1 } } })}\n\n`,
  `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"usage": {"output_tokens": 5000}' } })}\n\n`,
  `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 33 } })}\n\n`,
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join('');
const OPENAI_STREAM =
  sse({ choices: [{ delta: { content: 'hi' } }], usage: null }) + sse({ choices: [], usage: { prompt_tokens: 6, completion_tokens: 3 } }) + 'data: [DONE]\n\n';

describe('usage read from bytes as they pass', () => {
  const wantGemini = { input: 11, output: 9, cached: 0, thinking: 4 };
  const wantAnthropic = { input: 25, output: 33, cached: 4, thinking: 0 };
  const wantOpenai = { input: 6, output: 3, cached: 0, thinking: 0 };
  test('Gemini SSE: the last usageMetadata, not one quoted in the text', () => assert.deepEqual(scan('gemini', GEMINI_STREAM), wantGemini));
  test('Gemini as a JSON array (no alt=sse)', () => {
    const array = `[${JSON.stringify({ usageMetadata: { promptTokenCount: 3 } })},\r\n${JSON.stringify({ usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 8 } })}]`;
    assert.deepEqual(scan('gemini', array), { input: 3, output: 8, cached: 0, thinking: 0 });
  });
  test('Anthropic SSE: message_start input, message_delta output; a "usage" inside a tool’s JSON is no hit', () =>
    assert.deepEqual(scan('anthropic', ANTHROPIC_STREAM), wantAnthropic));
  test('OpenAI SSE: usage null before the last chunk', () => assert.deepEqual(scan('openai', OPENAI_STREAM), wantOpenai));
  test('a whole (non-streamed) answer', () => {
    const whole = JSON.stringify({ id: 'x', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 5, output_tokens: 6 } });
    assert.deepEqual(scan('anthropic', whole), { input: 5, output: 6, cached: 0, thinking: 0 });
  });

  // Every cut point, and every pair of cut points, of the streams: a key or an object split anywhere.
  for (const [format, text, want] of [
    ['gemini', GEMINI_STREAM, wantGemini],
    ['anthropic', ANTHROPIC_STREAM, wantAnthropic],
    ['openai', OPENAI_STREAM, wantOpenai],
  ] as const) {
    test(`${format}: the same tokens wherever the chunks are cut`, () => {
      for (let cut = 1; cut < text.length; cut++) assert.deepEqual(scan(format, text, [cut]), want, `cut at ${cut}`);
      assert.deepEqual(scan(format, text, Array.from({ length: text.length - 1 }, (_, i) => i + 1)), want, 'one byte at a time');
      for (let a = 1; a < text.length; a += 7) {
        for (let b = a + 1; b < text.length; b += 5) assert.deepEqual(scan(format, text, [a, b]), want, `cut at ${a} and ${b}`);
      }
    });
  }

  test('a stream cut after its first byte: the usage seen so far', () => {
    const firstEvent = GEMINI_STREAM.slice(0, GEMINI_STREAM.indexOf('\r\n\r\n') + 4);
    assert.deepEqual(scan('gemini', firstEvent + 'data: {"candidates": [{"content'), { input: 11, output: 2, cached: 0, thinking: 0 });
    assert.deepEqual(scan('anthropic', ANTHROPIC_STREAM.slice(0, 150)), { input: 25, output: 1, cached: 4, thinking: 0 });
  });
  test('an answer with no usage at all', () => assert.deepEqual(scan('gemini', sse({ candidates: [] })), { input: 0, output: 0, cached: 0, thinking: 0 }));
});

describe('the outcome of a request', () => {
  const base: RequestEnd = { committed: false, started: false, completed: false, clientGone: false, refused: false, failures: 0 };
  const cases: [string, Partial<RequestEnd>, RequestOutcome][] = [
    ['committed and sent whole', { committed: true, started: true, completed: true }, 'ok'],
    ['ok after two failed attempts', { committed: true, started: true, completed: true, failures: 2 }, 'ok'],
    ['the client went away before an account answered', { clientGone: true, failures: 1 }, 'cancelled'],
    ['the client went away mid-stream', { committed: true, started: true, clientGone: true }, 'cancelled'],
    ['a stream broken after its first byte', { committed: true, started: true }, 'cut'],
    ['a committed answer broken before its first byte (502)', { committed: true }, 'upstream_error'],
    ["the upstream refused the client's request", { refused: true, failures: 1 }, 'client_error'],
    ['no account could take it', {}, 'no_account'],
    ['every attempt failed', { failures: 3 }, 'upstream_error'],
    ['attempts failed, then no account was left', { failures: 1 }, 'upstream_error'],
  ];
  for (const [name, end, want] of cases) test(name, () => assert.equal(requestOutcome({ ...base, ...end }), want));
});

const record = (over: Partial<RequestRecord>): RequestRecord => ({
  id: 'r', time: '2026-01-01T00:00:00.000Z', protocol: 'gemini', model: 'm', upstream_model: 'm', account: 'a@x', status: 200, outcome: 'ok',
  stream: false, attempts: [], input_tokens: 1, output_tokens: 2, cached_tokens: 0, thinking_tokens: 0, ttfb_ms: 5, duration_ms: 100, ...over,
});

describe('aggregates', () => {
  test('quantiles interpolate within a latency bucket; an empty histogram has none', () => {
    const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    assert.equal(quantileMs(latency, 0.5), null);
    latency[0] = 10; // ten requests up to 100 ms
    assert.equal(quantileMs(latency, 0.5), 50);
    latency[3] = 10; // ten between 500 ms and 1 s
    assert.equal(quantileMs(latency, 0.5), 100);
    assert.equal(quantileMs(latency, 0.95), 950);
  });

  test('rows group by the keys asked for, sorted by time then account then model', () => {
    const table = new BucketTable(HOUR_S);
    const t0 = Date.parse('2026-01-01T10:15:00Z') / 1000;
    table.add(t0, record({ account: 'b@x', upstream_model: 'pro', input_tokens: 10 }));
    table.add(t0 + 60, record({ account: 'a@x', upstream_model: 'pro', outcome: 'cut' }));
    table.add(t0 + 3600, record({ account: 'a@x', upstream_model: 'flash', outcome: 'cancelled', duration_ms: 3000 }));
    table.add(t0 + 3600, record({ account: null, upstream_model: 'flash', outcome: 'no_account' }));
    const rows = groupRows(table.rows(t0 - 3600, t0 + 7200), ['hour', 'account']);
    assert.deepEqual(
      rows.map((r) => [r.hour, r.account, r.requests, r.ok, r.errors, r.input_tokens]),
      [
        ['2026-01-01T10:00:00Z', 'a@x', 1, 0, 1, 1],
        ['2026-01-01T10:00:00Z', 'b@x', 1, 1, 0, 10],
        ['2026-01-01T11:00:00Z', null, 1, 0, 1, 1],
        ['2026-01-01T11:00:00Z', 'a@x', 1, 0, 0, 1],
      ],
    );
    assert.deepEqual(groupRows(table.rows(t0 + 3600, t0 + 7200), ['model']).map((r) => [r.model, r.requests]), [['flash', 2]]);
  });
});
