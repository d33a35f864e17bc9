/**
 * Grounded answers keep their sources (issue 16, item 6): Gemini's `groundingMetadata` (web
 * sources, and supports whose segments count UTF-8 bytes) becomes Anthropic `citations` on the text
 * block, Chat `url_citation` annotations and Responses `output_text` annotations, streamed and
 * whole, with offsets in characters. Read by the clients' real SDKs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectAnswer } from '../../src/protocols/conversation';
import { loadRecording } from '../fakes/replay';
import { anthropicReads, chatReads, decodeUpstream, encodeFor, responsesReads } from '../helpers/client-view';

const TEXT = "Spain won Euro 2024, defeating England 2–1 in the final. It was Spain's fourth European title — a record.";
const FIRST = 'Spain won Euro 2024, defeating England 2–1 in the final.';
const SECOND = "It was Spain's fourth European title — a record.";
const UEFA = 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/AUZIYQExampleRedirectToken1';
const ALJAZEERA = 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/AUZIYQExampleRedirectToken2';

/** The three citations: the first sentence from one source, the second from two; offsets in characters. */
const CITED = [
  { url: UEFA, title: 'uefa.com', text: FIRST, start: 0, end: 56 },
  { url: UEFA, title: 'uefa.com', text: SECOND, start: 57, end: 105 },
  { url: ALJAZEERA, title: 'aljazeera.com', text: SECOND, start: 57, end: 105 },
];

const body = (stream: boolean): string => loadRecording(stream ? 'built/gemini-grounded.chunks.txt' : 'built/gemini-grounded.json').body;
const through = (client: 'anthropic' | 'chat' | 'responses', stream: boolean): string => encodeFor(client, decodeUpstream('gemini', body(stream), stream), stream);
const modes = [true, false];

describe('Gemini groundingMetadata -> neutral citations', () => {
  for (const stream of modes) {
    test(`byte offsets become character offsets on the text part (${stream ? 'streamed' : 'whole'})`, () => {
      const answer = collectAnswer(decodeUpstream('gemini', body(stream), stream));
      assert.equal(answer.parts.length, 1);
      const part = answer.parts[0]!;
      assert.ok(part.type === 'text');
      assert.equal(part.text, TEXT);
      assert.deepEqual(
        part.citations?.map((c) => ({ url: c.url, title: c.title, text: c.citedText, start: c.start, end: c.end })),
        CITED,
      );
      for (const c of part.citations ?? []) assert.equal([...TEXT].slice(c.start, c.end).join(''), c.citedText);
    });
  }
  test('a support past the text, or naming a chunk that is not there, makes no citation', () => {
    const chunk = {
      candidates: [{ content: { parts: [{ text: 'short' }] }, finishReason: 'STOP', groundingMetadata: {
        groundingChunks: [{ web: { uri: 'https://a.example', title: 'a' } }],
        groundingSupports: [{ segment: { startIndex: 40, endIndex: 50 }, groundingChunkIndices: [0] }, { segment: { startIndex: 0, endIndex: 5 }, groundingChunkIndices: [3] }],
      } }],
    };
    const answer = collectAnswer(decodeUpstream('gemini', JSON.stringify(chunk), false));
    assert.deepEqual(answer.parts, [{ type: 'text', text: 'short' }]);
  });
});

describe('Anthropic clients: web_search_result_location citations on the text block', () => {
  for (const stream of modes) {
    test(stream ? 'streamed (citations_delta)' : 'whole', async () => {
      const message = await anthropicReads(through('anthropic', stream), stream);
      assert.equal(message.content.length, 1);
      const block = message.content[0]!;
      assert.ok(block.type === 'text');
      assert.equal(block.text, TEXT);
      assert.deepEqual(
        block.citations?.map((c) => (c.type === 'web_search_result_location' ? { url: c.url, title: c.title, text: c.cited_text } : c)),
        CITED.map(({ url, title, text }) => ({ url, title, text })),
      );
    });
  }
});

describe('OpenAI Chat clients: url_citation annotations, offsets in characters of content', () => {
  for (const stream of modes) {
    test(stream ? 'streamed' : 'whole', async () => {
      const completion = await chatReads(through('chat', stream), stream);
      const message = completion.choices[0]!.message;
      assert.equal(message.content, TEXT);
      assert.deepEqual(
        message.annotations?.map((a) => ({ url: a.url_citation.url, title: a.url_citation.title, text: [...TEXT].slice(a.url_citation.start_index, a.url_citation.end_index).join(''), start: a.url_citation.start_index, end: a.url_citation.end_index })),
        CITED,
      );
    });
  }
});

describe('OpenAI Responses clients: url_citation annotations on output_text', () => {
  for (const stream of modes) {
    test(stream ? 'streamed (response.output_text.annotation.added)' : 'whole', async () => {
      const { response, events } = await responsesReads(through('responses', stream), stream);
      assert.equal(response.output_text, TEXT);
      const message = response.output.find((item) => item.type === 'message');
      assert.ok(message?.type === 'message');
      const part = message.content[0]!;
      assert.ok(part.type === 'output_text');
      assert.deepEqual(
        part.annotations.map((a) => (a.type === 'url_citation' ? { url: a.url, title: a.title, text: [...TEXT].slice(a.start_index, a.end_index).join(''), start: a.start_index, end: a.end_index } : a)),
        CITED,
      );
      if (stream) assert.equal(events.filter((type) => type === 'response.output_text.annotation.added').length, 3);
    });
  }
});
