/**
 * Why an answer ended, in every client protocol (issue 16, item 3): every `finishReason` and
 * `promptFeedback.blockReason` Google documents, with `finishMessage` / `blockReasonMessage`,
 * becomes a neutral finish with a message, and each client codec says it its own way. The tables
 * end in what the real SDKs hand their user.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnswerEvent, FinishReason } from '../../src/protocols/conversation';
import { anthropicReads, chatReads, decodeUpstream, encodeFor, responsesReads } from '../helpers/client-view';

const sse = (...chunks: object[]): string => chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
const finishOf = (events: AnswerEvent[]) => events.at(-1) as Extract<AnswerEvent, { type: 'finish' }>;

/** Every FinishReason value, with the neutral reason it must become (a new SDK value without a row fails the coverage test). */
const FINISH_ROWS: Record<string, { reason: FinishReason; says: boolean }> = {
  STOP: { reason: 'stop', says: false },
  MAX_TOKENS: { reason: 'length', says: false },
  CONTINUATION: { reason: 'length', says: false },
  SAFETY: { reason: 'content-filter', says: true },
  RECITATION: { reason: 'content-filter', says: true },
  BLOCKLIST: { reason: 'content-filter', says: true },
  PROHIBITED_CONTENT: { reason: 'content-filter', says: true },
  SPII: { reason: 'content-filter', says: true },
  IMAGE_SAFETY: { reason: 'content-filter', says: true },
  IMAGE_PROHIBITED_CONTENT: { reason: 'content-filter', says: true },
  IMAGE_RECITATION: { reason: 'content-filter', says: true },
  MODEL_ARMOR: { reason: 'content-filter', says: true },
  MALFORMED_FUNCTION_CALL: { reason: 'error', says: true },
  UNEXPECTED_TOOL_CALL: { reason: 'error', says: true },
  TOO_MANY_TOOL_CALLS: { reason: 'other', says: true },
  LANGUAGE: { reason: 'other', says: true },
  NO_IMAGE: { reason: 'other', says: true },
  IMAGE_OTHER: { reason: 'other', says: true },
  OTHER: { reason: 'other', says: true },
};

/**
 * Every BlockedReason of `@google/genai` (its ES module is loaded by test()'s callbacks: this file is
 * CommonJS); the list is checked against the SDK's enum below.
 */
const BLOCKED_REASONS = ['SAFETY', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'IMAGE_SAFETY', 'MODEL_ARMOR', 'JAILBREAK'];

describe('Gemini endings -> neutral finish with a message', () => {
  test('the tables cover every FinishReason and BlockedReason of @google/genai', async () => {
    const { BlockedReason, FinishReason: GoogleFinishReason } = await import('@google/genai');
    assert.deepEqual(Object.values(BlockedReason).filter((value) => value !== 'BLOCKED_REASON_UNSPECIFIED' && !BLOCKED_REASONS.includes(value)), []);
    const missing = Object.values(GoogleFinishReason).filter((value) => value !== 'FINISH_REASON_UNSPECIFIED' && !(value in FINISH_ROWS));
    assert.deepEqual(missing, []);
  });
  for (const [raw, row] of Object.entries(FINISH_ROWS)) {
    for (const stream of [true, false]) {
      test(`${raw} (${stream ? 'streamed' : 'whole'}) -> ${row.reason}${row.says ? ', with finishMessage or the reason in words' : ''}`, () => {
        const candidate = { content: { role: 'model', parts: [{ text: 'partial' }] }, finishReason: raw, finishMessage: `why ${raw}` };
        const body = stream ? sse({ candidates: [candidate], responseId: 'r1' }) : JSON.stringify({ candidates: [candidate], responseId: 'r1' });
        const finish = finishOf(decodeUpstream('gemini', body, stream));
        assert.equal(finish.reason, row.reason);
        assert.equal(finish.rawReason, raw);
        assert.equal(finish.message, row.says ? `Gemini stopped the answer (${raw}): why ${raw}` : undefined);
        if (!row.says) return;
        const { finishMessage: _, ...unexplained } = candidate;
        const bare = finishOf(decodeUpstream('gemini', JSON.stringify({ candidates: [unexplained] }), false));
        assert.match(bare.message ?? '', new RegExp(`^Gemini stopped the answer \\(${raw}\\): \\w`));
      });
    }
  }
  test('STOP after a function call is tool-calls, with no message', () => {
    const finish = finishOf(decodeUpstream('gemini', sse({ candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} } }] }, finishReason: 'STOP' }] }), true));
    assert.deepEqual([finish.reason, finish.message], ['tool-calls', undefined]);
  });
  for (const blocked of BLOCKED_REASONS) {
    test(`promptFeedback.blockReason ${blocked}, no candidates -> content-filter with blockReasonMessage, or the reason in words`, () => {
      const told = finishOf(decodeUpstream('gemini', JSON.stringify({ promptFeedback: { blockReason: blocked, blockReasonMessage: 'Blocked by Model Armor Floor Setting.' } }), false));
      assert.deepEqual([told.reason, told.rawReason, told.message], ['content-filter', blocked, `Gemini blocked the prompt (${blocked}): Blocked by Model Armor Floor Setting.`]);
      const bare = finishOf(decodeUpstream('gemini', sse({ promptFeedback: { blockReason: blocked } }), true));
      assert.match(bare.message ?? '', new RegExp(`^Gemini blocked the prompt \\(${blocked}\\): \\w`));
    });
  }
  test("Claude's refusal: stop_details.explanation becomes the message", () => {
    const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], stop_reason: 'refusal', stop_details: { type: 'refusal', category: 'cyber', explanation: 'This looks like malware.' }, usage: { input_tokens: 1, output_tokens: 0 } };
    assert.equal(finishOf(decodeUpstream('anthropic', JSON.stringify(message), false)).message, 'Claude declined to answer: This looks like malware.');
  });
});

const ARMOR = 'Blocked by Model Armor Floor Setting: The prompt violated Prompt Injection and Jailbreak filters.';
const ARMOR_SAYS = `Gemini blocked the prompt (MODEL_ARMOR): ${ARMOR}`;
const SAFETY_SAYS = 'Gemini stopped the answer (SAFETY): the answer may contain safety violations';
const LANGUAGE_SAYS = 'Gemini stopped the answer (LANGUAGE): Unsupported language.';
const MALFORMED_SAYS = "Gemini stopped the answer (MALFORMED_FUNCTION_CALL): Malformed function call: print(default_api.ls(path='.')";

/** Upstream Gemini chunks for each ending (sent as SSE when streamed, as the array-less whole body otherwise). */
const CASES: { name: string; chunks: object[] }[] = [
  { name: 'a blocked prompt (Vertex MODEL_ARMOR, no candidates)', chunks: [{ promptFeedback: { blockReason: 'MODEL_ARMOR', blockReasonMessage: ARMOR }, usageMetadata: { trafficType: 'ON_DEMAND' }, modelVersion: 'gemini-2.5-flash', responseId: 'OnyaaIPGOdSAm9IP47af2AI' }] },
  { name: 'SAFETY after some text', chunks: [{ candidates: [{ content: { role: 'model', parts: [{ text: 'Here is how' }] }, finishReason: 'SAFETY' }] }] },
  { name: 'LANGUAGE with a finishMessage, no text', chunks: [{ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'LANGUAGE', finishMessage: 'Unsupported language.' }] }] },
  { name: 'MALFORMED_FUNCTION_CALL with a finishMessage', chunks: [{ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: "Malformed function call: print(default_api.ls(path='.')" }] }] },
];

const bodyFor = (chunks: object[], stream: boolean): string => (stream ? sse(...chunks) : JSON.stringify(chunks.length === 1 ? chunks[0] : chunks));
const through = (client: 'anthropic' | 'chat' | 'responses', chunks: object[], stream: boolean): string => encodeFor(client, decodeUpstream('gemini', bodyFor(chunks, stream), stream), stream);

describe('Anthropic clients read why: stop_reason, stop_details and text', () => {
  const want = [
    { content: [{ type: 'text', text: ARMOR_SAYS }], stop_reason: 'refusal', stop_details: { type: 'refusal', category: null, explanation: ARMOR_SAYS } },
    { content: [{ type: 'text', text: 'Here is how' }], stop_reason: 'refusal', stop_details: { type: 'refusal', category: null, explanation: SAFETY_SAYS } },
    { content: [{ type: 'text', text: LANGUAGE_SAYS }], stop_reason: 'end_turn' },
    { content: [{ type: 'text', text: MALFORMED_SAYS }], stop_reason: 'end_turn' },
  ];
  CASES.forEach(({ name, chunks }, i) => {
    for (const stream of [true, false]) {
      test(`${name}, ${stream ? 'streamed' : 'whole'}`, async () => {
        const body = through('anthropic', chunks, stream);
        if (stream && i === 3) {
          // A failure after the stream started is Anthropic's `error` event: the SDK throws with the message.
          await assert.rejects(anthropicReads(body, stream), (err: Error) => err.message.includes(MALFORMED_SAYS));
          return;
        }
        const message = await anthropicReads(body, stream);
        assert.deepEqual(message.content.map(({ type, text }: { type: string; text?: string }) => ({ type, text })), want[i]!.content);
        assert.equal(message.stop_reason, want[i]!.stop_reason);
        assert.deepEqual(message.stop_details ?? undefined, want[i]!.stop_details);
      });
    }
  });
});

describe('OpenAI Chat clients read why: refusal, or the message in content', () => {
  const want = [
    { content: null, refusal: ARMOR_SAYS, finish: 'content_filter' },
    { content: 'Here is how', refusal: SAFETY_SAYS, finish: 'content_filter' },
    { content: LANGUAGE_SAYS, refusal: null, finish: 'stop' },
    { content: MALFORMED_SAYS, refusal: null, finish: 'stop' },
  ];
  CASES.forEach(({ name, chunks }, i) => {
    for (const stream of [true, false]) {
      test(`${name}, ${stream ? 'streamed' : 'whole'}`, async () => {
        const completion = await chatReads(through('chat', chunks, stream), stream);
        const choice = completion.choices[0]!;
        // A stream starts with `content: ""`; a whole answer without text says null.
        assert.equal(choice.message.content || null, want[i]!.content);
        assert.equal(choice.message.refusal ?? null, want[i]!.refusal);
        assert.equal(choice.finish_reason, want[i]!.finish);
      });
    }
  });
});

describe('OpenAI Responses clients read why: incomplete_details with a refusal part, the message as text, or error.message', () => {
  const refusal = (text: string) => ({ type: 'message', content: [{ type: 'refusal', refusal: text }] });
  const said = (text: string) => ({ type: 'message', content: [{ type: 'output_text', text }] });
  const want = [
    { status: 'incomplete', incomplete: 'content_filter', output: [refusal(ARMOR_SAYS)] },
    { status: 'incomplete', incomplete: 'content_filter', output: [said('Here is how'), refusal(SAFETY_SAYS)] },
    { status: 'completed', incomplete: undefined, output: [said(LANGUAGE_SAYS)] },
    { status: 'failed', incomplete: undefined, output: [], error: MALFORMED_SAYS },
  ];
  CASES.forEach(({ name, chunks }, i) => {
    for (const stream of [true, false]) {
      test(`${name}, ${stream ? 'streamed' : 'whole'}`, async () => {
        const { response, events } = await responsesReads(through('responses', chunks, stream), stream);
        assert.equal(response.status, want[i]!.status);
        assert.equal(response.incomplete_details?.reason, want[i]!.incomplete);
        const output = response.output.map((item) => ({
          type: item.type,
          content: item.type === 'message' ? item.content.map((part) => (part.type === 'refusal' ? { type: part.type, refusal: part.refusal } : { type: part.type, text: part.text })) : [],
        }));
        assert.deepEqual(output, want[i]!.output);
        if (want[i]!.error) assert.equal(response.error?.message, want[i]!.error);
        if (stream && want[i]!.output.some((item) => item.content[0]!.type === 'refusal')) {
          assert.ok(events.includes('response.refusal.delta') && events.includes('response.refusal.done'), events.join(' '));
        }
      });
    }
  });
});
